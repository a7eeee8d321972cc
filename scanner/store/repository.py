"""Read and write scans. The only module that turns domain dataclasses into rows and back.

    repo = Repository.from_url("sqlite:///liqscan.db")   # raises if not migrated
    scan_id = repo.save_scan(record, positions, bins, bands, discovered, cursor_block)
    positions = repo.load_positions(scan_id, axis="ETH", near_8dec=2_000 * 10**8, limit=20)

`save_scan` is one transaction: the scan header, its positions / bins / bands, the newly
discovered accounts and the discovery cursor are written together or not at all, so the cursor
can never run ahead of the data it describes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from scanner.domain import Band, HistogramBin, MarketIdentity, PositionResult, ScanRecord
from scanner.errors import DatabaseError, InconsistentDataError, UsageError
from scanner.store import rows
from scanner.store.db import make_engine, require_current, safe_url
from scanner.store.models import (
    BandRow,
    DiscoveredAccount,
    DiscoveryCursor,
    HistogramBinRow,
    MarketIdentityRow,
    PositionRow,
    ScanRow,
)

SCANS = cast(Table, ScanRow.__table__)
POSITIONS = cast(Table, PositionRow.__table__)
BINS = cast(Table, HistogramBinRow.__table__)
BANDS = cast(Table, BandRow.__table__)
CURSORS = cast(Table, DiscoveryCursor.__table__)
ACCOUNTS = cast(Table, DiscoveredAccount.__table__)
IDENTITIES = cast(Table, MarketIdentityRow.__table__)

COMPLETE = "complete"


class ScanNotFoundError(UsageError):
    """No scan with the requested id."""


class ScanAlreadyStoredError(InconsistentDataError):
    """A scan of this market at this block is stored already (perhaps by a concurrent run)."""

    def __init__(self, message: str, scan_id: int) -> None:
        super().__init__(message)
        self.scan_id = scan_id


@dataclass(frozen=True)
class StoredScan:
    """A scan header as stored, with its id and row counts."""

    scan_id: int
    record: ScanRecord
    created_at: datetime
    position_count: int
    bin_count: int
    band_count: int


class Repository:
    """All database access of liqscan, on top of a migrated Engine."""

    def __init__(self, engine: Engine) -> None:
        require_current(engine)
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> Repository:
        return cls(make_engine(url))

    # --- write ---------------------------------------------------------------------------

    def save_scan(
        self,
        scan: ScanRecord,
        positions: Sequence[PositionResult],
        bins: Sequence[HistogramBin],
        bands: Sequence[Band],
        discovered: Mapping[str, int],
        cursor_block: int | None,
        identity: MarketIdentity | None = None,
    ) -> int:
        """Write one scan, its newly discovered accounts, the discovery cursor (None: leave it)
        and the market identity (None: leave it), atomically. Returns the scan id.

        Raises ScanAlreadyStoredError when the block is stored already, also when a concurrent
        run stored it between our check and our commit."""
        write = (scan, positions, bins, bands, discovered, cursor_block, identity)
        try:
            return self._save_once(*write)
        except IntegrityError as exc:
            self._raise_if_stored(scan)
            # A concurrent scan of another block created the cursor or identity row first:
            # our transaction rolled back whole, and now sees that row, so once more.
            try:
                return self._save_once(*write)
            except IntegrityError:
                self._raise_if_stored(scan)
                raise self._constraint_error(scan, exc) from exc

    def _raise_if_stored(self, scan: ScanRecord) -> None:
        existing = self.find_scan(scan.market_key, scan.block)
        if existing is not None:
            raise ScanAlreadyStoredError(
                f"scan of {scan.market_key} at block {scan.block} is already stored as scan "
                f"{existing}: nothing was written", existing)

    @staticmethod
    def _constraint_error(scan: ScanRecord, exc: IntegrityError) -> InconsistentDataError:
        return InconsistentDataError(
            f"scan of {scan.market_key} at block {scan.block} violates a constraint, nothing "
            f"was written: {_first_line(exc.orig)}")

    def _save_once(
        self,
        scan: ScanRecord,
        positions: Sequence[PositionResult],
        bins: Sequence[HistogramBin],
        bands: Sequence[Band],
        discovered: Mapping[str, int],
        cursor_block: int | None,
        identity: MarketIdentity | None,
    ) -> int:
        where = f"scan of {scan.market_key} at block {scan.block}"
        try:
            with self.engine.begin() as conn:
                existing = self._find_scan(conn, scan.market_key, scan.block)
                if existing is not None:
                    raise ScanAlreadyStoredError(
                        f"{where} is already stored as scan {existing}: nothing was written",
                        existing)
                scan_id = self._insert_scan(conn, scan, len(positions), len(bins), len(bands))
                self._insert_many(
                    conn, POSITIONS, [rows.position_row(scan_id, p) for p in positions]
                )
                self._insert_many(conn, BINS, [rows.bin_row(scan_id, b) for b in bins])
                self._insert_many(conn, BANDS, [rows.band_row(scan_id, b) for b in bands])
                self._add_accounts(conn, scan.market_key, discovered)
                if cursor_block is not None:
                    self._advance_cursor(conn, scan.market_key, cursor_block)
                if identity is not None:
                    self._put_identity(conn, scan.market_key, identity)
                return scan_id
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise DatabaseError(
                f"{where} could not be written to {self._where()}: {_first_line(exc.orig)}"
            ) from exc
        except StatementError as exc:  # a value our column types refuse (e.g. > uint256)
            raise InconsistentDataError(
                f"{where} has a value the database cannot store exactly, nothing was written: "
                f"{_first_line(exc.orig)}"
            ) from exc

    @staticmethod
    def _put_identity(conn: Connection, market_key: str, identity: MarketIdentity) -> None:
        values = {
            "chain_id": identity.chain_id, "protocol": identity.protocol,
            "pool_addresses_provider": identity.pool_addresses_provider,
            "searched_from_block": identity.searched_from_block,
        }
        where = IDENTITIES.c.market_key == market_key
        if conn.execute(select(IDENTITIES.c.market_key).where(where)).first() is None:
            conn.execute(insert(IDENTITIES).values(market_key=market_key, **values))
        else:
            conn.execute(update(IDENTITIES).where(where).values(**values))

    def _insert_scan(
        self, conn: Connection, scan: ScanRecord, n_positions: int, n_bins: int, n_bands: int
    ) -> int:
        values = rows.scan_row(scan) | {
            "position_count": n_positions,
            "bin_count": n_bins,
            "band_count": n_bands,
        }
        result = conn.execute(insert(SCANS).values(**values))
        key = result.inserted_primary_key
        if key is None:
            raise DatabaseError(f"{self._where()} returned no id for the new scan")
        return int(key[0])

    @staticmethod
    def _insert_many(conn: Connection, table: Table, values: list[dict[str, Any]]) -> None:
        if values:  # executemany: one round of the driver's bulk path, not one INSERT per row
            conn.execute(insert(table), values)

    def _add_accounts(
        self, conn: Connection, market_key: str, discovered: Mapping[str, int]
    ) -> None:
        known = self._known_accounts(conn, market_key)
        new = [
            {"market_key": market_key, "account": account, "first_seen_block": block}
            for account, block in discovered.items()
            if account not in known
        ]
        self._insert_many(conn, ACCOUNTS, new)

    @staticmethod
    def _advance_cursor(conn: Connection, market_key: str, cursor_block: int) -> None:
        current = conn.execute(
            select(CURSORS.c.last_block).where(CURSORS.c.market_key == market_key)
        ).scalar_one_or_none()
        if current is None:
            conn.execute(insert(CURSORS).values(market_key=market_key, last_block=cursor_block))
        elif cursor_block > current:  # a re-scan of an older block never moves it back
            conn.execute(
                update(CURSORS)
                .where(CURSORS.c.market_key == market_key)
                .values(last_block=cursor_block)  # updated_at: the column's onupdate
            )

    # --- read: scans ---------------------------------------------------------------------

    def latest_scan_id(self, market_key: str | None = None) -> int | None:
        """The newest complete scan: highest block of `market_key`, or highest id overall."""
        query = select(SCANS.c.id).where(SCANS.c.status == COMPLETE)
        if market_key is not None:
            query = query.where(SCANS.c.market_key == market_key)
            query = query.order_by(SCANS.c.block.desc(), SCANS.c.id.desc())
        else:
            query = query.order_by(SCANS.c.id.desc())
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).scalar_one_or_none()

    def get_scan(self, scan_id: int) -> tuple[int, ScanRecord]:
        stored = self._stored_scan(scan_id)
        return stored.scan_id, stored.record

    def get_stored_scan(self, scan_id: int) -> StoredScan:
        return self._stored_scan(scan_id)

    def list_scans(self, market_key: str | None = None, limit: int = 50) -> list[StoredScan]:
        """Newest first."""
        query = select(SCANS).order_by(SCANS.c.id.desc()).limit(limit)
        if market_key is not None:
            query = query.where(SCANS.c.market_key == market_key)
        with self.engine.connect() as conn:
            return [rows.stored_scan(row, StoredScan) for row in conn.execute(query).mappings()]

    def find_scan(self, market_key: str, block: int) -> int | None:
        with self.engine.connect() as conn:
            return self._find_scan(conn, market_key, block)

    @staticmethod
    def _find_scan(conn: Connection, market_key: str, block: int) -> int | None:
        query = select(SCANS.c.id).where(SCANS.c.market_key == market_key, SCANS.c.block == block)
        return conn.execute(query).scalar_one_or_none()

    def _stored_scan(self, scan_id: int) -> StoredScan:
        with self.engine.connect() as conn:
            row = conn.execute(select(SCANS).where(SCANS.c.id == scan_id)).mappings().first()
        if row is None:
            raise ScanNotFoundError(f"no scan with id {scan_id} in {self._where()}")
        return rows.stored_scan(row, StoredScan)

    # --- read: rows of one scan ----------------------------------------------------------

    def load_positions(
        self,
        scan_id: int,
        axis: str | None = None,
        near_8dec: int | None = None,
        limit: int | None = None,
    ) -> list[PositionResult]:
        """Positions in insertion order, or (with `near_8dec`) those with a liquidation price,
        nearest that price first (ties: lower price, then account)."""
        self._stored_scan(scan_id)
        query = select(POSITIONS).where(POSITIONS.c.scan_id == scan_id)
        if axis is not None:
            query = query.where(POSITIONS.c.axis == axis)
        if near_8dec is None:
            query = query.order_by(POSITIONS.c.id).limit(limit)
            return self._positions(query)
        price = POSITIONS.c.liquidation_price_8dec
        # Fixed-width strings order like the numbers, so each side is an index range scan.
        above = self._positions(query.where(price >= near_8dec).order_by(price).limit(limit))
        below = self._positions(query.where(price < near_8dec).order_by(price.desc()).limit(limit))
        merged = sorted(above + below, key=lambda p: _distance_key(p, near_8dec))
        return merged if limit is None else merged[:limit]

    def _positions(self, query: Any) -> list[PositionResult]:
        with self.engine.connect() as conn:
            return [rows.position_from(row) for row in conn.execute(query).mappings()]

    def load_bins(self, scan_id: int, axis: str | None = None) -> list[HistogramBin]:
        query = self._rows_of(BINS, scan_id, axis).order_by(
            BINS.c.axis, BINS.c.direction, BINS.c.bin_index
        )
        with self.engine.connect() as conn:
            return [rows.bin_from(row) for row in conn.execute(query).mappings()]

    def load_bands(self, scan_id: int, axis: str | None = None) -> list[Band]:
        query = self._rows_of(BANDS, scan_id, axis).order_by(
            BANDS.c.axis, BANDS.c.direction, BANDS.c.rank
        )
        with self.engine.connect() as conn:
            return [rows.band_from(row) for row in conn.execute(query).mappings()]

    def scan_axes(self, scan_id: int) -> list[str]:
        """The axes scan `scan_id` has positions or bins on, sorted."""
        self._stored_scan(scan_id)
        with self.engine.connect() as conn:
            found = {axis for table in (POSITIONS, BINS) for (axis,) in conn.execute(
                select(table.c.axis).where(table.c.scan_id == scan_id).distinct())}
        return sorted(found)

    def _rows_of(self, table: Table, scan_id: int, axis: str | None) -> Any:
        self._stored_scan(scan_id)
        query = select(table).where(table.c.scan_id == scan_id)
        return query if axis is None else query.where(table.c.axis == axis)

    # --- read: discovery state -----------------------------------------------------------

    def get_cursor(self, market_key: str) -> int | None:
        query = select(CURSORS.c.last_block).where(CURSORS.c.market_key == market_key)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def get_identity(self, market_key: str) -> MarketIdentity | None:
        query = select(IDENTITIES).where(IDENTITIES.c.market_key == market_key)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return MarketIdentity(
            chain_id=row["chain_id"], protocol=row["protocol"],
            pool_addresses_provider=row["pool_addresses_provider"],
            searched_from_block=row["searched_from_block"],
        )

    def known_accounts(self, market_key: str) -> dict[str, int]:
        """account -> first block it was seen in."""
        with self.engine.connect() as conn:
            return self._known_accounts(conn, market_key)

    @staticmethod
    def _known_accounts(conn: Connection, market_key: str) -> dict[str, int]:
        query = select(ACCOUNTS.c.account, ACCOUNTS.c.first_seen_block).where(
            ACCOUNTS.c.market_key == market_key
        )
        return {account: block for account, block in conn.execute(query)}

    def _where(self) -> str:
        return safe_url(self.engine.url.render_as_string(hide_password=False))


def stored_scan_count(engine: Engine) -> int:
    """Scans stored in a database at any revision (0 when it has no scans table)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(SCANS.name):
            return 0
        return int(conn.execute(select(func.count()).select_from(SCANS)).scalar_one())


def _distance_key(position: PositionResult, near_8dec: int) -> tuple[int, int, str]:
    price = position.liquidation_price_8dec
    if price is None:
        raise InconsistentDataError(f"position of {position.account} lost its liquidation price")
    return abs(price - near_8dec), price, position.account


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() else "?"

"""Read and write snapshots. The only module that turns domain dataclasses into rows and back,
with `snapshot_reads` (the reads `liqscan bands` makes, as SQL text the stdlib sqlite3 runs
too), to which the snapshot header, bins, bands and axes reads delegate.

    repo = Repository.from_url("sqlite:///liqscan.db")   # raises if not migrated
    snapshot_id = repo.save_snapshot(snapshot, [MarketScan(...), ...], bins, bands)
    snapshot_id = repo.latest_snapshot_id()              # the one definition of "latest"
    positions = repo.load_positions(snapshot_id, axis="ETH", near_8dec=2_000 * 10**8, limit=20)

`save_snapshot` is one transaction: the snapshot, each market's scan and positions, the bins
and bands with their per-market shares, the newly discovered accounts and each market's
discovery cursor are written together or not at all, so a cursor never runs ahead of the data
it describes and a snapshot never lacks a market.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from scanner.domain import (
    Band,
    HistogramBin,
    MarketIdentity,
    PositionResult,
    ScanRecord,
    SnapshotRecord,
)
from scanner.errors import DatabaseError, InconsistentDataError
from scanner.store import bulk, rows, tables, tracks
from scanner.store.db import make_engine, require_current, safe_url
from scanner.store.snapshot_reads import ScanNotFoundError as ScanNotFoundError  # re-exported
from scanner.store.snapshot_reads import SnapshotReads
from scanner.store.snapshot_reads import StoredSnapshot as StoredSnapshot  # re-exported
from scanner.store.snapshot_reads import market_of as market_of  # re-exported

SNAPSHOTS = tables.SNAPSHOTS
SCANS = tables.SCANS
POSITIONS = tables.POSITIONS
BINS = tables.HISTOGRAM_BINS
BANDS = tables.BANDS
BIN_SHARES = tables.BIN_SHARES
BAND_SHARES = tables.BAND_SHARES
CURSORS = tables.DISCOVERY_CURSORS
ACCOUNTS = tables.DISCOVERED_ACCOUNTS
IDENTITIES = tables.MARKET_IDENTITIES
HASHES = tables.SCAN_BLOCK_HASHES

COMPLETE = "complete"


class SnapshotAlreadyStoredError(InconsistentDataError):
    """The same snapshot is stored already (perhaps by a concurrent run)."""

    def __init__(self, message: str, snapshot_id: int) -> None:
        super().__init__(message)
        self.snapshot_id = snapshot_id


@dataclass(frozen=True)
class MarketScan:
    """One market's part of a snapshot to save."""

    record: ScanRecord
    positions: Sequence[PositionResult]
    # account -> first block, or (submarket, account) -> first block (see DiscoveredAccount)
    discovered: Mapping[Any, int] = field(default_factory=dict)
    cursor_block: int | None = None  # advance the market's discovery cursor to this block
    identity: MarketIdentity | None = None  # store as the market's identity (None: leave it)
    block_hash: str | None = None  # hash of the scan's block (and of cursor_block, if equal)
    rewind_cursor: bool = False  # move the cursor even backwards (after a reorg below it)


class Repository:
    """All database access of liqscan, on top of a migrated Engine."""

    def __init__(self, engine: Engine) -> None:
        require_current(engine)
        self.engine = engine
        # the snapshot reads `liqscan bands` makes: SQL text shared with scanner.store.lite
        self.reads = SnapshotReads(_EngineReader(self))

    @classmethod
    def from_url(cls, url: str) -> Repository:
        return cls(make_engine(url))

    # --- write ---------------------------------------------------------------------------

    def save_snapshot(
        self,
        snapshot: SnapshotRecord,
        scans: Sequence[MarketScan],
        bins: Sequence[HistogramBin],
        bands: Sequence[Band],
    ) -> int:
        """Write one snapshot, advance the discovery cursors and store the market identities,
        atomically. Returns its id.

        Raises SnapshotAlreadyStoredError when the same snapshot (chain, block, markets, bins
        and bands) is stored already, also when a concurrent run stored it between our check
        and our commit: the unique key on (chain, block, content_digest) decides the race."""
        keys = [s.record.market_key for s in scans]
        where = f"snapshot of {', '.join(keys) or 'no market'} at block {snapshot.block}"
        if snapshot.market_keys != tuple(keys):
            raise InconsistentDataError(f"{where}: the header lists other markets")
        digest = snapshot_digest(snapshot, bins, bands)
        write = (snapshot, scans, bins, bands, digest, where)
        try:
            return self._save_once(*write)
        except IntegrityError as exc:
            self._raise_if_stored(snapshot, digest, where)
            # A concurrent scan of another block created a cursor or identity row first: our
            # transaction rolled back whole and now sees that row, so once more.
            try:
                return self._save_once(*write)
            except IntegrityError:
                self._raise_if_stored(snapshot, digest, where)
                raise InconsistentDataError(
                    f"{where} violates a constraint, nothing was written: "
                    f"{_first_line(exc.orig)}") from exc

    def _raise_if_stored(self, snapshot: SnapshotRecord, digest: str, where: str) -> None:
        query = select(SNAPSHOTS.c.id).where(
            SNAPSHOTS.c.chain == snapshot.chain, SNAPSHOTS.c.block == snapshot.block,
            SNAPSHOTS.c.content_digest == digest)
        with self.engine.connect() as conn:
            existing = conn.execute(query).scalar_one_or_none()
        if existing is not None:
            raise SnapshotAlreadyStoredError(
                f"{where} is already stored as snapshot {existing}: nothing was written",
                int(existing))

    def _save_once(
        self,
        snapshot: SnapshotRecord,
        scans: Sequence[MarketScan],
        bins: Sequence[HistogramBin],
        bands: Sequence[Band],
        digest: str,
        where: str,
    ) -> int:
        try:
            with self.engine.begin() as conn:
                snapshot_id = self._insert_snapshot(conn, snapshot, scans, bins, bands, digest)
                for scan in scans:
                    self._insert_scan(conn, snapshot_id, scan)
                tracks.insert_axes(conn, tracks.axis_rows(
                    snapshot_id, [p for s in scans for p in s.positions]))
                self._insert_bins(conn, snapshot_id, bins)
                self._insert_bands(conn, snapshot_id,
                                   tracks.linked_bands(conn, snapshot_id, snapshot, bands))
                return snapshot_id
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
        """A snapshot of one market (returns the snapshot id)."""
        snapshot = SnapshotRecord(chain=scan.chain, chain_id=scan.chain_id, block=scan.block,
                                  block_timestamp=scan.block_timestamp, markets=(scan,),
                                  status=scan.status)
        return self.save_snapshot(
            snapshot, [MarketScan(scan, positions, discovered, cursor_block, identity)], bins,
            bands)

    def _insert_snapshot(self, conn: Connection, snapshot: SnapshotRecord,
                         scans: Sequence[MarketScan], bins: Sequence[HistogramBin],
                         bands: Sequence[Band], digest: str) -> int:
        values = rows.snapshot_row(snapshot) | {
            "content_digest": digest,
            "position_count": sum(len(s.positions) for s in scans),
            "bin_count": len(bins),
            "band_count": len(bands),
        }
        return self._insert_one(conn, SNAPSHOTS, values)

    def _insert_scan(self, conn: Connection, snapshot_id: int, scan: MarketScan) -> None:
        values = rows.scan_row(scan.record) | {"snapshot_id": snapshot_id,
                                               "position_count": len(scan.positions)}
        scan_id = self._insert_one(conn, SCANS, values)
        bulk.insert_columns(conn, POSITIONS, rows.position_columns(scan_id, scan.positions))
        if scan.block_hash is not None:
            conn.execute(insert(HASHES).values(scan_id=scan_id, block_hash=scan.block_hash))
        self._add_accounts(conn, scan.record.market_key, scan.discovered)
        if scan.cursor_block is not None:
            cursor_hash = scan.block_hash if scan.cursor_block == scan.record.block else None
            self._advance_cursor(conn, scan.record.market_key, scan.cursor_block, cursor_hash,
                                 scan.rewind_cursor)
        if scan.identity is not None:
            self._put_identity(conn, scan.record.market_key, scan.identity)

    def _insert_bins(self, conn: Connection, snapshot_id: int, bins: Sequence[HistogramBin]
                     ) -> None:
        ids = self._insert_returning_ids(conn, BINS, [rows.bin_row(snapshot_id, b) for b in bins])
        self._insert_many(conn, BIN_SHARES, [rows.share_row("bin_id", bin_id, s)
                                             for bin_id, b in zip(ids, bins, strict=True)
                                             for s in b.shares])

    def _insert_bands(self, conn: Connection, snapshot_id: int, bands: Sequence[Band]) -> None:
        ids = self._insert_returning_ids(conn, BANDS,
                                         [rows.band_row(snapshot_id, b) for b in bands])
        tracks.start_new_tracks(conn, ids, bands)
        self._insert_many(conn, BAND_SHARES, [rows.share_row("band_id", band_id, s)
                                              for band_id, b in zip(ids, bands, strict=True)
                                              for s in b.shares])

    @staticmethod
    def _insert_returning_ids(conn: Connection, table: Table, values: list[dict[str, Any]]
                              ) -> list[int]:
        """One bulk INSERT; the new ids in the order of `values`."""
        if not values:
            return []
        query = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [int(i) for i in conn.execute(query, values).scalars()]

    def _insert_one(self, conn: Connection, table: Table, values: dict[str, Any]) -> int:
        key = conn.execute(insert(table).values(**values)).inserted_primary_key
        if key is None:
            raise DatabaseError(f"{self._where()} returned no id for a new {table.name} row")
        return int(key[0])

    @staticmethod
    def _insert_many(conn: Connection, table: Table, values: list[dict[str, Any]]) -> None:
        # raw executemany (SQLite) or COPY (PostgreSQL), in this transaction
        bulk.insert_rows(conn, table, values)

    def _add_accounts(
        self, conn: Connection, market_key: str, discovered: Mapping[Any, int]
    ) -> None:
        """`discovered`: account -> block, or (submarket, account) -> block."""
        if not discovered:  # the usual daemon snapshot: no read of every known borrower
            return
        known = self._known_borrowers(conn, market_key)
        new = [
            {"market_key": market_key, "submarket": submarket, "account": account,
             "first_seen_block": block}
            for (submarket, account), block in _borrowers(discovered).items()
            if (submarket, account) not in known
        ]
        self._insert_many(conn, ACCOUNTS, new)

    @staticmethod
    def _advance_cursor(conn: Connection, market_key: str, cursor_block: int,
                        cursor_hash: str | None, rewind: bool) -> None:
        current = conn.execute(
            select(CURSORS.c.last_block).where(CURSORS.c.market_key == market_key)
        ).scalar_one_or_none()
        values = {"last_block": cursor_block, "last_block_hash": cursor_hash}
        if current is None:
            conn.execute(insert(CURSORS).values(market_key=market_key, **values))
        elif cursor_block > current or rewind:  # a re-scan of an older block never moves it back
            conn.execute(
                update(CURSORS)
                .where(CURSORS.c.market_key == market_key)
                .values(**values)  # updated_at: the column's onupdate
            )

    # --- read: snapshots -----------------------------------------------------------------

    def latest_snapshot_id(self, chain: str | None = None) -> int | None:
        """THE latest snapshot of `chain` (SnapshotReads.latest_snapshot_id)."""
        return self.reads.latest_snapshot_id(chain)

    def chains(self) -> list[str]:
        """Chains with at least one complete snapshot."""
        return self.reads.chains()

    def get_snapshot(self, snapshot_id: int) -> StoredSnapshot:
        return self.reads.get_snapshot(snapshot_id)

    def list_snapshots(self, chain: str | None = None, limit: int = 50) -> list[StoredSnapshot]:
        """Newest first (by id)."""
        query = select(SNAPSHOTS.c.id).order_by(SNAPSHOTS.c.id.desc()).limit(limit)
        if chain is not None:
            query = query.where(SNAPSHOTS.c.chain == chain)
        with self.engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        return [self.get_snapshot(i) for i in ids]

    def find_snapshot(self, chain: str, block: int, market_keys: Sequence[str]) -> int | None:
        """A complete snapshot of exactly these markets at `block` (the newest if several)."""
        query = (select(SNAPSHOTS.c.id)
                 .where(SNAPSHOTS.c.chain == chain, SNAPSHOTS.c.block == block,
                        SNAPSHOTS.c.status == COMPLETE)
                 .order_by(SNAPSHOTS.c.id.desc()))
        with self.engine.connect() as conn:
            candidates = list(conn.execute(query).scalars())
        for snapshot_id in candidates:
            keys = [r.market_key for r in self.reads.scan_records(snapshot_id)]
            if sorted(keys) == sorted(market_keys):
                return int(snapshot_id)
        return None

    def find_scan(self, market_key: str, block: int) -> int | None:
        """The newest stored scan of `market_key` at `block`."""
        query = (select(SCANS.c.id).where(SCANS.c.market_key == market_key,
                                          SCANS.c.block == block)
                 .order_by(SCANS.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def scan_ids(self, snapshot_id: int) -> dict[str, int]:
        """market key -> scan id, for the markets of a snapshot."""
        query = select(SCANS.c.market_key, SCANS.c.id).where(SCANS.c.snapshot_id == snapshot_id)
        with self.engine.connect() as conn:
            return {key: scan_id for key, scan_id in conn.execute(query)}

    # --- read: rows of one snapshot ------------------------------------------------------

    def load_positions(
        self,
        snapshot_id: int,
        axis: str | None = None,
        near_8dec: int | None = None,
        limit: int | None = None,
        market_key: str | None = None,
    ) -> list[PositionResult]:
        """Positions of every market in insertion order, or (with `near_8dec`) those with a
        liquidation price, nearest that price first (ties: lower price, then account)."""
        self.get_snapshot(snapshot_id)
        scans = select(SCANS.c.id).where(SCANS.c.snapshot_id == snapshot_id)
        if market_key is not None:
            scans = scans.where(SCANS.c.market_key == market_key)
        query = select(POSITIONS).where(POSITIONS.c.scan_id.in_(scans))
        return self._query_positions(query, axis, near_8dec, limit)

    def load_scan_positions(self, scan_id: int) -> list[PositionResult]:
        """Positions of one market's scan, in insertion order."""
        return self._query_positions(select(POSITIONS).where(POSITIONS.c.scan_id == scan_id),
                                     None, None, None)

    def _query_positions(self, query: Any, axis: str | None, near_8dec: int | None,
                         limit: int | None) -> list[PositionResult]:
        if axis is not None:
            query = query.where(POSITIONS.c.axis == axis)
        if near_8dec is None:
            return self._positions(query.order_by(POSITIONS.c.id).limit(limit))
        price = POSITIONS.c.liquidation_price_8dec
        # Fixed-width strings order like the numbers, so each side is an index range scan.
        above = self._positions(query.where(price >= near_8dec).order_by(price).limit(limit))
        below = self._positions(query.where(price < near_8dec).order_by(price.desc()).limit(limit))
        merged = sorted(above + below, key=lambda p: _distance_key(p, near_8dec))
        return merged if limit is None else merged[:limit]

    def _positions(self, query: Any) -> list[PositionResult]:
        with self.engine.connect() as conn:
            return [rows.position_from(row) for row in conn.execute(query).mappings()]

    def load_bins(self, snapshot_id: int, axis: str | None = None) -> list[HistogramBin]:
        return self.reads.load_bins(snapshot_id, axis)

    def load_bands(self, snapshot_id: int, axis: str | None = None) -> list[Band]:
        return self.reads.load_bands(snapshot_id, axis)

    def stored_axes(self, snapshot_id: int) -> list[str]:
        """The axes snapshot `snapshot_id` has positions or bins on, sorted."""
        return self.reads.stored_axes(snapshot_id)

    def count_snapshots(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(SNAPSHOTS)).scalar_one())

    # --- read: discovery state -----------------------------------------------------------

    def get_cursor_state(self, market_key: str) -> tuple[int, str | None] | None:
        """(last searched block, its hash when known), or None before the first scan."""
        query = select(CURSORS.c.last_block, CURSORS.c.last_block_hash).where(
            CURSORS.c.market_key == market_key)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (int(row[0]), row[1])

    def scan_block_hashes(self, market_key: str) -> dict[int, str]:
        """block -> hash of every stored scan of `market_key` that recorded one."""
        query = select(SCANS.c.block, HASHES.c.block_hash).join(
            HASHES, HASHES.c.scan_id == SCANS.c.id).where(SCANS.c.market_key == market_key)
        with self.engine.connect() as conn:
            return {int(block): str(block_hash) for block, block_hash in conn.execute(query)}

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
        found: dict[str, int] = {}
        for (_submarket, account), block in Repository._known_borrowers(conn, market_key).items():
            found[account] = min(block, found.get(account, block))
        return found

    def known_borrowers(self, market_key: str) -> dict[tuple[str, str], int]:
        """(submarket, account) -> first block seen; submarket "" means every submarket."""
        with self.engine.connect() as conn:
            return self._known_borrowers(conn, market_key)

    @staticmethod
    def _known_borrowers(conn: Connection, market_key: str) -> dict[tuple[str, str], int]:
        query = select(ACCOUNTS.c.submarket, ACCOUNTS.c.account,
                       ACCOUNTS.c.first_seen_block).where(ACCOUNTS.c.market_key == market_key)
        return {(submarket, account): block for submarket, account, block in conn.execute(query)}

    def _where(self) -> str:
        return safe_url(self.engine.url.render_as_string(hide_password=False))


class _EngineReader:
    """SnapshotReads' statements through SQLAlchemy (`text()`, so the driver's raw values)."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    @property
    def where(self) -> str:
        return self.repo._where()

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self.repo.engine.connect() as conn:
            return [dict(r) for r in conn.execute(_text(sql), params).mappings()]


@lru_cache(maxsize=64)
def _text(sql: str) -> Any:
    return text(sql)


def _borrowers(discovered: Mapping[Any, int]) -> dict[tuple[str, str], int]:
    """Keys as (submarket, account): a bare account is ("", account)."""
    return {(key if isinstance(key, tuple) else ("", key)): block
            for key, block in discovered.items()}


def stored_scan_count(engine: Engine) -> int:
    """Scans stored in a database at any revision (0 when it has no scans table)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(SCANS.name):
            return 0
        return int(conn.execute(select(func.count()).select_from(SCANS)).scalar_one())


def snapshot_digest(
    snapshot: SnapshotRecord, bins: Sequence[HistogramBin], bands: Sequence[Band]
) -> str:
    """What makes two snapshots of one chain and block the same: their markets, status, bins
    and bands (in a canonical order). Two runs that computed the same snapshot get the same
    digest, so the database's unique key lets exactly one of them store it."""
    parts = [sorted(snapshot.market_keys), snapshot.status,
             sorted(repr(b) for b in bins), sorted(repr(b) for b in bands)]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _distance_key(position: PositionResult, near_8dec: int) -> tuple[int, int, str]:
    price = position.liquidation_price_8dec
    if price is None:
        raise InconsistentDataError(f"position of {position.account} lost its liquidation price")
    return abs(price - near_8dec), price, position.account


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() else "?"

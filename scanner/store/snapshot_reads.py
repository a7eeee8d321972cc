"""The reads of one stored snapshot that `liqscan bands` makes: its header, the latest one of a
chain, its axes, bins and bands. Each statement is plain SQL text with named `:param`s, held here
only, and run by a `Reader`: SQLAlchemy's `text()` on the Repository's engine (every backend),
or the stdlib `sqlite3` (`scanner.store.lite`), which answers `liqscan bands` on SQLite without
importing SQLAlchemy (~0.4 s of start-up). The values come back as the driver gives them and
are decoded here the way the column types would: `Uint256` strings to ints, SQLite's
`created_at` text to a datetime.

    reads = SnapshotReads(reader)
    snapshot_id = reads.latest_snapshot_id("ethereum")
    bands = reads.load_bands(snapshot_id, "ETH")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from scanner.domain import Band, HistogramBin, ScanRecord, Share, SnapshotRecord
from scanner.errors import UsageError
from scanner.store import rows

COMPLETE = "complete"
Row = dict[str, Any]


class Reader(Protocol):
    """Runs one SELECT with named parameters; rows as dicts keyed by column name."""

    @property
    def where(self) -> str:
        """The database, for messages (no password)."""

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[Row]: ...


class ScanNotFoundError(UsageError):
    """No snapshot with the requested id."""


@dataclass(frozen=True)
class StoredSnapshot:
    """A snapshot header as stored, with its id, its markets and row counts."""

    snapshot_id: int
    record: SnapshotRecord
    created_at: datetime
    position_count: int
    bin_count: int
    band_count: int


@dataclass(frozen=True)
class AxisTotals:
    axis: str
    price_now_8dec: int
    at_risk_positions: int
    at_risk_collateral_usd_8dec: int
    liquidatable_now_positions: int
    liquidatable_now_collateral_usd_8dec: int


# --- the statements ------------------------------------------------------------------------

CHAINS_SQL = "SELECT DISTINCT chain FROM snapshots WHERE status = :status ORDER BY chain"
LATEST_SQL = ("SELECT id FROM snapshots WHERE status = :status AND chain = :chain "
              "ORDER BY block DESC, id DESC LIMIT 1")
SNAPSHOT_SQL = ("SELECT id, chain, chain_id, block, block_timestamp, status, created_at, "
                "position_count, bin_count, band_count FROM snapshots WHERE id = :snapshot_id")
SCANS_SQL = ("SELECT chain, chain_id, market_key, protocol, block, block_timestamp, "
             "pool_revision, status FROM scans WHERE snapshot_id = :snapshot_id ORDER BY id")
POSITION_AXES_SQL = ("SELECT DISTINCT axis FROM positions WHERE scan_id IN "
                     "(SELECT id FROM scans WHERE snapshot_id = :snapshot_id)")
BIN_AXES_SQL = "SELECT DISTINCT axis FROM histogram_bins WHERE snapshot_id = :snapshot_id"
AXES_SQL = ("SELECT axis, price_now_8dec, at_risk_positions, at_risk_collateral_usd_8dec, "
            "liquidatable_now_positions, liquidatable_now_collateral_usd_8dec "
            "FROM snapshot_axes WHERE snapshot_id = :snapshot_id ORDER BY axis")

_SHARE_COLUMNS = ("market_key, protocol, positions, collateral_usd_8dec, debt_usd_8dec, "
                  "seizable_usd_8dec")
_BIN_COLUMNS = ("id, axis, direction, bin_index, low_8dec, high_8dec, positions, "
                "collateral_usd_8dec, debt_usd_8dec, seizable_usd_8dec, "
                "cumulative_collateral_usd_8dec")
_BAND_COLUMNS = ("id, axis, direction, rank, kind, low_8dec, high_8dec, positions, "
                 "collateral_usd_8dec, debt_usd_8dec, seizable_usd_8dec, share_of_at_risk_bps, "
                 "distance_low_bps, distance_high_bps, top_accounts, track_id, split_from")


def _of_snapshot(table: str, axis: str | None) -> str:
    return f"FROM {table} WHERE snapshot_id = :snapshot_id" + (
        "" if axis is None else " AND axis = :axis")


def bins_sql(axis: str | None) -> str:
    return (f"SELECT {_BIN_COLUMNS} {_of_snapshot('histogram_bins', axis)} "
            "ORDER BY axis, direction, bin_index")


def bands_sql(axis: str | None) -> str:
    return f"SELECT {_BAND_COLUMNS} {_of_snapshot('bands', axis)} ORDER BY axis, direction, rank"


def shares_sql(shares: str, parent_column: str, parents: str, axis: str | None) -> str:
    """The shares of every row `bins_sql` / `bands_sql` selects, by parent then market (one
    statement instead of bounded IN lists of ids)."""
    return (f"SELECT {parent_column}, {_SHARE_COLUMNS} FROM {shares} WHERE {parent_column} IN "
            f"(SELECT id {_of_snapshot(parents, axis)}) ORDER BY {parent_column}, market_key")


# --- decoding: what the column types do on the SQLAlchemy path ---------------------------

_UINT_SHARE = ("collateral_usd_8dec", "debt_usd_8dec", "seizable_usd_8dec")
_UINT_BAND = ("low_8dec", "high_8dec", *_UINT_SHARE)
_UINT_BIN = (*_UINT_BAND, "cumulative_collateral_usd_8dec")
_UINT_AXES = ("price_now_8dec", "at_risk_collateral_usd_8dec",
              "liquidatable_now_collateral_usd_8dec")


def _uints(row: Row, names: Sequence[str]) -> Row:
    """Uint256 columns (78-digit strings) as ints; NOT NULL, so never None here."""
    for name in names:
        row[name] = int(row[name])
    return row


def _moment(value: datetime | str) -> datetime:
    # SQLite keeps a DateTime as ISO text (SQLAlchemy parses it with fromisoformat)
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def market_of(snapshot: SnapshotRecord, market_key: str) -> SnapshotRecord:
    """The snapshot header narrowed to one of its markets (UsageError when it has none)."""
    chosen = tuple(m for m in snapshot.markets if m.market_key == market_key)
    if not chosen:
        raise UsageError(
            f"the snapshot at block {snapshot.block} has no market {market_key!r} (it has "
            f"{', '.join(snapshot.market_keys)}): pass --snapshot ID, or scan that market")
    return replace(snapshot, markets=chosen)


class SnapshotReads:
    """The snapshot reads, over either reader. Method names and answers are the Repository's
    (which delegates here), so a command can take either."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def _rows(self, sql: str, **params: Any) -> list[Row]:
        return self.reader.rows(sql, params)

    def chains(self) -> list[str]:
        """Chains with at least one complete snapshot."""
        return [r["chain"] for r in self._rows(CHAINS_SQL, status=COMPLETE)]

    def latest_snapshot_id(self, chain: str | None = None) -> int | None:
        """THE latest snapshot (the views use the same rule): of `chain`, the complete one at
        the highest block, highest id on a tie. Without `chain` the database must hold
        snapshots of one chain only."""
        if chain is None:
            chains = self.chains()
            if len(chains) > 1:
                raise UsageError(f"the database holds snapshots of several chains "
                                 f"({', '.join(chains)}): pass --chain")
            if not chains:
                return None
            chain = chains[0]
        found = self._rows(LATEST_SQL, status=COMPLETE, chain=chain)
        return int(found[0]["id"]) if found else None

    def scan_records(self, snapshot_id: int) -> tuple[ScanRecord, ...]:
        return tuple(rows.scan_from(r) for r in self._rows(SCANS_SQL, snapshot_id=snapshot_id))

    def get_snapshot(self, snapshot_id: int) -> StoredSnapshot:
        found = self._rows(SNAPSHOT_SQL, snapshot_id=snapshot_id)
        if not found:
            raise ScanNotFoundError(f"no snapshot with id {snapshot_id} in {self.reader.where}")
        row = found[0]
        row["created_at"] = _moment(row["created_at"])
        return rows.stored_snapshot(row, self.scan_records(snapshot_id), StoredSnapshot)

    def stored_axes(self, snapshot_id: int) -> list[str]:
        """The axes snapshot `snapshot_id` has positions or bins on, sorted."""
        self.get_snapshot(snapshot_id)
        found = {r["axis"] for r in self._rows(POSITION_AXES_SQL, snapshot_id=snapshot_id)}
        found |= {r["axis"] for r in self._rows(BIN_AXES_SQL, snapshot_id=snapshot_id)}
        return sorted(found)

    def load_axes(self, snapshot_id: int) -> dict[str, AxisTotals]:
        """axis name -> its price and totals in the snapshot (migration 0010)."""
        return {r["axis"]: AxisTotals(**_uints(r, _UINT_AXES))
                for r in self._rows(AXES_SQL, snapshot_id=snapshot_id)}

    def load_bins(self, snapshot_id: int, axis: str | None = None) -> list[HistogramBin]:
        self.get_snapshot(snapshot_id)
        params = self._params(snapshot_id, axis)
        found = [_uints(r, _UINT_BIN) for r in self.reader.rows(bins_sql(axis), params)]
        shares = self._shares(shares_sql("bin_shares", "bin_id", "histogram_bins", axis),
                              "bin_id", params)
        return [rows.bin_from(r, shares.get(r["id"], ())) for r in found]

    def load_bands(self, snapshot_id: int, axis: str | None = None) -> list[Band]:
        self.get_snapshot(snapshot_id)
        params = self._params(snapshot_id, axis)
        found = [_uints(r, _UINT_BAND) for r in self.reader.rows(bands_sql(axis), params)]
        shares = self._shares(shares_sql("band_shares", "band_id", "bands", axis), "band_id",
                              params)
        return [rows.band_from(r, shares.get(r["id"], ())) for r in found]

    @staticmethod
    def _params(snapshot_id: int, axis: str | None) -> dict[str, Any]:
        return {"snapshot_id": snapshot_id} | ({} if axis is None else {"axis": axis})

    def _shares(self, sql: str, parent: str, params: Mapping[str, Any]
                ) -> dict[int, tuple[Share, ...]]:
        by_parent: dict[int, list[Share]] = {}
        for row in self.reader.rows(sql, params):
            by_parent.setdefault(row[parent], []).append(rows.share_from(_uints(row, _UINT_SHARE)))
        return {key: tuple(values) for key, values in by_parent.items()}

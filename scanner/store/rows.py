"""Pure mapping between the dataclasses of scanner.domain and table rows (dicts).

Kept apart from the repository so the mapping can be read (and tested) without a database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, TypeVar

from scanner.domain import (
    Band,
    Direction,
    HistogramBin,
    PositionResult,
    PositionStatus,
    ScanRecord,
    Share,
    SnapshotRecord,
)

T = TypeVar("T")
Row = Mapping[Any, Any]  # a SQLAlchemy RowMapping, keyed by column name


def snapshot_row(snapshot: SnapshotRecord) -> dict[str, Any]:
    return {
        "chain": snapshot.chain,
        "chain_id": snapshot.chain_id,
        "block": snapshot.block,
        "block_timestamp": snapshot.block_timestamp,
        "status": snapshot.status,
        "market_count": len(snapshot.markets),
    }


def snapshot_from(row: Row, markets: tuple[ScanRecord, ...]) -> SnapshotRecord:
    return SnapshotRecord(
        chain=row["chain"],
        chain_id=row["chain_id"],
        block=row["block"],
        block_timestamp=row["block_timestamp"],
        markets=markets,
        status=row["status"],
    )


def scan_row(scan: ScanRecord) -> dict[str, Any]:
    return {
        "chain": scan.chain,
        "chain_id": scan.chain_id,
        "market_key": scan.market_key,
        "protocol": scan.protocol,
        "block": scan.block,
        "block_timestamp": scan.block_timestamp,
        "pool_revision": scan.pool_revision,
        "status": scan.status,
    }


def scan_from(row: Row) -> ScanRecord:
    return ScanRecord(
        chain=row["chain"],
        chain_id=row["chain_id"],
        market_key=row["market_key"],
        protocol=row["protocol"],
        block=row["block"],
        block_timestamp=row["block_timestamp"],
        pool_revision=row["pool_revision"],
        status=row["status"],
    )


def stored_snapshot(row: Row, markets: tuple[ScanRecord, ...], make: Callable[..., T]) -> T:
    return make(
        snapshot_id=row["id"],
        record=snapshot_from(row, markets),
        created_at=_aware(row["created_at"]),
        position_count=row["position_count"],
        bin_count=row["bin_count"],
        band_count=row["band_count"],
    )


def _aware(moment: datetime) -> datetime:
    # SQLite drops the zone of a DateTime(timezone=True); we only ever write UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def position_row(scan_id: int, p: PositionResult) -> dict[str, Any]:
    return {
        "scan_id": scan_id,
        "market_key": p.market_key,
        "protocol": p.protocol,
        "account": p.account,
        "axis": p.axis,
        "status": str(p.status),
        "direction": None if p.direction is None else str(p.direction),
        "liquidation_price_8dec": p.liquidation_price_8dec,
        "axis_price_now_8dec": p.axis_price_now_8dec,
        "health_factor_wad": p.health_factor_wad,
        "collateral_usd_8dec": p.collateral_usd_8dec,
        "debt_usd_8dec": p.debt_usd_8dec,
        "axis_collateral_usd_8dec": p.axis_collateral_usd_8dec,
        "seizable_usd_8dec": p.seizable_usd_8dec,
        "emode_category": p.emode_category,
        "submarket": p.submarket,
        "liquidation_price_native": p.liquidation_price_native,
        "native_price_unit": p.native_price_unit,
        "native_price_decimals": p.native_price_decimals,
        "liquidatable_next": p.liquidatable_next,
        "owner": p.owner,
        "vault_id": p.vault_id,
    }


# position_row's keys after scan_id: each is the PositionResult field of the same name
_POSITION_FIELDS = (
    "market_key", "protocol", "account", "axis", "status", "direction",
    "liquidation_price_8dec", "axis_price_now_8dec", "health_factor_wad", "collateral_usd_8dec",
    "debt_usd_8dec", "axis_collateral_usd_8dec", "seizable_usd_8dec", "emode_category",
    "submarket", "liquidation_price_native", "native_price_unit", "native_price_decimals",
    "liquidatable_next", "owner", "vault_id",
)


def position_columns(scan_id: int, positions: Sequence[PositionResult]
                     ) -> dict[str, list[Any]]:
    """`position_row` of every position, column by column (the bulk insert's input)."""
    columns: dict[str, list[Any]] = {"scan_id": [scan_id] * len(positions)}
    # one C-level pass per field: no Python call per value, and no 21-value tuple per
    # position to transpose (that transposition cost ~3x these passes at 200,000 rows).
    # attrgetter, not the instance dicts: a native PositionResult (scanner/native.py) has
    # none, and a subclass may compute a field as a property.
    for name in _POSITION_FIELDS:
        columns[name] = list(map(attrgetter(name), positions))
    columns["status"] = _as_text(columns["status"], _STATUS_TEXT, str)
    columns["direction"] = _as_text(columns["direction"], _DIRECTION_TEXT,
                                    lambda d: None if d is None else str(d))
    return columns


def _as_text(values: list[Any], known: dict[Any, str | None],
             convert: Callable[[Any], str | None]) -> list[str | None]:
    """`convert` of each value: a dict lookup per value in C when the column holds only the
    enum members `known` lists (always, from the pipeline); else `convert` one by one."""
    try:
        return list(map(known.__getitem__, values))
    except (KeyError, TypeError):  # something else (unhashable too): exactly as before
        return list(map(convert, values))


_STATUS_TEXT: dict[Any, str | None] = {member: str(member) for member in PositionStatus}
_DIRECTION_TEXT: dict[Any, str | None] = {None: None} | {
    member: str(member) for member in Direction}


def position_from(row: Row) -> PositionResult:
    direction = row["direction"]
    return PositionResult(
        market_key=row["market_key"],
        protocol=row["protocol"],
        account=row["account"],
        axis=row["axis"],
        status=PositionStatus(row["status"]),
        direction=None if direction is None else Direction(direction),
        liquidation_price_8dec=row["liquidation_price_8dec"],
        axis_price_now_8dec=row["axis_price_now_8dec"],
        health_factor_wad=row["health_factor_wad"],
        collateral_usd_8dec=row["collateral_usd_8dec"],
        debt_usd_8dec=row["debt_usd_8dec"],
        axis_collateral_usd_8dec=row["axis_collateral_usd_8dec"],
        seizable_usd_8dec=row["seizable_usd_8dec"],
        emode_category=row["emode_category"],
        submarket=row["submarket"],
        liquidation_price_native=row["liquidation_price_native"],
        native_price_unit=row["native_price_unit"],
        native_price_decimals=row["native_price_decimals"],
        liquidatable_next=row["liquidatable_next"],
        owner=row["owner"],
        vault_id=row["vault_id"],
    )


_BIN_FIELDS = (
    "axis", "bin_index", "low_8dec", "high_8dec", "positions", "collateral_usd_8dec",
    "debt_usd_8dec", "seizable_usd_8dec", "cumulative_collateral_usd_8dec",
)  # fmt: skip
_BAND_FIELDS = (
    "axis", "rank", "kind", "low_8dec", "high_8dec", "positions", "collateral_usd_8dec",
    "debt_usd_8dec", "seizable_usd_8dec", "share_of_at_risk_bps", "distance_low_bps",
    "distance_high_bps",
)  # fmt: skip


_SHARE_FIELDS = (
    "market_key", "protocol", "positions", "collateral_usd_8dec", "debt_usd_8dec",
    "seizable_usd_8dec",
)  # fmt: skip


def share_row(parent: str, parent_id: int, share: Share) -> dict[str, Any]:
    return {parent: parent_id} | {name: getattr(share, name) for name in _SHARE_FIELDS}


def share_from(row: Row) -> Share:
    return Share(**{name: row[name] for name in _SHARE_FIELDS})


def bin_row(snapshot_id: int, b: HistogramBin) -> dict[str, Any]:
    fields = {name: getattr(b, name) for name in _BIN_FIELDS}
    return {"snapshot_id": snapshot_id, "direction": str(b.direction), **fields}


def bin_from(row: Row, shares: tuple[Share, ...] = ()) -> HistogramBin:
    fields = {name: row[name] for name in _BIN_FIELDS}
    return HistogramBin(direction=Direction(row["direction"]), shares=shares, **fields)


def band_row(snapshot_id: int, b: Band) -> dict[str, Any]:
    fields = {name: getattr(b, name) for name in _BAND_FIELDS}
    return {
        "snapshot_id": snapshot_id,
        "direction": str(b.direction),
        "top_accounts": json.dumps(list(b.top_accounts)),
        "track_id": b.track_id,
        "split_from": b.split_from,
        **fields,
    }


def band_from(row: Row, shares: tuple[Share, ...] = ()) -> Band:
    fields = {name: row[name] for name in _BAND_FIELDS}
    top = json.loads(row["top_accounts"])
    return Band(direction=Direction(row["direction"]), top_accounts=tuple(top), shares=shares,
                track_id=row["track_id"], split_from=row["split_from"], **fields)

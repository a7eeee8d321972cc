"""What a snapshot stores beside its rows: band track links and per-axis totals.

Both are written inside the snapshot's own transaction (Repository.save_snapshot), so a
snapshot is never stored without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from scanner.domain import Band, PositionResult, PositionStatus, SnapshotRecord
from scanner.errors import InconsistentDataError
from scanner.pipeline.band_tracks import NEW_TRACK, link_bands
from scanner.store import rows, tables

SNAPSHOTS = tables.SNAPSHOTS
SCANS = tables.SCANS
BANDS = tables.BANDS
AXES = tables.SNAPSHOT_AXES


def previous_snapshot_id(conn: Connection, snapshot_id: int, snapshot: SnapshotRecord
                         ) -> int | None:
    """The complete snapshot of the same chain and markets just before this one (block, id)."""
    n = SNAPSHOTS.c
    query = (select(n.id).where(
        n.chain == snapshot.chain, n.status == "complete", n.id != snapshot_id,
        or_(n.block < snapshot.block, and_(n.block == snapshot.block, n.id < snapshot_id)))
        .order_by(n.block.desc(), n.id.desc()))
    markets = sorted(snapshot.market_keys)
    for candidate in conn.execute(query).scalars():
        keys = conn.execute(select(SCANS.c.market_key)
                            .where(SCANS.c.snapshot_id == candidate)).scalars()
        if sorted(keys) == markets:
            return int(candidate)
    return None


def linked_bands(conn: Connection, snapshot_id: int, snapshot: SnapshotRecord,
                 bands: Sequence[Band]) -> list[Band]:
    """`bands` with the track ids of the bands they continue (NEW_TRACK for a new track)."""
    before = previous_snapshot_id(conn, snapshot_id, snapshot)
    previous = [] if before is None else [
        rows.band_from(r) for r in conn.execute(
            select(BANDS).where(BANDS.c.snapshot_id == before).order_by(BANDS.c.id)).mappings()]
    links = link_bands(previous, bands)
    return [replace(b, track_id=link.track_id, split_from=link.split_from)
            for b, link in zip(bands, links, strict=True)]


def start_new_tracks(conn: Connection, ids: Sequence[int], bands: Sequence[Band]) -> None:
    """A band that starts a track takes its own row id as the track id."""
    new = [i for i, b in zip(ids, bands, strict=True) if b.track_id == NEW_TRACK]
    for start in range(0, len(new), 500):
        conn.execute(update(BANDS).where(BANDS.c.id.in_(new[start:start + 500]))
                     .values(track_id=BANDS.c.id))


def axis_rows(snapshot_id: int, positions: Sequence[PositionResult]) -> list[dict[str, Any]]:
    """One row per axis: its price (the same in every position, or the data is inconsistent)
    and its at-risk and liquidatable-now counts and collateral."""
    prices: dict[str, int] = {}
    counts: dict[tuple[str, str], int] = {}  # (axis, status) -> positions
    collateral: dict[tuple[str, str], int] = {}
    # one plain loop, no dict built per position (the setdefault of a fresh 7-key row per
    # position was ~0.15 s of writing a 200,000-row snapshot); keys of two str, hashed in C
    for p in positions:
        if prices.setdefault(p.axis, p.axis_price_now_8dec) != p.axis_price_now_8dec:
            _refuse_two_prices(positions)
        status = p.status
        if status is _AT_RISK or status is _NOW:
            key = (p.axis, status.value)
            counts[key] = counts.get(key, 0) + 1
            collateral[key] = collateral.get(key, 0) + p.collateral_usd_8dec
    found = []
    for axis in sorted(prices):
        row: dict[str, Any] = {"snapshot_id": snapshot_id, "axis": axis,
                               "price_now_8dec": prices[axis]}
        for status_text, prefix in _TOTALLED:
            row[f"{prefix}_positions"] = counts.get((axis, status_text), 0)
            row[f"{prefix}_collateral_usd_8dec"] = collateral.get((axis, status_text), 0)
        found.append(row)
    return found


_AT_RISK = PositionStatus.AT_RISK
_NOW = PositionStatus.LIQUIDATABLE_NOW
_TOTALLED = ((_AT_RISK.value, "at_risk"), (_NOW.value, "liquidatable_now"))


def _refuse_two_prices(positions: Sequence[PositionResult]) -> None:
    """Raise naming the first axis whose price changes, and its first two prices."""
    first: dict[str, int] = {}
    for p in positions:
        price = first.setdefault(p.axis, p.axis_price_now_8dec)
        if price != p.axis_price_now_8dec:
            raise InconsistentDataError(
                f"axis {p.axis} has two prices in one snapshot ({price} and "
                f"{p.axis_price_now_8dec}): nothing was written")


def insert_axes(conn: Connection, values: list[dict[str, Any]]) -> None:
    if values:
        conn.execute(insert(AXES), values)

"""Reads for the analyst commands: axis totals, filtered and sorted positions, band history.

    axes = load_axes(repo, snapshot_id)                   # price and totals per axis
    rows = find_positions(repo, snapshot_id, PositionQuery(axis="ETH", sort="size"))
    history = band_history(repo, snapshot_id, "ETH", snapshots=10)
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select

from scanner.domain import Band, PositionResult, PositionStatus
from scanner.store import page, rows, tables
from scanner.store.repository import Repository, StoredSnapshot
from scanner.store.snapshot_reads import AxisTotals as AxisTotals  # re-exported

POSITIONS = tables.POSITIONS
SCANS = tables.SCANS
BANDS = tables.BANDS
SNAPSHOTS = tables.SNAPSHOTS

Sort = Literal["distance", "size", "health"]
SORTS: tuple[Sort, ...] = ("distance", "size", "health")
DEFAULT_STATUSES = (PositionStatus.LIQUIDATABLE_NOW, PositionStatus.AT_RISK)


def load_axes(repo: Repository, snapshot_id: int) -> dict[str, AxisTotals]:
    """axis name -> its price and totals in the snapshot (migration 0010)."""
    return repo.reads.load_axes(snapshot_id)


@dataclass(frozen=True)
class PositionQuery:
    axis: str | None = None
    market_key: str | None = None
    statuses: tuple[PositionStatus, ...] = DEFAULT_STATUSES
    protocol: str | None = None
    min_collateral_8dec: int = 0
    sort: Sort = "distance"
    limit: int | None = 50


def distance_bps(p: PositionResult) -> int | None:
    """Signed move of the axis price to the liquidation price, in bps (None without one)."""
    if p.liquidation_price_8dec is None or p.axis_price_now_8dec <= 0:
        return None
    return (p.liquidation_price_8dec - p.axis_price_now_8dec) * 10_000 // p.axis_price_now_8dec


def _sort_key(sort: Sort) -> Callable[[_SortFields], Any]:
    def by_distance(p: _SortFields) -> tuple[int, Fraction, str, str]:
        # liquidatable now first (largest collateral first), then the smallest move of the
        # axis price in % (exact), then positions without a price
        now = p.status is PositionStatus.LIQUIDATABLE_NOW
        price = p.liquidation_price_8dec
        if now:
            return (0, Fraction(-p.collateral_usd_8dec), p.market_key, p.account)
        if price is None or p.axis_price_now_8dec <= 0:
            return (2, Fraction(0), p.market_key, p.account)
        move = Fraction(abs(price - p.axis_price_now_8dec), p.axis_price_now_8dec)
        return (1, move, p.market_key, p.account)

    def by_size(p: _SortFields) -> tuple[int, str, str]:
        return (-p.collateral_usd_8dec, p.market_key, p.account)

    def by_health(p: _SortFields) -> tuple[int, str, str]:
        return (p.health_factor_wad, p.market_key, p.account)

    return {"distance": by_distance, "size": by_size, "health": by_health}[sort]


class _SortFields(NamedTuple):
    """The columns the sort keys read (same names as PositionResult's): a page of 50 out of
    100,000 rows is chosen on these, and only those 50 rows are read whole."""

    id: int
    status: PositionStatus
    liquidation_price_8dec: int | None
    axis_price_now_8dec: int
    collateral_usd_8dec: int
    health_factor_wad: int
    market_key: str
    account: str


_SORT_COLUMNS = page.SORT_COLUMNS


def _sort_fields(row: Sequence[Any]) -> _SortFields:
    key_id, status, price, axis_now, collateral, health, market_key, account = row
    return _SortFields(key_id, PositionStatus(status), price, axis_now, collateral, health,
                       market_key, account)


def find_positions(repo: Repository, snapshot_id: int, q: PositionQuery) -> list[PositionResult]:
    """Positions of the snapshot matching `q`, sorted, at most `q.limit`. Filters run in SQL;
    so does a prefilter that keeps a superset of the page (`scanner.store.page`); the exact
    sort runs in Python (a distance needs each row's axis price), on the sort columns alone."""
    repo.get_snapshot(snapshot_id)  # a clear error when it does not exist
    scans = select(SCANS.c.id).where(SCANS.c.snapshot_id == snapshot_id)
    if q.market_key is not None:
        scans = scans.where(SCANS.c.market_key == q.market_key)
    conditions: list[ColumnElement[bool]] = []
    if q.axis is not None:
        conditions.append(POSITIONS.c.axis == q.axis)
    if q.protocol is not None:
        conditions.append(POSITIONS.c.protocol == q.protocol)
    if q.statuses:
        conditions.append(POSITIONS.c.status.in_([str(s) for s in q.statuses]))
    if q.min_collateral_8dec > 0:  # fixed-width strings compare like the numbers
        conditions.append(POSITIONS.c.collateral_usd_8dec >= q.min_collateral_8dec)
    prices = {a.axis: a.price_now_8dec for a in load_axes(repo, snapshot_id).values()}
    with repo.engine.connect() as conn:
        found: list[Any]
        if q.limit is None:
            found = list(conn.execute(select(*_SORT_COLUMNS).where(
                POSITIONS.c.scan_id.in_(scans), *conditions)))
        else:
            scan_ids = list(conn.execute(scans).scalars())
            found = page.candidates(conn, scan_ids, conditions, q.sort, q.limit,
                                    q.axis, q.statuses, prices)
        keys = [_sort_fields(r) for r in found]
        by = _sort_key(q.sort)
        # a page: nsmallest is sorted(...)[:limit] with ~1 key comparison per row instead of
        # ~log2(rows) (the exact distance keys are Fractions, each comparison costs)
        chosen = [k.id for k in (sorted(keys, key=by) if q.limit is None
                                 else heapq.nsmallest(q.limit, keys, key=by))]
        by_id: dict[int, PositionResult] = {}
        for start in range(0, len(chosen), 500):  # bounded IN lists
            query = select(POSITIONS).where(POSITIONS.c.id.in_(chosen[start:start + 500]))
            by_id |= {r["id"]: rows.position_from(r) for r in conn.execute(query).mappings()}
    return [by_id[i] for i in chosen]


@dataclass(frozen=True)
class HistoryPoint:
    snapshot: StoredSnapshot
    price_now_8dec: int | None
    bands: tuple[Band, ...]


def band_history(repo: Repository, snapshot_id: int, axis: str | None, snapshots: int
                 ) -> list[HistoryPoint]:
    """The last `snapshots` complete snapshots of the chain and markets of `snapshot_id`, up to
    it, oldest first, with their bands (track ids link them)."""
    last = repo.get_snapshot(snapshot_id)
    markets = sorted(last.record.market_keys)
    n = SNAPSHOTS.c
    block = last.record.block
    query = (select(n.id).where(n.chain == last.record.chain, n.status == "complete",
                                or_(n.block < block, and_(n.block == block, n.id <= snapshot_id)))
             .order_by(n.block.desc(), n.id.desc()))
    chosen: list[StoredSnapshot] = []
    with repo.engine.connect() as conn:
        candidates = list(conn.execute(query).scalars())
        for candidate in candidates:
            stored = repo.get_snapshot(candidate)
            if sorted(stored.record.market_keys) == markets:
                chosen.append(stored)
            if len(chosen) >= snapshots:
                break
    points = []
    for stored in reversed(chosen):
        prices = load_axes(repo, stored.snapshot_id)
        bands = repo.load_bands(stored.snapshot_id, axis)
        price = prices[axis].price_now_8dec if axis and axis in prices else None
        points.append(HistoryPoint(stored, price, tuple(bands)))
    return points


def track_ids(points: Sequence[HistoryPoint]) -> list[int]:
    """Tracks of the newest snapshot first (by its rank), then tracks that ended earlier."""
    order: list[int] = []
    for point in reversed(points):
        for band in sorted(point.bands, key=lambda b: (b.rank, b.direction.value)):
            if band.track_id not in order:
                order.append(band.track_id)
    return order

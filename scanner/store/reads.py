"""Read-only queries of the HTTP API (scanner/serve): filtered pages of positions, the axes of a
snapshot with their price now, the liquidatable-now sums, and how bands moved over snapshots.

    reads = ApiReads(repo)
    page = reads.positions_page(snapshot_id, PositionFilter(axis="ETH", status="at_risk"),
                                limit=100, after_id=None, offset=0)
    axes = reads.axis_summaries(snapshot_id)       # price now, liquidatable now, per axis
    moves = reads.band_history("devnet", "ETH", snapshots=20, top=3)

Every statement is built with SQLAlchemy and binds its values; nothing here writes. Amounts
stay exact: `Uint256` columns are summed in Python, not in SQL (they are strings there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from scanner.domain import Band, PositionResult
from scanner.store import rows
from scanner.store.repository import BANDS, COMPLETE, POSITIONS, SCANS, SNAPSHOTS, Repository

LIQUIDATABLE_NOW = "liquidatable_now"


@dataclass(frozen=True)
class PositionFilter:
    """Which positions of a snapshot to list; None means any."""

    axis: str | None = None
    market_key: str | None = None
    protocol: str | None = None
    status: str | None = None
    direction: str | None = None
    min_price_8dec: int | None = None  # liquidation price, inclusive
    max_price_8dec: int | None = None  # inclusive


@dataclass(frozen=True)
class PositionPage:
    """One page of positions (with their row ids, the keyset cursor) and the filtered total."""

    positions: list[tuple[int, PositionResult]]
    total: int


@dataclass(frozen=True)
class AxisSummary:
    """An axis of a snapshot: its price now and what is liquidatable at that price."""

    axis: str
    price_now_8dec: int
    positions: int
    liquidatable_now_positions: int
    liquidatable_now_collateral_usd_8dec: int
    liquidatable_now_debt_usd_8dec: int


@dataclass(frozen=True)
class LiquidatableNow:
    """Positions liquidatable at the snapshot's prices, each counted once across its axes."""

    positions: int
    collateral_usd_8dec: int
    debt_usd_8dec: int


@dataclass(frozen=True)
class HistoryPoint:
    """The top bands of one axis in one snapshot."""

    snapshot_id: int
    block: int
    block_timestamp: int
    price_now_8dec: int | None  # None: no position on the axis in that snapshot
    bands: list[Band]


class ApiReads:
    """The API's queries, on the repository's engine (read-only)."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.engine = repo.engine

    def positions_page(self, snapshot_id: int, where: PositionFilter, limit: int,
                       after_id: int | None, offset: int) -> PositionPage:
        """Positions in row-id order: after `after_id` (keyset) or skipping `offset` rows."""
        self.repo.get_snapshot(snapshot_id)  # a clear error when it does not exist
        conditions = self._position_conditions(snapshot_id, where)
        query = select(POSITIONS).where(*conditions)
        if after_id is not None:
            query = query.where(POSITIONS.c.id > after_id)
        query = query.order_by(POSITIONS.c.id).limit(limit).offset(offset)
        count = select(func.count()).select_from(POSITIONS).where(*conditions)
        with self.engine.connect() as conn:
            found = [(int(r["id"]), rows.position_from(r))
                     for r in conn.execute(query).mappings()]
            total = int(conn.execute(count).scalar_one())
        return PositionPage(found, total)

    @staticmethod
    def _position_conditions(snapshot_id: int, where: PositionFilter) -> list[Any]:
        scans = select(SCANS.c.id).where(SCANS.c.snapshot_id == snapshot_id)
        conditions: list[Any] = [POSITIONS.c.scan_id.in_(scans)]
        equal = {"axis": where.axis, "market_key": where.market_key, "protocol": where.protocol,
                 "status": where.status, "direction": where.direction}
        conditions += [POSITIONS.c[name] == value for name, value in equal.items()
                       if value is not None]
        price = POSITIONS.c.liquidation_price_8dec
        if where.min_price_8dec is not None:
            conditions.append(price >= where.min_price_8dec)
        if where.max_price_8dec is not None:
            conditions.append(price <= where.max_price_8dec)
        return conditions

    def axis_summaries(self, snapshot_id: int) -> list[AxisSummary]:
        """Every axis with positions in the snapshot, by name."""
        scans = select(SCANS.c.id).where(SCANS.c.snapshot_id == snapshot_id)
        in_snapshot = POSITIONS.c.scan_id.in_(scans)
        counts = (select(POSITIONS.c.axis, func.count(), func.min(POSITIONS.c.id))
                  .where(in_snapshot).group_by(POSITIONS.c.axis).order_by(POSITIONS.c.axis))
        now = (select(POSITIONS.c.axis, POSITIONS.c.collateral_usd_8dec, POSITIONS.c.debt_usd_8dec)
               .where(in_snapshot, POSITIONS.c.status == LIQUIDATABLE_NOW))
        with self.engine.connect() as conn:
            per_axis = [(str(axis), int(n), int(first)) for axis, n, first in conn.execute(counts)]
            # every position of an axis carries the same snapshot-wide axis price
            prices = {axis: self._price_of(conn, first) for axis, _, first in per_axis}
            liquidatable = list(conn.execute(now))
        return [_summary(axis, prices[axis], n, [r for r in liquidatable if r[0] == axis])
                for axis, n, _ in per_axis]

    def liquidatable_now(self, snapshot_id: int) -> LiquidatableNow:
        """A position is one row per axis: the total counts each (scan, pool, account) once."""
        scans = select(SCANS.c.id).where(SCANS.c.snapshot_id == snapshot_id)
        query = (select(POSITIONS.c.scan_id, POSITIONS.c.submarket, POSITIONS.c.account,
                        POSITIONS.c.collateral_usd_8dec, POSITIONS.c.debt_usd_8dec)
                 .where(POSITIONS.c.scan_id.in_(scans),
                        POSITIONS.c.status == LIQUIDATABLE_NOW))
        with self.engine.connect() as conn:
            once = {(r[0], r[1], r[2]): (int(r[3]), int(r[4])) for r in conn.execute(query)}
        return LiquidatableNow(len(once), sum(c for c, _ in once.values()),
                               sum(d for _, d in once.values()))

    @staticmethod
    def _price_of(conn: Any, position_id: int) -> int:
        query = select(POSITIONS.c.axis_price_now_8dec).where(POSITIONS.c.id == position_id)
        return int(conn.execute(query).scalar_one())

    def band_history(self, chain: str, axis: str, snapshots: int, top: int,
                     before_block: int | None = None) -> list[HistoryPoint]:
        """The `top` bands (by rank, each direction) of `axis` in the newest `snapshots`
        complete snapshots of `chain` (at or below `before_block`), oldest first."""
        chosen = (select(SNAPSHOTS.c.id, SNAPSHOTS.c.block, SNAPSHOTS.c.block_timestamp)
                  .where(SNAPSHOTS.c.chain == chain, SNAPSHOTS.c.status == COMPLETE))
        if before_block is not None:
            chosen = chosen.where(SNAPSHOTS.c.block <= before_block)
        chosen = chosen.order_by(SNAPSHOTS.c.block.desc(), SNAPSHOTS.c.id.desc()).limit(snapshots)
        with self.engine.connect() as conn:
            headers = list(conn.execute(chosen))
            ids = [int(h[0]) for h in headers]
            bands = (select(BANDS).where(BANDS.c.snapshot_id.in_(ids), BANDS.c.axis == axis,
                                         BANDS.c.rank <= top)
                     .order_by(BANDS.c.snapshot_id, BANDS.c.direction, BANDS.c.rank))
            by_snapshot: dict[int, list[Band]] = {i: [] for i in ids}
            for row in conn.execute(bands).mappings():
                by_snapshot[int(row["snapshot_id"])].append(rows.band_from(row, ()))
            prices = {i: self._axis_price(conn, i, axis) for i in ids}
        return [HistoryPoint(int(h[0]), int(h[1]), int(h[2]), prices[int(h[0])],
                             by_snapshot[int(h[0])]) for h in reversed(headers)]

    @staticmethod
    def _axis_price(conn: Any, snapshot_id: int, axis: str) -> int | None:
        """The axis price of a snapshot: every position on the axis carries it."""
        scans = select(SCANS.c.id).where(SCANS.c.snapshot_id == snapshot_id)
        query = (select(POSITIONS.c.axis_price_now_8dec)
                 .where(POSITIONS.c.scan_id.in_(scans), POSITIONS.c.axis == axis).limit(1))
        found = conn.execute(query).scalar_one_or_none()
        return None if found is None else int(found)

    def snapshot_ids(self, chain: str | None, limit: int, after_id: int | None
                     ) -> list[int]:
        """Snapshot ids, newest first; only those newer than `after_id` when given."""
        query = select(SNAPSHOTS.c.id)
        if chain is not None:
            query = query.where(SNAPSHOTS.c.chain == chain)
        if after_id is not None:
            query = query.where(SNAPSHOTS.c.id > after_id)
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(
                query.order_by(SNAPSHOTS.c.id.desc()).limit(limit)).scalars()]


def _summary(axis: str, price_now_8dec: int, positions: int, liquidatable: Sequence[Any]
             ) -> AxisSummary:
    return AxisSummary(
        axis=axis, price_now_8dec=price_now_8dec, positions=positions,
        liquidatable_now_positions=len(liquidatable),
        liquidatable_now_collateral_usd_8dec=sum(int(r[1]) for r in liquidatable),
        liquidatable_now_debt_usd_8dec=sum(int(r[2]) for r in liquidatable),
    )

"""The SQL prefilter of a page of `liqscan positions`: a superset of the first `limit` rows of
the exact sort (`scanner.store.queries._sort_key`), read through the indexes, so a page of 50
touches O(limit) rows instead of the whole snapshot.

Every head is taken with its ties (all rows up to and including the `limit`-th value of the
ordering column), so the exact sort in Python never depends on how the database orders ties
or strings (PostgreSQL collations differ from Python's code-point order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Row, func, or_, select

from scanner.domain import PositionStatus
from scanner.store import tables

POSITIONS = tables.POSITIONS
P = POSITIONS.c
SORT_COLUMNS = (P.id, P.status, P.liquidation_price_8dec, P.axis_price_now_8dec,
                P.collateral_usd_8dec, P.health_factor_wad, P.market_key, P.account)
NOW = str(PositionStatus.LIQUIDATABLE_NOW)
Where = list[ColumnElement[bool]]


def candidates(conn: Connection, scan_ids: Sequence[int], conditions: Where, sort: str,
               limit: int, axis: str | None, statuses: Sequence[PositionStatus],
               axis_prices_8dec: Mapping[str, int]) -> list[Row[Any]]:
    """Sort-column rows that contain the first `limit` rows of `sort` (see module doc).
    `axis_prices_8dec`: the snapshot's price of each axis (snapshot_axes)."""
    where: Where = [P.scan_id.in_(scan_ids), *conditions]
    if sort == "size":
        return head(conn, where, P.collateral_usd_8dec, limit, descending=True)
    if sort == "health":
        return head(conn, where, P.health_factor_wad, limit, descending=False)
    return _distance(conn, scan_ids, conditions, limit, axis, statuses, axis_prices_8dec)


def head(conn: Connection, where: Where, column: Column[Any], limit: int, descending: bool
         ) -> list[Row[Any]]:
    """Rows of `where` whose `column` is among its first `limit` values, ties included."""
    order = column.desc() if descending else column.asc()
    boundary = conn.execute(select(column).where(*where).order_by(order)
                            .offset(limit - 1).limit(1)).first()
    if boundary is not None:
        where = [*where, column >= boundary[0] if descending else column <= boundary[0]]
    return list(conn.execute(select(*SORT_COLUMNS).where(*where)))


def _distance(conn: Connection, scan_ids: Sequence[int], conditions: Where, limit: int,
              axis: str | None, statuses: Sequence[PositionStatus],
              axis_prices_8dec: Mapping[str, int]) -> list[Row[Any]]:
    """Liquidatable now by size, then the nearest prices on each side of the axis price of
    every (scan, axis) group, then -- only when those are fewer than `limit` -- the rest."""
    found: list[Row[Any]] = []
    if not statuses or PositionStatus.LIQUIDATABLE_NOW in statuses:
        found += head(conn, [P.scan_id.in_(scan_ids), P.status == NOW, *conditions],
                      P.collateral_usd_8dec, limit, descending=True)
    others: Where = [P.status != NOW, *conditions]
    for scan_id in scan_ids:
        for name in [axis] if axis is not None else list(_axes(conn, scan_id)):
            found += _nearest(conn, [P.scan_id == scan_id, P.axis == name, *others],
                              axis_prices_8dec.get(name), limit)
    if sum(1 for r in found if _priced(r)) < limit:  # every priced row is in `found`
        found += conn.execute(select(*SORT_COLUMNS).where(
            P.scan_id.in_(scan_ids), *others,
            or_(P.liquidation_price_8dec.is_(None), P.axis_price_now_8dec == 0)))
    unique = {r[0]: r for r in found}
    return list(unique.values())


def _priced(r: Sequence[Any]) -> bool:
    return bool(r[1] == NOW or (r[2] is not None and r[3] > 0))


def _axes(conn: Connection, scan_id: int) -> Iterable[str]:
    """The scan's axes, one index probe each (ix_positions_scan_axis_price)."""
    previous: str | None = None
    while True:
        query = select(func.min(P.axis)).where(P.scan_id == scan_id)
        if previous is not None:
            query = query.where(P.axis > previous)
        previous = conn.execute(query).scalar()
        if previous is None:
            return
        yield previous


def _nearest(conn: Connection, group: Where, axis_now_8dec: int | None, limit: int
             ) -> list[Row[Any]]:
    """The `limit` nearest liquidation prices above and below the axis price. Every row of an
    axis carries the snapshot's one price of it (the store refuses two: tracks.axis_rows); an
    axis without a stored positive price is read whole (exact either way)."""
    if axis_now_8dec is None or axis_now_8dec <= 0:
        return list(conn.execute(select(*SORT_COLUMNS).where(*group)))
    price = P.liquidation_price_8dec
    above = head(conn, [*group, price >= axis_now_8dec], price, limit, descending=False)
    below = head(conn, [*group, price < axis_now_8dec], price, limit, descending=True)
    return above + below

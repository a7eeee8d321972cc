"""The JSON routes under /api: snapshots, axes, bands, histogram, positions, history.

Each handler checks its query (scanner/serve/params.py) first, then reads the database in a
worker thread (SQLAlchemy is synchronous; the daemon's event loop must keep following the
head while a page of positions is read).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TypeVar

from aiohttp import web

from scanner.serve.params import BadQuery, Query
from scanner.serve.shapes import (
    Json,
    axis_json,
    history_json,
    liquidatable_json,
    snapshot_json,
)
from scanner.serve.summaries import Summaries
from scanner.store.export import band_records, bin_records, position_records
from scanner.store.reads import ApiReads, PositionFilter
from scanner.store.repository import Repository, ScanNotFoundError
from scanner.store.tables import DIRECTION_VALUES, STATUS_VALUES

T = TypeVar("T")
MAX_PAGE = 1000
MAX_OFFSET = 10_000  # deeper pages: the keyset cursor (an OFFSET walks every skipped row)
MAX_HISTORY_SNAPSHOTS = 500
_SELECT = {"snapshot", "chain"}


class NoSnapshotError(ScanNotFoundError):
    """The database holds no complete snapshot (of the chain asked for) yet."""


def json_response(body: Json, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


class Api:
    """The /api handlers over one repository."""

    def __init__(self, repo: Repository, axis_units: Mapping[str, str] | None = None) -> None:
        self.repo = repo
        self.reads = ApiReads(repo)
        self.units = dict(axis_units or {})  # a ratio axis's prices count its quote asset
        self.summaries = Summaries(self.reads)

    def add_routes(self, app: web.Application) -> None:
        for path, handler in (("/api/snapshots", self.snapshots), ("/api/axes", self.axes),
                              ("/api/bands", self.bands), ("/api/histogram", self.histogram),
                              ("/api/positions", self.positions),
                              ("/api/history", self.history)):
            app.router.add_get(path, handler)
        app.router.add_get("/api/cascade", self.cascade)

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    async def _run(work: Callable[[], T]) -> T:
        return await asyncio.to_thread(work)

    def _snapshot_id(self, query: Query) -> int:
        """?snapshot=ID, else THE latest complete snapshot (of ?chain=)."""
        chosen = query.integer("snapshot", low=1)
        if chosen is not None:
            return chosen
        chain = query.name("chain")
        latest = self._latest(chain)
        if latest is None:
            where = f" of chain {chain}" if chain else ""
            raise NoSnapshotError(f"no complete snapshot{where} in the database yet")
        return latest

    def _latest(self, chain: str | None) -> int | None:
        if chain is None and len(chains := self.repo.chains()) > 1:
            raise BadQuery(f"the database holds snapshots of several chains "
                           f"({', '.join(chains)}): add chain=NAME")
        return self.repo.latest_snapshot_id(chain)

    # --- routes ------------------------------------------------------------------------------

    async def snapshots(self, request: web.Request) -> web.Response:
        query = Query(request.query, {"chain", "limit", "after"})
        chain = query.name("chain")
        limit = query.integer("limit", default=20, low=1, high=200)
        after = query.integer("after", low=0)

        def read() -> Json:
            ids = self.reads.snapshot_ids(chain, limit or 20, after)
            stored = [self.repo.get_snapshot(i) for i in ids]
            latest = self._latest(chain)
            return {"latest_id": latest, "snapshots": [snapshot_json(s) for s in stored]}

        return json_response(await self._run(read))

    async def axes(self, request: web.Request) -> web.Response:
        query = Query(request.query, _SELECT)

        def read() -> Json:
            summary = self.summaries.of(self._snapshot_id(query))
            return {"snapshot": snapshot_json(summary.snapshot),
                    "liquidatable_now": liquidatable_json(summary.liquidatable),
                    "axes": [axis_json(a) for a in summary.axes]}

        return json_response(await self._run(read))

    async def bands(self, request: web.Request) -> web.Response:
        query = Query(request.query, _SELECT | {"axis", "direction", "market"})
        axis, market = query.name("axis"), query.name("market")
        direction = query.choice("direction", DIRECTION_VALUES)

        def read() -> Json:
            snapshot_id = self._snapshot_id(query)
            stored = self.repo.get_snapshot(snapshot_id)
            bands = [b for b in self.repo.load_bands(snapshot_id, axis)
                     if direction in (None, str(b.direction))
                     and (market is None or any(s.market_key == market for s in b.shares))]
            return {"snapshot": snapshot_json(stored),
                    "bands": band_records(stored.record, bands, self.units)}

        return json_response(await self._run(read))

    async def histogram(self, request: web.Request) -> web.Response:
        query = Query(request.query, _SELECT | {"axis", "direction"})
        axis = query.name("axis")
        direction = query.choice("direction", DIRECTION_VALUES)

        def read() -> Json:
            snapshot_id = self._snapshot_id(query)
            stored = self.repo.get_snapshot(snapshot_id)
            bins = [b for b in self.repo.load_bins(snapshot_id, axis)
                    if direction in (None, str(b.direction))]
            return {"snapshot": snapshot_json(stored),
                    "bins": bin_records(stored.record, bins, self.units)}

        return json_response(await self._run(read))

    async def positions(self, request: web.Request) -> web.Response:
        query = Query(request.query, _SELECT | {
            "axis", "market", "protocol", "status", "direction", "min_price", "max_price",
            "limit", "offset", "cursor"})
        where = _position_filter(query)
        limit = query.integer("limit", default=100, low=1, high=MAX_PAGE) or 100
        cursor = query.integer("cursor", low=0)
        offset = query.integer("offset", default=0, low=0) or 0
        if offset > MAX_OFFSET:
            raise BadQuery(f"offset={offset} is above {MAX_OFFSET}: page on with "
                           "cursor=<next_cursor of the previous page>")
        if cursor is not None and offset:
            raise BadQuery("give either cursor or offset, not both")

        def read() -> Json:
            snapshot_id = self._snapshot_id(query)
            stored = self.repo.get_snapshot(snapshot_id)
            page = self.reads.positions_page(snapshot_id, where, limit, cursor, offset)
            last = page.positions[-1][0] if len(page.positions) == limit else None
            return {"snapshot": snapshot_json(stored), "total": page.total,
                    "positions": position_records(stored.record,
                                                  [p for _, p in page.positions], self.units),
                    "next_cursor": None if last is None else str(last)}

        return json_response(await self._run(read))

    async def cascade(self, request: web.Request) -> web.Response:
        from scanner.serve.cascade_api import cascade

        return await cascade(self, request)

    async def history(self, request: web.Request) -> web.Response:
        query = Query(request.query, {"chain", "axis", "snapshots", "top"})
        axis = query.name("axis")
        if axis is None:
            raise BadQuery("axis is required (e.g. axis=ETH)")
        count = query.integer("snapshots", default=50, low=1, high=MAX_HISTORY_SNAPSHOTS) or 50
        top = query.integer("top", default=3, low=1, high=20) or 3

        def read() -> Json:
            latest = self._snapshot_id(query)
            chain = self.repo.get_snapshot(latest).record.chain
            points = self.reads.band_history(chain, axis, count, top)
            return history_json(chain, axis, points)

        return json_response(await self._run(read))


def _position_filter(query: Query) -> PositionFilter:
    low, high = query.usd_8dec("min_price"), query.usd_8dec("max_price")
    if low is not None and high is not None and low > high:
        raise BadQuery("min_price is above max_price")
    return PositionFilter(
        axis=query.name("axis"), market_key=query.name("market"),
        protocol=query.name("protocol"), status=query.choice("status", STATUS_VALUES),
        direction=query.choice("direction", DIRECTION_VALUES),
        min_price_8dec=low, max_price_8dec=high)

"""GET /api/cascade: the cascades stored with a snapshot (`liqscan cascade`), for one axis.

    {"snapshot": ..., "axis": "ETH", "latest": <the newest single cascade, or null>,
     "curve": [<the newest cascade curve: one point per shock, without its path>]}

Each amount `*_8dec` (exact integer) comes with `*_usd`, an exact decimal string, as in the
other routes. Nothing is computed here: a cascade needs the chain (scanner/cascade/live.py).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from scanner.serve.params import BadQuery, Query
from scanner.serve.shapes import Json, snapshot_json
from scanner.store.cascades import latest_curve, load_cascades
from scanner.store.export import USD_DECIMALS, format_units


def with_usd(value: Any) -> Any:
    """A copy where every `x_8dec` integer gains an `x_usd` decimal string beside it."""
    if isinstance(value, list):
        return [with_usd(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: with_usd(v) for k, v in value.items()}
    for key, item in value.items():
        if key.endswith("_8dec") and isinstance(item, int):
            base = key.removesuffix("_8dec")  # price_8dec -> price_usd, sold_usd_8dec -> sold_usd
            name = base if base == "usd" or base.endswith("_usd") else f"{base}_usd"
            out[name] = format_units(item, USD_DECIMALS)
    return out


async def cascade(api: Any, request: web.Request) -> web.Response:
    query = Query(request.query, {"snapshot", "chain", "axis"})
    axis = query.name("axis")
    if axis is None:
        raise BadQuery("axis is required, e.g. axis=ETH")

    def read() -> Json:
        snapshot_id = api._snapshot_id(query)
        stored = api.repo.get_snapshot(snapshot_id)
        singles = load_cascades(api.repo, snapshot_id, axis, curve=False)
        curve = [{k: v for k, v in point.items() if k != "path"}
                 for point in latest_curve(api.repo, snapshot_id, axis)]
        return {"snapshot": snapshot_json(stored), "axis": axis,
                "latest": with_usd(singles[0]) if singles else None, "curve": with_usd(curve)}

    return web.json_response(await api._run(read))

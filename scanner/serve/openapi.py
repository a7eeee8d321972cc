"""The OpenAPI 3.1 document served at /api/openapi.json: every route, parameter and JSON shape.

Amounts are exact decimal strings (`*_usd`, 8 decimals) next to their raw integers (`*_8dec`,
which may exceed 2**53: JavaScript clients read the strings). A test checks that every route
of the app is described here and that real answers carry the documented fields.
"""

from __future__ import annotations

from typing import Any

from scanner.store.tables import DIRECTION_VALUES, STATUS_VALUES

Json = dict[str, Any]

_STR, _INT, _NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}
_USD = {"type": ["string", "null"], "description": "USD, exact decimal string, 8 decimals"}
_RAW = {"type": ["integer", "null"], "description": "raw integer (8 decimals); may exceed 2**53"}


def _object(**fields: Any) -> Json:
    return {"type": "object", "required": sorted(fields), "properties": fields}


def _array(item: Json) -> Json:
    return {"type": "array", "items": item}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _amounts() -> Json:
    return {"positions": _INT, "collateral_usd": _USD, "debt_usd": _USD, "seizable_usd": _USD}


def _health() -> Json:
    health = _object(
        status={"enum": ["ok", "stale", "empty"]}, stale_after_s=_NUM,
        chains=_array(_object(chain=_STR, snapshot_id=_INT, block=_INT, block_timestamp=_INT,
                              created_at=_STR, age_s=_NUM)),
        head={"oneOf": [{"type": "null"}, _object(
            head_block={"type": ["integer", "null"]},
            head_seen_unix={"type": ["number", "null"]},
            last_snapshot_block={"type": ["integer", "null"]},
            lag_blocks={"type": ["integer", "null"]})]})
    health["properties"]["message"] = {"type": "string", "description": "when not ok"}
    return health


# a ratio axis's prices (liquidation_price_*, axis_price_now_*, low_*, high_*) count its quote
_AXIS_UNIT = {"type": "string",
              "description": "what the axis prices count: USD, or a ratio axis's quote (WETH)"}


def _schemas() -> Json:
    share = _object(market=_STR, protocol=_STR, **_amounts())
    protocol_share = _object(protocol=_STR, **_amounts())
    breakdown = {"by_market": _array(share), "by_protocol": _array(protocol_share)}
    header = {"chain": _STR, "block": _INT}
    return {
        "Error": _object(error=_STR),
        "Snapshot": _object(
            id=_INT, chain=_STR, chain_id=_INT, block=_INT, block_timestamp=_INT, status=_STR,
            created_at={"type": "string", "format": "date-time"}, position_count=_INT,
            bin_count=_INT, band_count=_INT,
            markets=_array(_object(market=_STR, protocol=_STR, pool_revision=_INT))),
        "Axis": _object(
            axis=_STR, price_now_usd=_USD, price_now_8dec=_RAW, positions=_INT,
            liquidatable_now_positions=_INT, liquidatable_now_collateral_usd=_USD,
            liquidatable_now_debt_usd=_USD, liquidatable_now_collateral_usd_8dec=_RAW),
        "Band": _object(
            **header, axis=_STR, axis_unit=_AXIS_UNIT, direction={"enum": list(DIRECTION_VALUES)},
            rank=_INT,
            kind={"enum": ["band", "wall"]}, low_usd=_USD, high_usd=_USD, **_amounts(),
            share_of_at_risk_bps=_INT, distance_low_bps=_INT, distance_high_bps=_INT,
            top_accounts=_array(_STR), low_8dec=_RAW, high_8dec=_RAW,
            collateral_usd_8dec=_RAW, debt_usd_8dec=_RAW, seizable_usd_8dec=_RAW, **breakdown),
        "Bin": _object(
            **header, axis=_STR, axis_unit=_AXIS_UNIT, direction={"enum": list(DIRECTION_VALUES)},
            bin_index=_INT,
            low_usd=_USD, high_usd=_USD, **_amounts(), cumulative_collateral_usd=_USD,
            low_8dec=_RAW, high_8dec=_RAW, collateral_usd_8dec=_RAW, debt_usd_8dec=_RAW,
            seizable_usd_8dec=_RAW, cumulative_collateral_usd_8dec=_RAW, **breakdown),
        "Position": _object(
            **header, market=_STR, protocol=_STR, submarket=_STR, account=_STR, axis=_STR,
            axis_unit=_AXIS_UNIT,
            status={"enum": list(STATUS_VALUES)},
            direction={"enum": [*DIRECTION_VALUES, None]},
            liquidation_price_usd=_USD, liquidation_price_native={"type": ["string", "null"]},
            liquidation_price_native_unit=_STR, axis_price_now_usd=_USD,
            health_factor={"type": "string", "description": "exact, 18 decimals"},
            collateral_usd=_USD, debt_usd=_USD, axis_collateral_usd=_USD, seizable_usd=_USD,
            emode_category=_INT,
            liquidatable_next={"type": ["boolean", "null"],
                               "description": "the oracle's next price (Maker OSM) liquidates"},
            owner={"type": ["string", "null"], "description": "owner of a held vault"},
            vault_id={"type": ["integer", "null"], "description": "id of a held vault"},
            liquidation_price_8dec=_RAW, liquidation_price_native_raw=_RAW,
            axis_price_now_8dec=_RAW,
            health_factor_wad=_RAW, collateral_usd_8dec=_RAW, debt_usd_8dec=_RAW,
            axis_collateral_usd_8dec=_RAW, seizable_usd_8dec=_RAW),
        "LiquidatableNow": _object(positions=_INT, collateral_usd=_USD, debt_usd=_USD,
                                   collateral_usd_8dec=_RAW),
        "HistoryBand": _object(
            direction={"enum": list(DIRECTION_VALUES)}, rank=_INT, kind=_STR, low_usd=_USD,
            high_usd=_USD, collateral_usd=_USD, positions=_INT, share_of_at_risk_bps=_INT,
            distance_low_bps=_INT, distance_high_bps=_INT),
        "Health": _health(),
        **_cascade_schemas(),
    }


def _cascade_schemas() -> Json:
    """A stored cascade (scanner/store/cascades.py); amounts as `_usd` strings and `_8dec`."""
    def prices(*names: str) -> Json:  # price_8dec and price_usd
        return {k: v for n in names for k, v in ((f"{n}_8dec", _RAW), (f"{n}_usd", _USD))}

    def amounts(*names: str) -> Json:  # sold_usd_8dec and sold_usd
        return {k: v for n in names for k, v in ((f"{n}_usd_8dec", _RAW), (f"{n}_usd", _USD))}

    sold = _object(symbol=_STR, asset=_STR, amount_raw={"type": "string"}, decimals=_INT,
                   usd=_USD, usd_8dec=_RAW)
    step = _object(round=_INT, positions=_INT, sold=_array(sold), bands_crossed=_array(_INT),
                   **prices("price", "price_after"),
                   **amounts("sold", "debt_repaid", "debt_redistributed", "bad_debt",
                             "proceeds", "store_discount"))
    point = {"id": _INT, "axis": _STR, "direction": {"enum": list(DIRECTION_VALUES)},
             "curve": {"type": "boolean"}, "depth_model": _STR,
             "shock_bps": {"type": "integer", "description": "signed"},
             "rounds": _INT, "positions_liquidated": _INT, "converged": {"type": "boolean"},
             "buy_modelled": {"type": "boolean",
                              "description": "false: a rise's buying was not priced"},
             "bands_crossed_by_shock": _array(_INT),
             "includes_now": {"type": "boolean", "description": "the positions liquidatable "
                              "before any shock were put in round 0 (--include-now)"},
             "liquidatable_now": {"oneOf": [_object(positions=_INT, **amounts(
                 "sold", "debt_repaid", "bad_debt")), {"type": "null"}],
                 "description": "the positions liquidatable at the snapshot's price, "
                                "liquidated once there; null on a cascade stored before "
                                "they were computed"},
             **prices("price_now", "shock_price", "final_price"),
             **amounts("sold", "debt_repaid", "bad_debt", "store_discount")}
    return {"CascadePoint": _object(**point), "Cascade": _object(**point, path=_array(step))}


def _param(name: str, description: str, schema: Json | None = None,
           required: bool = False) -> Json:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or _STR}


_SNAPSHOT = _param("snapshot", "snapshot id (default: the latest complete snapshot)",
                   {"type": "integer", "minimum": 1})
_CHAIN = _param("chain", "chain of the latest snapshot (needed when the database holds several)")
_AXIS = _param("axis", "price axis, e.g. ETH")
_DIRECTION = _param("direction", "down: liquidated as the price falls; up: as it rises",
                    {"enum": list(DIRECTION_VALUES)})


def _get(summary: str, params: list[Json], body: Json, content: str = "application/json"
         ) -> Json:
    error = {"content": {"application/json": {"schema": _ref("Error")}}}
    return {"get": {
        "summary": summary, "parameters": params,
        "responses": {"200": {"description": "OK", "content": {content: {"schema": body}}},
                      "400": {"description": "a bad query parameter (one-line message)",
                              **error},
                      "404": {"description": "no such snapshot, or none yet", **error}}}}


def _paths() -> Json:
    snapshot = {"snapshot": _ref("Snapshot")}
    page = [_param("limit", "rows per page", {"type": "integer", "minimum": 1,
                                              "maximum": 1000, "default": 100}),
            _param("offset", "rows to skip (not with cursor)", {"type": "integer", "minimum": 0}),
            _param("cursor", "next_cursor of the previous page (keyset paging)")]
    price = [_param("min_price", "lowest liquidation price, USD (e.g. 2500.5)"),
             _param("max_price", "highest liquidation price, USD")]
    health = _get("freshness of the latest snapshot; 503 when stale or empty", [],
                  _ref("Health"))
    health["get"]["responses"]["503"] = {"description": "stale or no snapshot yet",
                                         "content": {"application/json": {
                                             "schema": _ref("Health")}}}
    return {
        "/healthz": health,
        "/metrics": _get("Prometheus text exposition: the daemon's metrics and liqscan_db_*",
                         [], _STR, "text/plain"),
        "/api/snapshots": _get("stored snapshots, newest first", [
            _CHAIN, _param("limit", "at most this many", {"type": "integer", "maximum": 200}),
            _param("after", "only snapshots with a larger id", {"type": "integer"})],
            _object(latest_id={"type": ["integer", "null"]},
                    snapshots=_array(_ref("Snapshot")))),
        "/api/axes": _get("each axis: price now, liquidatable-now totals", [_SNAPSHOT, _CHAIN],
                          _object(**snapshot, axes=_array(_ref("Axis")),
                                  liquidatable_now=_ref("LiquidatableNow"))),
        "/api/bands": _get("dense liquidation bands with per-market/protocol breakdown", [
            _SNAPSHOT, _CHAIN, _AXIS, _DIRECTION, _param("market", "bands holding this market")],
            _object(**snapshot, bands=_array(_ref("Band")))),
        "/api/histogram": _get("collateral by liquidation price bin, cumulative curve", [
            _SNAPSHOT, _CHAIN, _AXIS, _DIRECTION], _object(**snapshot, bins=_array(_ref("Bin")))),
        "/api/positions": _get("positions and their liquidation prices, paged", [
            _SNAPSHOT, _CHAIN, _AXIS, _DIRECTION, _param("market", "market key"),
            _param("protocol", "protocol key"),
            _param("status", "position status", {"enum": list(STATUS_VALUES)}), *price, *page],
            _object(**snapshot, total=_INT, positions=_array(_ref("Position")),
                    next_cursor={"type": ["string", "null"]})),
        "/api/history": _get("how the top bands of an axis moved over recent snapshots", [
            _CHAIN, {**_AXIS, "required": True},
            _param("snapshots", "how many recent snapshots", {"type": "integer", "maximum": 500}),
            _param("top", "bands per direction", {"type": "integer", "maximum": 20})],
            _object(chain=_STR, axis=_STR, points=_array(_object(
                snapshot_id=_INT, block=_INT, block_timestamp=_INT, price_now_usd=_USD,
                bands=_array(_ref("HistoryBand")))))),
        "/api/cascade": _get("stored cascades of an axis: the newest one, and the newest "
                             "cascade curve (liqscan cascade)", [
            _SNAPSHOT, _CHAIN, {**_AXIS, "required": True}],
            _object(**snapshot, axis=_STR,
                    latest={"oneOf": [{"type": "null"}, _ref("Cascade")]},
                    curve=_array(_ref("CascadePoint")))),
        "/api/openapi.json": _get("this document", [], {"type": "object"}),
    }


def openapi_document() -> Json:
    return {
        "openapi": "3.1.0",
        "info": {"title": "liqscan", "version": "1",
                 "description": "Read-only API over stored liquidation-band snapshots."},
        "paths": _paths(),
        "components": {"schemas": _schemas()},
    }

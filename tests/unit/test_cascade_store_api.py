"""Cascades in SQL and in the HTTP API, on SQLite and PostgreSQL: what `liqscan cascade`
printed as JSON is what is stored, and /api/cascade serves it with its documented fields."""

from __future__ import annotations

import pytest

from scanner.cascade.engine import run_cascade
from scanner.serve.openapi import openapi_document
from scanner.store.cascades import (
    CascadeRun,
    cascade_json,
    latest_curve,
    load_cascades,
    save_cascades,
)
from scanner.store.repository import Repository
from tests.unit.cascade_fixtures import LinearDepth
from tests.unit.test_cascade_engine import NOW, USD, WETH, position
from tests.unit.test_serve_api import _store, served


def _snapshot(repo: Repository) -> int:
    return _store(repo, 100)


def _run(shock_8dec: int, curve: bool = False) -> CascadeRun:
    result = run_cascade("ETH", NOW, shock_8dec, [position("0xA", 900), position("0xB", 860)],
                         LinearDepth(0.02), {WETH: NOW})
    return CascadeRun(result, (shock_8dec - NOW) * 10_000 // NOW, "linear test market", curve)


def test_stored_cascade_is_what_was_printed(repo: Repository) -> None:
    snapshot_id = _snapshot(repo)
    single = _run(1_725 * USD)
    (cascade_id,) = save_cascades(repo, snapshot_id, [single])
    (stored,) = load_cascades(repo, snapshot_id, "ETH")
    assert stored == {"id": cascade_id, **cascade_json(single)}
    assert len(stored["path"]) == 2 and stored["path"][0]["sold"][0]["symbol"] == "WETH"
    assert load_cascades(repo, snapshot_id, "BTC") == []


def test_latest_curve_keeps_the_newest_point_per_shock(repo: Repository) -> None:
    snapshot_id = _snapshot(repo)
    save_cascades(repo, snapshot_id, [_run(1_900 * USD, True), _run(1_725 * USD, True)])
    save_cascades(repo, snapshot_id, [_run(1_725 * USD, True)])
    points = latest_curve(repo, snapshot_id, "ETH")
    assert [p["shock_bps"] for p in points] == [-1_375, -500]
    assert points[0]["id"] == max(c["id"] for c in load_cascades(repo, snapshot_id))


async def test_api_cascade_serves_the_stored_rows_with_usd_strings(repo: Repository) -> None:
    snapshot_id = _snapshot(repo)
    save_cascades(repo, snapshot_id, [_run(1_725 * USD), _run(1_725 * USD, True)])
    schemas = openapi_document()["components"]["schemas"]
    async with served(repo) as get:
        status, body = await get("/api/cascade", axis="ETH")
        assert status == 200 and body["axis"] == "ETH"
        latest = body["latest"]
        assert set(latest) == set(schemas["Cascade"]["required"])
        assert latest["shock_price_usd"] == "1725.00000000"
        assert latest["final_price_8dec"] == load_cascades(repo, snapshot_id, "ETH",
                                                           curve=False)[0]["final_price_8dec"]
        for step in latest["path"]:
            assert set(step) == set(schemas["Cascade"]["properties"]["path"]["items"][
                "required"])
        (point,) = body["curve"]
        assert set(point) == set(schemas["CascadePoint"]["required"])
        status, body = await get("/api/cascade", axis="BTC")
        assert status == 200 and body["latest"] is None and body["curve"] == []
        status, body = await get("/api/cascade")
        assert status == 400 and "axis is required" in body["error"]


@pytest.mark.parametrize("bad", [{"axis": "ETH", "snapshot": "x"}])
async def test_api_cascade_bad_query(repo: Repository, bad: dict[str, str]) -> None:
    _snapshot(repo)
    async with served(repo) as get:
        status, body = await get("/api/cascade", **bad)
        assert status == 400 and "\n" not in body["error"]

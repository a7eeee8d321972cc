"""The HTTP API (scanner/serve) over a real database (SQLite and PostgreSQL), through real HTTP
on loopback: every route's answer checked against what the repository stores, every refusal
(bad parameter, wrong method, body, oversized query) answered 4xx with a one-line message."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from scanner.domain import Direction, PositionResult, PositionStatus, Share, SnapshotRecord
from scanner.redact import MASK, register_url
from scanner.serve.app import build_app
from scanner.serve.openapi import openapi_document
from scanner.serve.status import HeadStatus
from scanner.store.export import band_records, bin_records, position_records
from scanner.store.repository import MarketScan, Repository
from tests.conftest import USD, make_sample_scan

SECOND = "devnet-morpho"


def _store(repo: Repository, block: int, n_positions: int = 8) -> int:
    """A two-market snapshot: the sample Aave market and a Morpho market with its own rows."""
    first = make_sample_scan(block=block, n_positions=n_positions)
    other = make_sample_scan(block=block, market_key=SECOND, n_positions=4)
    other_positions = [dataclasses.replace(p, protocol="morpho-blue") for p in other.positions]
    other_record = dataclasses.replace(other.record, protocol="morpho-blue")
    share = Share(SECOND, "morpho-blue", 1, 5 * USD, USD, 0)
    bands = [dataclasses.replace(b, shares=(share,)) if b.direction is Direction.UP else b
             for b in first.bands]
    record = SnapshotRecord(chain="devnet", chain_id=31337, block=block,
                            block_timestamp=first.record.block_timestamp,
                            markets=(first.record, other_record))
    # a position liquidatable now on two axes: one row per axis, one position
    both_axes = [dataclasses.replace(p, axis="BTC") for p in first.positions
                 if p.status is PositionStatus.LIQUIDATABLE_NOW and p.axis == "ETH"]
    return repo.save_snapshot(record, [
        MarketScan(first.record, [*first.positions, *both_axes], first.discovered, block),
        MarketScan(other_record, other_positions, other.discovered, block)], first.bins, bands)


class Live:
    """What a daemon reports (the real daemon implements the same LiveStatus protocol)."""

    def __init__(self, head: HeadStatus, text: str) -> None:
        self.head, self.text = head, text

    def head_status(self) -> HeadStatus:
        return self.head

    def metrics_text(self) -> str:
        return self.text


@asynccontextmanager
async def served(repo: Repository, **options: Any) -> AsyncIterator[Callable[..., Any]]:
    """The app on a real loopback port; yields `get(path, **params) -> (status, body)`."""
    server = TestServer(build_app(repo.engine, **options), host="127.0.0.1")
    await server.start_server()
    async with ClientSession() as session:
        async def get(path: str, method: str = "GET", **params: Any) -> tuple[int, Any]:
            url = str(server.make_url(path))
            async with session.request(method, url, params=params or None) as response:
                text = await response.text()
                if response.content_type == "application/json":
                    return response.status, json.loads(text)
                return response.status, text
        try:
            yield get
        finally:
            await server.close()


def _record(repo: Repository, snapshot_id: int) -> SnapshotRecord:
    return repo.get_snapshot(snapshot_id).record


async def test_snapshots_newest_first_and_after(repo: Repository) -> None:
    ids = [_store(repo, block) for block in (100, 101, 102)]
    async with served(repo) as get:
        status, body = await get("/api/snapshots")
        assert status == 200 and body["latest_id"] == ids[-1]
        assert [s["id"] for s in body["snapshots"]] == ids[::-1]
        newest = body["snapshots"][0]
        assert (newest["block"], newest["chain"]) == (102, "devnet")
        assert [m["market"] for m in newest["markets"]] == ["devnet-aave-v3", SECOND]
        _, later = await get("/api/snapshots", after=str(ids[0]))
        assert [s["id"] for s in later["snapshots"]] == ids[:0:-1]


async def test_bands_and_histogram_are_the_stored_rows(repo: Repository) -> None:
    snapshot_id = _store(repo, 100)
    record = _record(repo, snapshot_id)
    async with served(repo) as get:
        status, body = await get("/api/bands")
        assert status == 200 and body["snapshot"]["id"] == snapshot_id
        assert body["bands"] == json.loads(json.dumps(
            band_records(record, repo.load_bands(snapshot_id))))
        _, up = await get("/api/bands", direction="up", axis="ETH")
        assert [b["direction"] for b in up["bands"]] == ["up"]
        assert up["bands"][0]["by_protocol"][0]["protocol"] == "morpho-blue"
        _, of_market = await get("/api/bands", market=SECOND)
        assert [b["direction"] for b in of_market["bands"]] == ["up"]
        _, bins = await get("/api/histogram", axis="ETH", snapshot=str(snapshot_id))
        assert bins["bins"] == json.loads(json.dumps(
            bin_records(record, repo.load_bins(snapshot_id, "ETH"))))
        _, none = await get("/api/histogram", axis="BTC")
        assert none["bins"] == []


def _expected(repo: Repository, snapshot_id: int, keep: Callable[[PositionResult], bool]
              ) -> list[Any]:
    kept = [p for p in repo.load_positions(snapshot_id) if keep(p)]
    return json.loads(json.dumps(position_records(_record(repo, snapshot_id), kept)))


async def test_positions_filters(repo: Repository) -> None:
    snapshot_id = _store(repo, 100)
    low, high = 1_781_09234567 + USD, 1_781_09234567 + 5 * USD + 100
    cases: list[tuple[dict[str, str], Callable[[PositionResult], bool]]] = [
        ({}, lambda p: True),
        ({"axis": "BTC"}, lambda p: p.axis == "BTC"),
        ({"market": SECOND}, lambda p: p.market_key == SECOND),
        ({"protocol": "morpho-blue"}, lambda p: p.protocol == "morpho-blue"),
        ({"status": "liquidatable_now"}, lambda p: p.status is PositionStatus.LIQUIDATABLE_NOW),
        ({"direction": "up", "axis": "BTC"}, lambda p: p.direction is Direction.UP),
        ({"min_price": "1782.09234567", "max_price": f"{high / USD:.8f}"},
         lambda p: p.liquidation_price_8dec is not None
         and low <= p.liquidation_price_8dec <= high),
    ]
    async with served(repo) as get:
        for params, keep in cases:
            status, body = await get("/api/positions", **params)
            assert status == 200, (params, body)
            expected = _expected(repo, snapshot_id, keep)
            assert expected, params  # every case selects something
            assert body["positions"] == expected and body["total"] == len(expected), params


async def test_positions_pages_by_cursor_and_offset(repo: Repository) -> None:
    snapshot_id = _store(repo, 100, n_positions=11)
    everything = _expected(repo, snapshot_id, lambda p: True)
    async with served(repo) as get:
        seen, cursor = [], None
        while True:
            params = {"limit": "4"} | ({"cursor": cursor} if cursor else {})
            _, page = await get("/api/positions", **params)
            seen += page["positions"]
            assert page["total"] == len(everything)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == everything
        _, third = await get("/api/positions", limit="4", offset="8")
        assert third["positions"] == everything[8:12]


async def test_axes_liquidatable_now_totals(repo: Repository) -> None:
    snapshot_id = _store(repo, 100, n_positions=11)
    positions = repo.load_positions(snapshot_id)
    async with served(repo) as get:
        _, body = await get("/api/axes")
    by_axis = {a["axis"]: a for a in body["axes"]}
    assert set(by_axis) == {p.axis for p in positions}
    for axis, summary in by_axis.items():
        now = [p for p in positions
               if p.axis == axis and p.status is PositionStatus.LIQUIDATABLE_NOW]
        assert summary["liquidatable_now_positions"] == len(now)
        total = sum(p.collateral_usd_8dec for p in now)
        assert summary["liquidatable_now_collateral_usd_8dec"] == total
        assert summary["price_now_usd"] == "2000.00000000"
    assert by_axis["ETH"]["liquidatable_now_positions"] > 0
    once = {(p.market_key, p.account): p.collateral_usd_8dec for p in positions
            if p.status is PositionStatus.LIQUIDATABLE_NOW}
    assert sum(a["liquidatable_now_positions"] for a in body["axes"]) > len(once)
    assert body["liquidatable_now"]["positions"] == len(once)
    assert body["liquidatable_now"]["collateral_usd_8dec"] == sum(once.values())


async def test_history_moves_oldest_first(repo: Repository) -> None:
    ids = [_store(repo, block) for block in (100, 101, 102, 103)]
    async with served(repo) as get:
        status, body = await get("/api/history", axis="ETH", snapshots="3", top="1")
    assert status == 200 and body["axis"] == "ETH"
    assert [p["snapshot_id"] for p in body["points"]] == ids[1:]
    for point in body["points"]:
        assert {(b["direction"], b["rank"]) for b in point["bands"]} == {("down", 1), ("up", 1)}
        assert point["bands"][0]["low_usd"] == "1781.09234567"
        assert point["price_now_usd"] == "2000.00000000"


@pytest.mark.parametrize(("path", "params", "fragment"), [
    pytest.param("/api/positions", {"limt": "3"}, "unknown query parameter", id="unknown"),
    pytest.param("/api/positions", {"limit": "x"}, "limit='x' is not a whole number", id="int"),
    pytest.param("/api/positions", {"limit": "5000"}, "out of range", id="range"),
    pytest.param("/api/positions", {"min_price": "1e3"}, "not a USD price", id="price"),
    pytest.param("/api/positions", {"min_price": "3", "max_price": "2"}, "above", id="min>max"),
    pytest.param("/api/positions", {"status": "dead"}, "not one of", id="status"),
    pytest.param("/api/positions", {"cursor": "3", "offset": "4"}, "not both", id="paging"),
    pytest.param("/api/positions", {"offset": "10001"}, "page on with cursor", id="deep"),
    pytest.param("/api/positions", {"axis": "ETH' OR '1'='1"}, "is not a name", id="quote"),
    pytest.param("/api/history", {}, "axis is required", id="history-axis"),
    pytest.param("/api/bands", {"direction": "sideways"}, "not one of", id="direction"),
    pytest.param("/api/bands", {"snapshot": "-1"}, "not a whole number", id="snapshot"),
])
async def test_bad_query_is_400_one_line(repo: Repository, path: str, params: dict[str, str],
                                         fragment: str) -> None:
    _store(repo, 100)
    async with served(repo) as get:
        status, body = await get(path, **params)
    assert status == 400 and fragment in body["error"] and "\n" not in body["error"]


async def test_refusals(repo: Repository) -> None:
    _store(repo, 100)
    async with served(repo) as get:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            status, body = await get("/api/bands", method=method)
            assert status == 405 and "read-only" in body["error"], method
        status, body = await get("/api/bands", axis="E" * 3000)
        assert status == 414 and "query string" in body["error"]
        status, body = await get("/api/positions", snapshot="999")
        assert status == 404 and "no snapshot with id 999" in body["error"]
        status, body = await get("/api/bands?axis=ETH&axis=BTC")
        assert status == 400 and "axis given more than once" in body["error"]
        status, body = await get("/nothing-here")
        assert status == 404 and body["error"]
        status, body = await get("/api/bands", limit="1", axis="ETH", direction="up",
                                 **{f"p{i}": "1" for i in range(20)})
        assert status == 400 and "too many" in body["error"]


async def test_a_body_is_refused(repo: Repository) -> None:
    server = TestServer(build_app(repo.engine), host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession() as session, session.get(
                str(server.make_url("/api/bands")), data=b"x" * 10) as response:
            assert response.status == 413
    finally:
        await server.close()


async def test_empty_database(repo: Repository) -> None:
    async with served(repo) as get:
        status, body = await get("/healthz")
        assert status == 503 and body["status"] == "empty"
        status, body = await get("/api/bands")
        assert status == 404 and "no complete snapshot" in body["error"]
        status, body = await get("/api/snapshots")
        assert status == 200 and body == {"latest_id": None, "snapshots": []}


async def test_healthz_fresh_stale_and_lag(repo: Repository) -> None:
    snapshot_id = _store(repo, 100)
    stored_at = repo.get_snapshot(snapshot_id).created_at.timestamp()
    async with served(repo, stale_after_s=600, clock=lambda: stored_at + 30) as get:
        status, body = await get("/healthz")
    assert status == 200 and body["status"] == "ok" and body["head"] is None
    assert body["chains"][0]["snapshot_id"] == snapshot_id and body["chains"][0]["age_s"] == 30
    live = Live(HeadStatus(head_block=160, head_seen_unix=stored_at, last_snapshot_block=150),
                "")
    async with served(repo, live=live, stale_after_s=600, clock=lambda: stored_at + 601) as get:
        status, body = await get("/healthz")
    assert status == 503 and body["status"] == "stale" and "devnet" in body["message"]
    assert body["head"] == {"head_block": 160, "head_seen_unix": stored_at,
                            "last_snapshot_block": 150, "lag_blocks": 10}


async def test_metrics_from_the_database_and_the_daemon(repo: Repository) -> None:
    snapshot_id = _store(repo, 100)
    live_text = ("# HELP liqscan_rpc_requests_total RPC requests\n"
                 "# TYPE liqscan_rpc_requests_total counter\nliqscan_rpc_requests_total 7.0\n")
    live = Live(HeadStatus(None, None, None), live_text)
    async with served(repo, live=live) as get:
        status, text = await get("/metrics")
    assert status == 200 and text.startswith(live_text)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("liqscan_rpc_requests_total", ())] == 7
    assert samples[("liqscan_db_snapshot_block", (("chain", "devnet"),))] == 100
    positions = repo.load_positions(snapshot_id)
    assert samples[("liqscan_db_snapshot_positions", (("chain", "devnet"),))] == len(positions)
    top = next(b for b in repo.load_bands(snapshot_id) if b.direction is Direction.DOWN)
    key = (("axis", "ETH"), ("chain", "devnet"), ("direction", "down"))
    assert samples[("liqscan_db_top_band_collateral_usd", key)] == top.collateral_usd_8dec / USD
    now = sum(p.collateral_usd_8dec for p in positions
              if p.axis == "ETH" and p.status is PositionStatus.LIQUIDATABLE_NOW)
    assert samples[("liqscan_db_liquidatable_now_collateral_usd",
                    (("axis", "ETH"), ("chain", "devnet")))] == pytest.approx(now / USD)


async def test_openapi_describes_every_route_and_answer(repo: Repository) -> None:
    _store(repo, 100)
    app = build_app(repo.engine)
    document = openapi_document()
    routes = {r.resource.canonical for r in app.router.routes()
              if r.resource is not None and r.method == "GET"}
    assert routes - {"/", "/static"} == set(document["paths"])
    schemas = document["components"]["schemas"]
    async with served(repo) as get:
        for path, item, schema in (("/api/bands", "bands", "Band"),
                                   ("/api/histogram", "bins", "Bin"),
                                   ("/api/positions", "positions", "Position"),
                                   ("/api/axes", "axes", "Axis")):
            _, body = await get(path)
            assert set(body) == set(document["paths"][path]["get"]["responses"]["200"][
                "content"]["application/json"]["schema"]["required"])
            assert body[item], path
            for row in body[item]:
                assert set(row) == set(schemas[schema]["required"]), path
        _, body = await get("/api/history", axis="ETH")
        point_schema = document["paths"]["/api/history"]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]["properties"]["points"]["items"]
        for point in body["points"]:
            assert set(point) == set(point_schema["required"])
            for band in point["bands"]:
                assert set(band) == set(schemas["HistoryBand"]["required"])
        _, body = await get("/api/snapshots")
        assert all(set(s) == set(schemas["Snapshot"]["required"]) for s in body["snapshots"])
        _, body = await get("/healthz")
        assert set(body) - {"message"} == set(schemas["Health"]["required"])
        _, body = await get("/api/openapi.json")
        assert body == json.loads(json.dumps(document))


async def test_several_chains_need_chain(repo: Repository) -> None:
    _store(repo, 100)
    other = make_sample_scan(block=7, market_key="base-aave-v3")
    base_id = repo.save_scan(dataclasses.replace(other.record, chain="base", chain_id=8453),
                             other.positions, other.bins, other.bands, other.discovered, 7)
    async with served(repo) as get:
        status, body = await get("/api/bands")
        assert status == 400 and body["error"].endswith("add chain=NAME")
        assert "base, devnet" in body["error"]
        status, body = await get("/api/bands", chain="base")
        assert status == 200 and body["snapshot"]["id"] == base_id
        _, body = await get("/api/snapshots", chain="base")
        assert body["latest_id"] == base_id and len(body["snapshots"]) == 1
        status, body = await get("/healthz")
        assert {c["chain"] for c in body["chains"]} == {"base", "devnet"}


async def test_no_secret_leaves_the_app(repo: Repository) -> None:
    """Defence in depth: a key the daemon let slip into its metrics, or one a client echoes
    back in a parameter, is masked in the answer (scanner/redact.py)."""
    _store(repo, 100)
    key, query_key = "pathKeyOfTheNode4242", "queryKeyOfTheNode77"
    url = f"https://node.example/v3/{key}?apikey={query_key}"
    register_url(url)
    live_text = f'liqscan_rpc_endpoint_up{{url="{url}"}} 1.0\n'
    async with served(repo, live=Live(HeadStatus(None, None, None), live_text)) as get:
        _, metrics = await get("/metrics")
        status, body = await get("/api/positions", limit=key)
    assert key not in metrics and query_key not in metrics and MASK in metrics
    assert status == 400 and key not in body["error"] and MASK in body["error"]

"""fetch_logs against a real local HTTP server that enforces provider-style eth_getLogs limits."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from scanner.chain.logs import (
    confirmed_head,
    fetch_logs,
    is_too_large_error,
    reorg_safe_start,
    suggested_range,
)
from scanner.chain.rpc import RpcClient, RpcResponseError
from scanner.errors import RpcUnavailableError
from tests.local_http import serve as serve_http

POOL = "0x87870bca3f3fd6335c3f4ce8392d69350b4fa4e2"
TOKEN = "0x6b175474e89094c44da98b954eedeac495271d0f"
OTHER = "0x00000000000000000000000000000000000000ff"
BORROW = "0x" + "b3" * 32
SUPPLY = "0x" + "2b" * 32
TRANSFER = "0x" + "dd" * 32
LAST_BLOCK = 50_000


def make_logs(seed: int = 7) -> list[dict[str, Any]]:
    """Sparse logs everywhere plus one dense cluster (blocks 20,000-20,050)."""
    rng = random.Random(seed)
    blocks = sorted(rng.sample(range(LAST_BLOCK + 1), 600)) + list(range(20_000, 20_051)) * 30
    logs, per_block = [], dict[int, int]()
    for n, block in enumerate(sorted(blocks)):
        index = per_block.get(block, 0)
        per_block[block] = index + 1
        address, topic = [(POOL, BORROW), (POOL, SUPPLY), (TOKEN, TRANSFER), (OTHER, BORROW)][n % 4]
        logs.append(
            {
                "address": address,
                "topics": [topic],
                "data": "0x",
                "blockNumber": hex(block),
                "transactionHash": "0x" + f"{block:032x}{index:032x}",
                "logIndex": hex(index),
                "removed": False,
            }
        )
    return logs


@dataclass
class LogsNode:
    logs: list[dict[str, Any]]
    style: str = "infura"  # infura | alchemy | range
    max_results: int = 200
    max_range: int = 10_000_000
    ranges: list[tuple[int, int]] = field(default_factory=list)
    refused: list[tuple[int, int]] = field(default_factory=list)
    extra_error: dict[str, Any] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        items = await request.json()
        return web.json_response([self.answer(item) for item in items])

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        filter_ = item["params"][0]
        start, end = int(filter_["fromBlock"], 16), int(filter_["toBlock"], 16)
        self.ranges.append((start, end))
        error = self.extra_error or self.limit_error(start, end, filter_)
        if error is not None:
            self.refused.append((start, end))
            return {"jsonrpc": "2.0", "id": item["id"], "error": error}
        found = self.matching(filter_, start, end)
        # Providers sometimes repeat a log or include reorged-out ones: the client must cope.
        extra = [dict(found[0], removed=True, logIndex="0x7ff")] if found else []
        return {"jsonrpc": "2.0", "id": item["id"], "result": found + found[:1] + extra}

    def matching(self, filter_: dict[str, Any], start: int, end: int) -> list[dict[str, Any]]:
        addresses = {a.lower() for a in filter_["address"]}
        topic0 = filter_["topics"][0]
        wanted = set(topic0) if isinstance(topic0, list) else {topic0}
        return [
            log
            for log in self.logs
            if start <= int(log["blockNumber"], 16) <= end
            and log["address"] in addresses
            and log["topics"][0] in wanted
        ]

    def limit_error(self, start: int, end: int, filter_: dict[str, Any]) -> dict[str, Any] | None:
        if end - start + 1 > self.max_range:
            return {"code": -32600, "message": f"exceed maximum block range: {self.max_range}"}
        found = self.matching(filter_, start, end)
        if len(found) <= self.max_results:
            return None
        fits = int(found[self.max_results - 1]["blockNumber"], 16) - 1
        fits = max(fits, start)
        hint = f"[{hex(start)}, {hex(fits)}]"
        if self.style == "infura":
            return {
                "code": -32005,
                "message": f"query returned more than {self.max_results} "
                f"results. Try with this block range {hint}.",
            }
        if self.style == "alchemy":
            return {
                "code": -32602,
                "message": "Log response size exceeded. You can make "
                "eth_getLogs requests with up to a 2K block range and no limit on the response "
                f"size, or you can request any block range with a cap of 10K logs in the "
                f"response. Based on your parameters, this block range should work: {hint}",
            }
        return {
            "code": -32000,
            "message": "query exceeds max results 200, retry with a smaller block range",
        }


def serve(node: LogsNode) -> contextlib.AbstractAsyncContextManager[str]:
    return serve_http(node.handle)



def expected(logs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (log["transactionHash"], log["logIndex"])
        for log in logs
        if log["address"] == POOL and log["topics"][0] in (BORROW, SUPPLY)
    ]


@pytest.mark.parametrize("style", ["infura", "alchemy", "plain"])
@pytest.mark.parametrize("concurrency", [1, 4])
async def test_every_log_once_sorted_and_windows_adapt(style: str, concurrency: int) -> None:
    logs = make_logs()
    node = LogsNode(logs, style=style, max_results=200, max_range=20_000)
    progress: list[tuple[int, int]] = []
    async with serve(node) as url, RpcClient(url) as rpc:
        found = await fetch_logs(
            rpc,
            [POOL],
            [[BORROW, SUPPLY]],
            0,
            LAST_BLOCK,
            initial_window=1_000,
            concurrency=concurrency,
            on_progress=lambda done, total: progress.append((done, total)),
        )
    assert [(log["transactionHash"], log["logIndex"]) for log in found] == expected(logs)
    assert not any(log["removed"] for log in found)
    sizes = [end - start + 1 for start, end in node.ranges]
    assert max(sizes) > 1_000  # grew on success...
    assert min(sizes) < 100  # ...and shrank to get through the dense cluster
    assert node.refused
    assert progress[-1] == (LAST_BLOCK + 1, LAST_BLOCK + 1)


async def test_suggested_range_is_used_directly() -> None:
    node = LogsNode(make_logs(), style="infura", max_results=200)
    async with serve(node) as url, RpcClient(url) as rpc:
        await fetch_logs(
            rpc, [POOL], [[BORROW, SUPPLY]], 19_000, 21_000, initial_window=5_000, concurrency=1
        )
    first_refused = node.refused[0]
    retried = node.ranges[node.ranges.index(first_refused) + 1]
    message = node.limit_error(*first_refused, {"address": [POOL], "topics": [[BORROW, SUPPLY]]})
    assert message is not None
    assert retried == suggested_range(message)


async def test_unrelated_error_raises_instead_of_splitting() -> None:
    # ("header not found" used to be this example: it is transient now, see test_rpc.py)
    node = LogsNode(make_logs(), extra_error={"code": -32602, "message": "invalid argument 0"})
    async with serve(node) as url, RpcClient(url) as rpc:
        with pytest.raises(RpcResponseError, match=r"eth_getLogs failed .* invalid argument 0"):
            await fetch_logs(rpc, [POOL], [BORROW], 0, 100)
    assert len(node.ranges) == 1


async def test_single_block_over_the_limit_is_reported() -> None:
    node = LogsNode(make_logs(), style="plain", max_results=5)
    async with serve(node) as url, RpcClient(url) as rpc:
        with pytest.raises(RpcUnavailableError, match="blocks 20000-20000 is still too large"):
            await fetch_logs(rpc, [POOL], [[BORROW, SUPPLY]], 19_990, 20_010, initial_window=32)


async def test_empty_range_sends_nothing() -> None:
    node = LogsNode(make_logs())
    async with serve(node) as url, RpcClient(url) as rpc:
        assert await fetch_logs(rpc, [POOL], [BORROW], 10, 9) == []
    assert node.ranges == []


@pytest.mark.parametrize(
    ("message", "too_large", "hint"),
    [
        (
            "query returned more than 10000 results. Try with this block range [0x10, 0x20].",
            True,
            (16, 32),
        ),
        (
            "Log response size exceeded. ... this block range should work: [0xa, 0xf]",
            True,
            (10, 15),
        ),
        ("exceed maximum block range: 5000", True, None),
        ("eth_getLogs is limited to a 10,000 range", True, None),
        ("execution reverted", False, None),
    ],
)
def test_error_classification(message: str, too_large: bool, hint: tuple[int, int] | None) -> None:
    error = {"code": -32005, "message": message}
    assert is_too_large_error(error) is too_large
    assert suggested_range(error) == hint


def test_confirmed_head_and_reorg_safe_start() -> None:
    assert confirmed_head(1_000, 12) == 988
    assert confirmed_head(5, 12) == 0
    assert reorg_safe_start(988, 64) == 925
    assert reorg_safe_start(988, 0) == 989
    assert reorg_safe_start(10, 64) == 0


@dataclass
class ChokingNode(LogsNode):
    """Answers small ranges; on ranges above `choke_above` blocks it hangs past the timeout."""

    choke_above: int = 3_000

    async def handle(self, request: web.Request) -> web.Response:
        items = await request.json()
        for item in items:
            filter_ = item["params"][0]
            size = int(filter_["toBlock"], 16) - int(filter_["fromBlock"], 16) + 1
            if size > self.choke_above:
                self.refused.append((int(filter_["fromBlock"], 16), int(filter_["toBlock"], 16)))
                await asyncio.sleep(1.0)
        return web.json_response([self.answer(item) for item in items])


async def test_window_the_node_chokes_on_is_split() -> None:
    logs = make_logs()
    node = ChokingNode(logs, max_results=10_000, choke_above=3_000)
    async with serve(node) as url, RpcClient(url, timeout_seconds=0.2, max_retries=1,
                                             backoff_base_seconds=0.01) as rpc:
        found = await fetch_logs(rpc, [POOL], [[BORROW, SUPPLY]], 0, 20_000,
                                 initial_window=1_000, concurrency=1)
    up_to = [log for log in logs if int(log["blockNumber"], 16) <= 20_000]
    assert [(log["transactionHash"], log["logIndex"]) for log in found] == expected(up_to)
    assert node.refused  # it did choke, and the run still completed


async def test_a_node_that_never_answers_fails_fast() -> None:
    node = ChokingNode(make_logs(), choke_above=0)
    async with serve(node) as url, RpcClient(url, timeout_seconds=0.2, max_retries=1,
                                             backoff_base_seconds=0.01) as rpc:
        with pytest.raises(RpcUnavailableError):
            await fetch_logs(rpc, [POOL], [BORROW], 0, 50_000, initial_window=1_000,
                             concurrency=1)
    assert len(node.refused) <= 2  # no splitting without a single answer

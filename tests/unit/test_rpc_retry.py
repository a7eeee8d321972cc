"""Transient faults the client retries, against a real local HTTP server: `header not found`,
an eth_call answering 0x for a contract with code, held connections; retries are counted by
kind and logged."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from scanner.chain.retry import RetryPolicy, transient_error_kind
from scanner.chain.rpc import RpcClient
from scanner.errors import RpcUnavailableError
from tests.local_http import serve

CONTRACT = "0x00000000000000000000000000000000000000c0"
EMPTY_ACCOUNT = "0x00000000000000000000000000000000000000e0"
FAST = RetryPolicy(backoff_base_seconds=0.001, max_backoff_seconds=0.01,
                   request_timeout_seconds=0.5)


@dataclass
class Node:
    """eth_call answers `empty_calls` times 0x, then 0xabcd; the first `lagging` block-pinned
    requests get `header not found`; the first `held` posts are never answered."""

    empty_calls: int = 0
    lagging: int = 0
    held: int = 0
    unavailable: int = 0  # posts answered HTTP 503 first
    code_reads: list[str] = field(default_factory=list)
    calls: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        items = await request.json()
        if self.unavailable:
            self.unavailable -= 1
            return web.Response(status=503, text="<html>503</html>", content_type="text/html")
        if self.held:
            self.held -= 1
            await asyncio.sleep(2)  # well past the 0.5 s request timeout
        return web.json_response([self.answer(item) for item in items])

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": item["id"]}
        method, params = item["method"], item["params"]
        if self.lagging and method in ("eth_call", "eth_getCode"):
            self.lagging -= 1
            reply["error"] = {"code": -32000, "message": "header not found"}
        elif method == "eth_getCode":
            self.code_reads.append(params[0])
            reply["result"] = "0x6001" if params[0] == CONTRACT else "0x"
        elif method == "eth_call":
            self.calls += 1
            empty = self.empty_calls > 0 or params[0]["to"] == EMPTY_ACCOUNT
            self.empty_calls -= 1
            reply["result"] = "0x" if empty else "0xabcd"
        return reply


def _client(url: str) -> RpcClient:
    return RpcClient(url, policy=FAST)


async def test_header_not_found_is_retried() -> None:
    node = Node(lagging=2)
    async with serve(node.handle) as url, _client(url) as rpc:
        assert await rpc.eth_call(CONTRACT, b"\x01", 100) == bytes.fromhex("abcd")
    assert rpc.stats.retries_by_kind == {"header-not-found": 2}


async def test_0x_from_a_contract_with_code_is_retried() -> None:
    node = Node(empty_calls=2)
    async with serve(node.handle) as url, _client(url) as rpc:
        assert await rpc.eth_call(CONTRACT, b"\x01", 100) == bytes.fromhex("abcd")
    assert rpc.stats.retries_by_kind == {"empty-0x": 2}
    assert node.code_reads == [CONTRACT]  # code confirmed once, then cached


async def test_0x_is_believed_only_after_that_many_0x_answers_not_attempts() -> None:
    # regression: three 503s then one 0x used to exhaust the 0x budget (attempts were counted)
    node = Node(unavailable=3, empty_calls=1)
    async with serve(node.handle) as url, _client(url) as rpc:
        assert await rpc.eth_call(CONTRACT, b"\x01", 100) == bytes.fromhex("abcd")
    assert rpc.stats.retries_by_kind == {"http-5xx": 3, "empty-0x": 1}


async def test_0x_from_an_address_without_code_is_the_answer() -> None:
    node = Node()
    async with serve(node.handle) as url, _client(url) as rpc:
        assert await rpc.eth_call(EMPTY_ACCOUNT, b"\x01", 100) == b""
    assert rpc.stats.retries == 0 and node.calls == 1


async def test_a_contract_that_always_answers_0x_is_believed_after_bounded_attempts() -> None:
    node = Node(empty_calls=100)
    async with serve(node.handle) as url, _client(url) as rpc:
        assert await rpc.eth_call(CONTRACT, b"\x01", 100) == b""
    assert node.calls == FAST.empty_result_attempts


async def test_held_connection_is_abandoned_at_the_request_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    node = Node(held=2)
    with caplog.at_level(logging.INFO, logger="scanner.chain.rpc"):
        async with serve(node.handle) as url, _client(url) as rpc:
            assert await rpc.eth_call(CONTRACT, b"\x01", 100) == bytes.fromhex("abcd")
    assert rpc.stats.retries_by_kind == {"timeout": 2}
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all("timeout: no answer within 0.5 s" in x for x in lines)
    assert all("backoff" in line and url not in line for line in lines)


async def test_a_node_that_keeps_lagging_is_unavailable() -> None:
    node = Node(lagging=1_000)
    async with serve(node.handle) as url, _client(url) as rpc:
        with pytest.raises(RpcUnavailableError, match="after 8 attempts: JSON-RPC header not"):
            await rpc.eth_call(CONTRACT, b"\x01", 100)


@pytest.mark.parametrize(("error", "kind"), [
    ({"code": -32000, "message": "header not found"}, "header-not-found"),
    ({"code": -32000, "message": "unknown block"}, "header-not-found"),
    ({"code": 429, "message": "Too Many Requests"}, "rate-limited"),
    ({"code": -32000, "message": "execution reverted"}, None),
    ({"code": -32000, "message": "missing trie node abc (path )"}, None),
])
def test_transient_error_kinds(error: dict[str, Any], kind: str | None) -> None:
    assert transient_error_kind(error) == kind


def test_backoff_is_bounded() -> None:
    policy = RetryPolicy(backoff_base_seconds=0.25, max_backoff_seconds=4.0)
    assert max(policy.delay_seconds(attempt, None) for attempt in range(30)) <= 4.0
    assert policy.delay_seconds(0, 10_000.0) == 30.0  # a Retry-After is honoured, up to 30 s

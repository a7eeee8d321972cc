"""RpcClient against a real local HTTP server that misbehaves on purpose (no client mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from scanner.chain.retry import is_rate_limit_error
from scanner.chain.rpc import (
    RpcClient,
    RpcResponseError,
    redact_url,
    retry_after_seconds,
)
from scanner.errors import ConfigError, RpcUnavailableError
from tests.local_http import serve as serve_http

Behaviour = Callable[[list[dict[str, Any]]], Any]


@dataclass
class FakeNode:
    """A JSON-RPC server: each POST consumes the next scripted behaviour, then answers normally."""

    script: list[Behaviour] = field(default_factory=list)
    posts: list[list[dict[str, Any]]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    delay_seconds: float = 0.0
    code: dict[str, str] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        items = body if isinstance(body, list) else [body]
        self.posts.append(items)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)
            if self.script:
                special = self.script.pop(0)(items)
                if asyncio.iscoroutine(special):
                    special = await special
                if special is not None:
                    return special  # type: ignore[no-any-return]
            # Reversed on purpose: the client must match answers by id, not by position.
            return web.json_response([self.answer(item) for item in reversed(items)])
        finally:
            self.in_flight -= 1

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        method, params = item["method"], item["params"]
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": item["id"]}
        if method == "eth_chainId":
            reply["result"] = "0x1"
        elif method == "eth_getCode":
            reply["result"] = self.code.get(params[0].lower(), "0x")
        elif method == "echo":
            reply["result"] = params[0]
        else:
            reply["error"] = {"code": -32601, "message": f"method {method} not found"}
        return reply


def serve(node: FakeNode) -> contextlib.AbstractAsyncContextManager[str]:
    return serve_http(node.handle)



def status(code: int, headers: dict[str, str] | None = None) -> Behaviour:
    return lambda _items: web.Response(status=code, text="busy", headers=headers or {})


def item_error(index: int, code: int, message: str) -> Behaviour:
    def behave(items: list[dict[str, Any]]) -> web.Response:
        answers = [FakeNode().answer(item) for item in items]
        answers[index] = {
            "jsonrpc": "2.0",
            "id": items[index]["id"],
            "error": {"code": code, "message": message},
        }
        return web.json_response(answers)

    return behave


def echo_calls(n: int) -> list[tuple[str, list[Any]]]:
    return [("echo", [f"0x{i:02x}"]) for i in range(n)]


def fast_client(url: str, **options: Any) -> RpcClient:
    """A client whose backoff is 1 ms, so retry tests stay quick."""
    return RpcClient(url, backoff_base_seconds=0.001, timeout_seconds=5.0, **options)


async def test_batch_keeps_order_across_chunks_and_counts_posts() -> None:
    node = FakeNode()
    async with serve(node) as url, fast_client(url, max_batch_size=3) as rpc:
        results = await rpc.batch(echo_calls(10))
    assert results == [f"0x{i:02x}" for i in range(10)]
    assert sorted(len(p) for p in node.posts) == [1, 3, 3, 3]
    assert (rpc.stats.http_posts, rpc.stats.requests, rpc.stats.retries) == (4, 10, 0)


async def test_concurrency_is_bounded_by_the_semaphore() -> None:
    node = FakeNode(delay_seconds=0.05)
    async with serve(node) as url, RpcClient(url, max_batch_size=1, max_concurrency=2) as rpc:
        await rpc.batch(echo_calls(8))
    assert node.max_in_flight == 2


async def test_http_429_honours_retry_after_seconds() -> None:
    node = FakeNode(script=[status(429, {"Retry-After": "1"})])
    async with serve(node) as url, fast_client(url) as rpc:
        assert await rpc.request("echo", ["0xab"]) == "0xab"
    assert rpc.stats.retries == 1
    assert rpc.stats.backoff_seconds >= 1.0  # the server's delay, not the 1 ms base
    assert len(node.posts) == 2


async def test_http_429_honours_retry_after_http_date() -> None:
    in_two_seconds = email.utils.formatdate(time.time() + 2, usegmt=True)
    node = FakeNode(script=[status(429, {"Retry-After": in_two_seconds})])
    async with serve(node) as url, fast_client(url) as rpc:
        assert await rpc.request("echo", ["0x01"]) == "0x01"
    assert rpc.stats.backoff_seconds > 0.5


def test_retry_after_parsing() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now) == 30.0
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


@pytest.mark.parametrize("code", [500, 502, 503, 504])
async def test_5xx_is_retried(code: int) -> None:
    node = FakeNode(script=[status(code), status(code)])
    async with serve(node) as url, fast_client(url) as rpc:
        assert await rpc.request("echo", ["0x02"]) == "0x02"
    assert rpc.stats.retries == 2
    assert len(node.posts) == 3


async def test_timeout_is_retried() -> None:
    async def hang(_items: list[dict[str, Any]]) -> None:
        await asyncio.sleep(1.0)

    node = FakeNode(script=[hang])
    async with (
        serve(node) as url,
        RpcClient(url, timeout_seconds=0.3, backoff_base_seconds=0.001) as rpc,
    ):
        assert await rpc.request("echo", ["0x03"]) == "0x03"
    assert rpc.stats.retries == 1


async def test_non_json_answer_is_retried() -> None:
    node = FakeNode(script=[lambda _i: web.Response(text="<html>bad gateway</html>")])
    async with serve(node) as url, fast_client(url) as rpc:
        assert await rpc.request("echo", ["0x04"]) == "0x04"
    assert rpc.stats.retries == 1


async def test_answer_that_is_no_text_is_retried_then_named() -> None:
    """Bytes that are not UTF-8 are a bad answer like HTML (they once escaped as a traceback)."""
    def no_text(_items: list[dict[str, Any]]) -> web.Response:
        return web.Response(body=b"\xff\xfe<bad>", content_type="application/json")

    node = FakeNode(script=[no_text])
    async with serve(node) as url, fast_client(url) as rpc:
        assert await rpc.request("echo", ["0x06"]) == "0x06"
    assert rpc.stats.retries == 1
    node = FakeNode(script=[no_text] * 3)
    async with serve(node) as url, fast_client(url, max_retries=3) as rpc:
        with pytest.raises(RpcUnavailableError, match=r"non-JSON answer '.*<bad>'"):
            await rpc.request("echo", ["0x06"])


async def test_params_beyond_64_bits_are_posted_exactly() -> None:
    """orjson refuses ints beyond 64 bits (and would read them as floats): such a body is
    encoded, and such an answer parsed, by the stdlib, exactly."""
    node = FakeNode()
    async with serve(node) as url, fast_client(url) as rpc:
        assert await rpc.request("echo", [2**70 + 1]) == 2**70 + 1
    assert node.posts[0][0]["params"] == [2**70 + 1]


async def test_answer_the_stdlib_accepts_is_read_as_before() -> None:
    """NaN is no JSON for orjson; the stdlib reads it, as the client always did."""
    def nan(items: list[dict[str, Any]]) -> web.Response:
        return web.Response(text=f'[{{"jsonrpc":"2.0","id":{items[0]["id"]},"result":NaN}}]')

    async with serve(FakeNode(script=[nan])) as url, fast_client(url) as rpc:
        result = await rpc.request("echo", ["0x07"])
    assert result != result  # NaN
    assert rpc.stats.retries == 0


async def test_gives_up_after_max_retries_with_a_clear_message() -> None:
    node = FakeNode(script=[status(503)] * 10)
    async with serve(node) as url, fast_client(url, max_retries=4) as rpc:
        with pytest.raises(RpcUnavailableError, match=r"unavailable after 4 attempts: HTTP 503"):
            await rpc.request("echo", ["0x05"])
    assert len(node.posts) == 4


async def test_connection_refused_raises_rpc_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with fast_client(f"http://127.0.0.1:{port}/v2/SECRET", max_retries=3) as rpc:
        with pytest.raises(RpcUnavailableError, match="after 3 attempts") as info:
            await rpc.chain_id()
    assert "SECRET" not in str(info.value)
    assert str(info.value).endswith("retry later")
    assert info.value.exit_code == 75


async def test_http_401_is_not_retried() -> None:
    node = FakeNode(script=[status(401)])
    async with serve(node) as url, fast_client(url) as rpc:
        with pytest.raises(RpcUnavailableError, match="HTTP 401"):
            await rpc.request("echo", ["0x06"])
    assert len(node.posts) == 1


async def test_rate_limited_item_is_resent_alone() -> None:
    limited = item_error(1, -32005, "daily request count exceeded, request rate limited")
    node = FakeNode(script=[limited])
    async with serve(node) as url, fast_client(url) as rpc:
        assert await rpc.batch(echo_calls(3)) == ["0x00", "0x01", "0x02"]
    assert [len(p) for p in node.posts] == [3, 1]
    assert node.posts[1][0]["params"] == ["0x01"]


async def test_whole_batch_rate_limit_object_is_retried() -> None:
    error = {"jsonrpc": "2.0", "id": None, "error": {"code": 429, "message": "Too Many Requests"}}
    node = FakeNode(script=[lambda _i: web.json_response(error)])
    async with serve(node) as url, fast_client(url) as rpc:
        assert await rpc.batch(echo_calls(2)) == ["0x00", "0x01"]
    assert rpc.stats.retries == 1


async def test_item_error_raises_with_method_or_is_returned_per_item() -> None:
    node = FakeNode()
    calls = [("echo", ["0x01"]), ("eth_nope", []), ("echo", ["0x03"])]
    async with serve(node) as url, fast_client(url) as rpc:
        with pytest.raises(RpcResponseError, match=r"eth_nope failed with JSON-RPC error -32601"):
            await rpc.batch(calls)
        outcomes = await rpc.batch_outcomes(calls)
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[2].result == "0x03"
    assert outcomes[1].error is not None and outcomes[1].error["code"] == -32601
    assert rpc.stats.retries == 0  # a real error is never retried


async def test_check_chain_and_require_code() -> None:
    pool = "0x87870bca3f3fd6335c3f4ce8392d69350b4fa4e2"
    node = FakeNode(code={pool: "0x6080"})
    async with serve(node) as url, fast_client(url) as rpc:
        await rpc.check_chain(1, "ethereum")
        with pytest.raises(ConfigError, match=r"chains\.base\.chain_id is 8453 .* serves chain 1"):
            await rpc.check_chain(8453, "base")
        await rpc.require_code({"Pool": pool}, 100)
        oracle = "0x54586be62e3c3580375ae3723c145253060ca0c2"
        with pytest.raises(ConfigError) as info:
            await rpc.require_code({"Pool": pool, "AaveOracle": oracle}, 100)
    assert str(info.value) == (
        "AaveOracle 0x54586bE62E3c3580375aE3723C145253060Ca0C2 has no code on chain 1 "
        "at block 100: check the address"
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"code": -32005, "message": "limit exceeded"}, True),
        ({"code": 429, "message": "Too Many Requests"}, True),
        ({"code": -32000, "message": "Your app has exceeded its compute units capacity"}, True),
        ({"code": -32005, "message": "query returned more than 10000 results"}, False),
        ({"code": -32602, "message": "Log response size exceeded."}, False),
        ({"code": 3, "message": "execution reverted"}, False),
    ],
)
def test_rate_limit_classification(error: dict[str, Any], expected: bool) -> None:
    assert is_rate_limit_error(error) is expected


def test_redact_url_hides_keys() -> None:
    assert redact_url("https://eth-mainnet.g.alchemy.com/v2/abc123") == (
        "https://eth-mainnet.g.alchemy.com/..."
    )
    assert redact_url("http://user:pw@127.0.0.1:8545") == "http://127.0.0.1:8545"
    assert json.dumps(redact_url("http://127.0.0.1:8545/")) == '"http://127.0.0.1:8545"'

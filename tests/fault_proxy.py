"""A fault-injecting JSON-RPC proxy in front of a real node (aiohttp, our own), for the
reliability tests: every request is forwarded to the node, and at `rate` (seeded) one fault of
the kinds that apply to the request replaces or alters the node's answer.

    async with FaultProxy(devnet.rpc_url, rate=0.3, seed=4) as proxy:
        ... scan through proxy.url ...
    proxy.injected            # Counter: fault kind -> times injected

    with FaultProxy(url, kinds=("http-503",), rate=1.0, max_faults=3).in_thread() as proxy:
        subprocess.run(["liqscan", ...])   # a CLI run in another process goes through it

Fault kinds (KINDS): rate limits with and without Retry-After, 500/502/503 with HTML bodies,
held connections (answered never, within `hold_seconds`), connection resets, truncated JSON,
batch answers shuffled or missing an item, `header not found` for block-pinned calls, `0x`
for eth_calls, eth_getLogs range errors in the shapes of real providers, and a block hash
that differs from the node's (a reorg seen mid-scan).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import aiohttp
from aiohttp import web

Item = dict[str, Any]
TRANSPORT_KINDS = ("http-429", "http-429-retry-after", "http-500-html", "http-502-html",
                   "http-503-html", "hang", "reset", "truncated-json")
KINDS = (*TRANSPORT_KINDS, "batch-shuffled", "batch-missing-id", "header-not-found",
         "empty-0x", "logs-range", "reorg-hash")
_BLOCK_PARAM = {"eth_call": 1, "eth_getCode": 1, "eth_getBlockByNumber": 0,
                "eth_getBalance": 1, "eth_getStorageAt": 2}
_HTML = ("<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center><hr>"
         "<center>nginx</center></body></html>")
_STATUS_TEXT = {500: "500 Internal Server Error", 502: "502 Bad Gateway",
                503: "503 Service Temporarily Unavailable"}


def _pinned_block(item: Item) -> bool:
    index = _BLOCK_PARAM.get(str(item.get("method")))
    params = item.get("params") or []
    return (index is not None and len(params) > index and isinstance(params[index], str)
            and params[index].startswith("0x"))


def _wide_logs_query(item: Item) -> bool:
    if item.get("method") != "eth_getLogs":
        return False
    query = (item.get("params") or [{}])[0]
    return int(query["toBlock"], 16) > int(query["fromBlock"], 16)


def logs_range_error(query: dict[str, Any], shape: int) -> dict[str, Any]:
    """eth_getLogs refusals as Alchemy, Infura, QuickNode, Ankr and geth-style nodes word them."""
    start, end = int(query["fromBlock"], 16), int(query["toBlock"], 16)
    mid = start + (end - start) // 2
    errors = [
        {"code": -32602, "message": "Log response size exceeded. You can make eth_getLogs "
         "requests with up to a 2K block range and no limit on the response size, or you can "
         "request any block range with a cap of 10K logs in the response. Based on your "
         f"parameters, this block range should work: [{hex(start)}, {hex(mid)}]"},
        {"code": -32005, "message": "query returned more than 10000 results. Try with this "
         f"block range [{hex(start)}, {hex(mid)}].", "data": {"from": hex(start), "to": hex(mid)}},
        {"code": -32614, "message": "eth_getLogs is limited to a 10,000 range"},
        {"code": -32600, "message": "exceed maximum block range: 3000"},
        {"code": -32000, "message": "query timeout exceeded"},
    ]
    return errors[shape % len(errors)]


class FaultProxy:
    def __init__(self, upstream: str, *, rate: float, seed: int = 0,
                 kinds: Sequence[str] = KINDS, max_faults: int | None = None,
                 hold_seconds: float = 60.0, retry_after_seconds: int = 1) -> None:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        self.upstream, self.rate, self.kinds = upstream, rate, tuple(kinds)
        self.max_faults, self.hold_seconds = max_faults, hold_seconds
        self.retry_after_seconds = retry_after_seconds
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.posts = 0
        self.url = ""
        self._closing = asyncio.Event()
        self._stack = contextlib.AsyncExitStack()
        self._session: aiohttp.ClientSession | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FaultProxy:
        self._closing = asyncio.Event()
        self._session = await self._stack.enter_async_context(aiohttp.ClientSession())
        app = web.Application()
        app.router.add_post("/", self.handle)
        runner = web.AppRunner(app, handler_cancellation=True)
        await runner.setup()
        self._stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()  # release held connections before the server stops
        await self._stack.aclose()

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[FaultProxy]:
        """Serve from a background thread (for a CLI run in a subprocess)."""
        loop = asyncio.new_event_loop()
        ready, stop = threading.Event(), None

        async def main() -> None:
            nonlocal stop
            stop = asyncio.Event()
            async with self:
                ready.set()
                await stop.wait()

        thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(lambda: stop.set() if stop else None)
            thread.join(30)
            loop.close()

    # --- one request -----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        payload = json.loads(body)
        items: list[Item] = payload if isinstance(payload, list) else [payload]
        self.posts += 1
        kind = self._pick(items)
        if kind is None:
            return await self._forward(body)
        self.injected[kind] += 1
        return await self._inject(kind, request, body, items)

    def _pick(self, items: list[Item]) -> str | None:
        if self.max_faults is not None and sum(self.injected.values()) >= self.max_faults:
            return None
        applicable = [k for k in self.kinds if self._applies(k, items)]
        if not applicable or self.rng.random() >= self.rate:
            return None
        return self.rng.choice(applicable)

    @staticmethod
    def _applies(kind: str, items: list[Item]) -> bool:
        if kind in TRANSPORT_KINDS:
            return True
        if kind in ("batch-shuffled", "batch-missing-id"):
            return len(items) >= 2
        if kind == "header-not-found":
            return any(_pinned_block(i) for i in items)
        if kind == "empty-0x":
            return any(i.get("method") == "eth_call" for i in items)
        if kind == "logs-range":
            return any(_wide_logs_query(i) for i in items)
        return any(i.get("method") == "eth_getBlockByNumber" for i in items)  # reorg-hash

    async def _upstream(self, body: bytes) -> Any:
        assert self._session is not None
        async with self._session.post(self.upstream, data=body,
                                      headers={"Content-Type": "application/json"}) as answer:
            return json.loads(await answer.read())

    async def _forward(self, body: bytes) -> web.Response:
        return web.json_response(await self._upstream(body))

    async def _altered(self, body: bytes, alter: Callable[[Item], None]) -> web.Response:
        """Forward, then let `alter` change each answer item (matched to its request by id)."""
        answer = await self._upstream(body)
        for item in answer if isinstance(answer, list) else [answer]:
            alter(item)
        return web.json_response(answer)

    # --- the faults ------------------------------------------------------------------------

    async def _inject(self, kind: str, request: web.Request, body: bytes, items: list[Item]
                      ) -> web.Response:
        if kind.startswith("http-"):
            return await self._status(int(kind[5:8]), retry_after=kind.endswith("retry-after"))
        handlers = {
            "hang": self._hang, "reset": self._reset, "truncated-json": self._truncated,
            "header-not-found": self._header_not_found, "empty-0x": self._empty,
            "logs-range": self._logs_range, "reorg-hash": self._reorg_hash,
        }
        if kind in handlers:
            return await handlers[kind](request, body, items)
        return await self._batch(request, body, items, drop=kind == "batch-missing-id")

    async def _status(self, status: int, retry_after: bool = False) -> web.Response:
        if status == 429:
            headers = {"Retry-After": str(self.retry_after_seconds)} if retry_after else {}
            return web.Response(status=429, text="Too Many Requests", headers=headers)
        return web.Response(status=status, text=_HTML.format(_STATUS_TEXT[status]),
                            content_type="text/html")

    async def _hang(self, request: web.Request, body: bytes, items: list[Item]) -> web.Response:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self.hold_seconds)
        return web.Response(status=504, text="held too long")

    async def _reset(self, request: web.Request, body: bytes, items: list[Item]) -> web.Response:
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport else None
        if sock is not None:  # linger 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if transport is not None:
            transport.abort()
        return web.Response(status=500)

    async def _truncated(self, request: web.Request, body: bytes, items: list[Item]
                         ) -> web.Response:
        text = json.dumps(await self._upstream(body))
        return web.Response(text=text[: len(text) // 2], content_type="application/json")

    async def _batch(self, request: web.Request, body: bytes, items: list[Item], drop: bool
                     ) -> web.Response:
        answer = await self._upstream(body)
        if isinstance(answer, list):
            self.rng.shuffle(answer)
            if drop:
                answer.pop()
        return web.json_response(answer)

    async def _by_request(self, body: bytes, items: list[Item], hit: Callable[[Item], bool],
                          change: Callable[[Item, Item], None]) -> web.Response:
        requests = {item.get("id"): item for item in items}

        def alter(answer: Item) -> None:
            request = requests.get(answer.get("id"))
            if request is not None and hit(request):
                change(request, answer)

        return await self._altered(body, alter)

    async def _header_not_found(self, request: web.Request, body: bytes, items: list[Item]
                                ) -> web.Response:
        def change(_request: Item, answer: Item) -> None:
            answer.pop("result", None)
            answer["error"] = {"code": -32000, "message": "header not found"}

        return await self._by_request(body, items, _pinned_block, change)

    async def _empty(self, request: web.Request, body: bytes, items: list[Item]) -> web.Response:
        def change(_request: Item, answer: Item) -> None:
            if "result" in answer:
                answer["result"] = "0x"

        return await self._by_request(body, items, lambda i: i.get("method") == "eth_call",
                                      change)

    async def _logs_range(self, request: web.Request, body: bytes, items: list[Item]
                          ) -> web.Response:
        shape = self.rng.randrange(1_000)

        def change(req: Item, answer: Item) -> None:
            answer.pop("result", None)
            answer["error"] = logs_range_error(req["params"][0], shape)

        return await self._by_request(body, items, _wide_logs_query, change)

    async def _reorg_hash(self, request: web.Request, body: bytes, items: list[Item]
                          ) -> web.Response:
        def change(_request: Item, answer: Item) -> None:
            header = answer.get("result")
            if isinstance(header, dict) and isinstance(header.get("hash"), str):
                flipped = "f" if header["hash"][-1] != "f" else "e"
                header["hash"] = header["hash"][:-1] + flipped

        return await self._by_request(
            body, items, lambda i: i.get("method") == "eth_getBlockByNumber", change)

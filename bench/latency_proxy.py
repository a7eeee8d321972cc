"""A JSON-RPC forwarder that holds every HTTP post for a fixed time before the node answers it:
the round trip of a hosted provider, put in front of the local devnet.

    with LatencyProxy(devnet.rpc_url, delay_s=0.05) as url:
        ...  # point the config's rpc_url at `url`

The local node answers in well under a millisecond, so a bench against it counts the CPU of
each snapshot and almost none of the waiting a daemon does against a real provider. Posts are
held concurrently (each one waits its own delay, as over a network), forwarded as they came
(body and content type unchanged) and answered with the node's own status and body. It runs an
aiohttp server on its own event loop in a thread, so the measured code's loop is untouched.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

import aiohttp
from aiohttp import web


class LatencyProxy:
    """`with LatencyProxy(upstream, delay_s) as url:` -- `url` forwards to `upstream`."""

    def __init__(self, upstream: str, delay_s: float) -> None:
        self.upstream = upstream
        self.delay_s = delay_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def __enter__(self) -> str:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    async def _start(self) -> str:
        # no connection limit: the measured client's own concurrency is what holds posts back
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        app = web.Application(client_max_size=1 << 30)
        app.router.add_post("/", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        await asyncio.sleep(self.delay_s)
        assert self._session is not None
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        async with self._session.post(self.upstream, data=body, headers=headers) as answer:
            return web.Response(body=await answer.read(), status=answer.status,
                                content_type=answer.content_type)

"""A real HTTP server on 127.0.0.1 for tests that need a misbehaving JSON-RPC endpoint."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web


@contextlib.asynccontextmanager
async def serve(handle: Callable[[web.Request], Awaitable[web.StreamResponse]]
                ) -> AsyncIterator[str]:
    """Serve `handle` for POST / on a free port; yield the URL; stop on exit."""
    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()

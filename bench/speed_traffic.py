"""The snapshot's own JSON-RPC traffic: recorded while it runs, then replayed as the floor.

The recorder wraps `RpcClient._http_post` (the one place a post leaves the client) and keeps
the exact bytes it posts. The floor replays those
bodies with a bare aiohttp loop at the chain's `max_concurrency`, reading every answer and
decoding nothing: what the node alone costs for this snapshot's traffic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from scanner import aio
from scanner.chain.rpc import RpcClient


@dataclass
class Traffic:
    bodies: list[bytes] = field(default_factory=list)
    calls: int = 0
    # wall time with at least one post in flight, and when the last answer arrived
    # (time.perf_counter): the rest of a snapshot's wall is its own work with the node idle
    in_flight_s: float = 0.0
    last_answer_at: float | None = None
    _active: int = 0
    _since: float = 0.0

    def post_started(self) -> None:
        if self._active == 0:
            self._since = time.perf_counter()
        self._active += 1

    def post_answered(self) -> None:
        self._active -= 1
        now = time.perf_counter()
        if self._active == 0:
            self.in_flight_s += now - self._since
        self.last_answer_at = now

    @property
    def posts(self) -> int:
        return len(self.bodies)

    @property
    def bytes_sent(self) -> int:
        return sum(len(b) for b in self.bodies)


@contextmanager
def recording() -> Iterator[Traffic]:
    """Every HTTP body any RpcClient posts inside the block."""
    traffic = Traffic()
    original: Callable[[RpcClient, bytes], Awaitable[Any]] = RpcClient._http_post

    async def record(client: RpcClient, body: bytes) -> Any:
        traffic.bodies.append(body)
        traffic.calls += body.count(b'"jsonrpc":')  # one per call (quotes inside hex: none)
        traffic.post_started()
        try:
            return await original(client, body)
        finally:
            traffic.post_answered()

    RpcClient._http_post = record  # type: ignore[method-assign]
    try:
        yield traffic
    finally:
        RpcClient._http_post = original  # type: ignore[method-assign]


@dataclass(frozen=True)
class Floor:
    seconds: float
    bytes_received: int


async def _replay(url: str, bodies: list[bytes], concurrency: int) -> Floor:
    limit = asyncio.Semaphore(concurrency)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:

        async def one(body: bytes) -> int:
            async with limit, session.post(url, data=body, headers=headers) as response:
                return len(await response.read())

        start = time.perf_counter()
        sizes = await asyncio.gather(*(one(b) for b in bodies))
        return Floor(time.perf_counter() - start, sum(sizes))


def replay(url: str, bodies: list[bytes], concurrency: int, repeat: int = 3) -> Floor:
    """The fastest of `repeat` replays (the floor is a lower bound)."""
    runs = [aio.run(_replay(url, bodies, concurrency)) for _ in range(repeat)]
    return min(runs, key=lambda f: f.seconds)

"""The snapshot's own JSON-RPC traffic: recorded while it runs, then replayed as the floor.

The recorder wraps `RpcClient._http_json` (the one place a post leaves the client) and keeps
the exact bytes aiohttp sends (`json=` serialises with `json.dumps`). The floor replays those
bodies with a bare aiohttp loop at the chain's `max_concurrency`, reading every answer and
decoding nothing: what the node alone costs for this snapshot's traffic.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from scanner.chain.rpc import RpcClient


@dataclass
class Traffic:
    bodies: list[bytes] = field(default_factory=list)
    calls: int = 0

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
    original: Callable[[RpcClient, list[dict[str, Any]]], Awaitable[Any]] = (
        RpcClient._http_json)

    async def record(client: RpcClient, body: list[dict[str, Any]]) -> Any:
        traffic.bodies.append(json.dumps(body).encode())
        traffic.calls += len(body)
        return await original(client, body)

    RpcClient._http_json = record  # type: ignore[method-assign]
    try:
        yield traffic
    finally:
        RpcClient._http_json = original  # type: ignore[method-assign]


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
    runs = [asyncio.run(_replay(url, bodies, concurrency)) for _ in range(repeat)]
    return min(runs, key=lambda f: f.seconds)

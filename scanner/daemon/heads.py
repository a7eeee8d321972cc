"""New heads of a chain, through web3.py: an `eth_subscribe("newHeads")` over a WebSocket when
the chain has a `ws_url`, else `eth_blockNumber` polled over HTTP.

`follow_heads` calls `on_head(number)` for every head it learns of, newest last, and returns
only by raising (a dropped connection, a node that stopped answering): the caller backs off
and calls it again. It never queues work: the caller keeps only the newest number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
from web3 import AsyncHTTPProvider, AsyncWeb3, WebSocketProvider
from web3.exceptions import Web3Exception
from websockets.exceptions import WebSocketException

from scanner.config import ChainConfig

OnHead = Callable[[int], None]
# What a node that is down or misbehaving raises through web3; the caller backs off on these.
HEAD_ERRORS: tuple[type[BaseException], ...] = (
    Web3Exception, WebSocketException, aiohttp.ClientError, OSError, TimeoutError,
    ValueError, KeyError,
)


async def follow_heads(chain: ChainConfig, poll_interval_seconds: float, on_head: OnHead) -> None:
    if chain.ws_url:
        await _subscribe(chain.ws_url, chain.request_timeout_seconds, on_head)
    else:
        await _poll(chain.require_rpc_url(), chain.request_timeout_seconds,
                    poll_interval_seconds, on_head)


async def _subscribe(ws_url: str, timeout_seconds: float, on_head: OnHead) -> None:
    provider = WebSocketProvider(ws_url, request_timeout=timeout_seconds)
    async with AsyncWeb3(provider) as w3:
        await w3.eth.subscribe("newHeads")
        on_head(int(await w3.eth.block_number))  # the head before the first notification
        async for message in w3.socket.process_subscriptions():
            on_head(_head_number(message))
    raise ConnectionError(f"the WebSocket subscription at {ws_url} ended")


def _head_number(message: Any) -> int:
    number = message["result"]["number"]
    return int(number, 16) if isinstance(number, str) else int(number)


async def _poll(rpc_url: str, timeout_seconds: float, poll_interval_seconds: float,
                on_head: OnHead) -> None:
    # no retries inside web3: a failure surfaces at once and the caller's backoff takes over
    provider = AsyncHTTPProvider(rpc_url, exception_retry_configuration=None, request_kwargs={
        "timeout": aiohttp.ClientTimeout(total=timeout_seconds)})
    w3 = AsyncWeb3(provider)
    try:
        while True:
            on_head(int(await w3.eth.block_number))
            await asyncio.sleep(poll_interval_seconds)
    finally:
        await provider.disconnect()

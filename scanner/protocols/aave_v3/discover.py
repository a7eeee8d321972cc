"""Aave v3 borrowers from the Pool's `Borrow` events.

Every way of opening debt emits `Borrow` with the debtor in `onBehalfOf` (topic 2), flash
loans left open as debt included.
"""

from __future__ import annotations

from collections.abc import Callable

from scanner.chain.abi import event_topic, load_abi
from scanner.chain.checksum import topic_address
from scanner.chain.logs import fetch_logs
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig
from scanner.domain import Address
from scanner.errors import InconsistentDataError

POOL = load_abi("aave-v3", "Pool")
BORROW_TOPIC = event_topic(POOL, "Borrow")

ProgressCallback = Callable[[int, int], None]


async def discover_borrowers(
    rpc: RpcClient, chain: ChainConfig, pool: Address, from_block: int, to_block: int,
    on_progress: ProgressCallback | None = None, borrow_topic: str = BORROW_TOPIC,
) -> dict[Address, int]:
    """Every `onBehalfOf` of a Borrow in [from_block, to_block] -> first block seen.
    `borrow_topic`: Aave v2's Borrow has another signature, with onBehalfOf in topic 2 too."""
    logs = await fetch_logs(
        rpc, [pool], [[borrow_topic]], from_block, to_block,
        initial_window=chain.logs_initial_window,
        max_window=chain.logs_max_window,
        on_progress=on_progress,
    )
    first_seen: dict[Address, int] = {}
    for log in logs:
        topics = log["topics"]
        if len(topics) < 3:
            raise InconsistentDataError(f"Borrow log without onBehalfOf topic: {log}")
        # a borrower borrows many times: topic_address hashes each address once
        first_seen.setdefault(topic_address(topics[2]), int(log["blockNumber"], 16))
    return first_seen

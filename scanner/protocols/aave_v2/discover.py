"""Aave v2 borrowers from the LendingPool's `Borrow` events.

Every way of opening debt in v2 -- `borrow`, and a `flashLoan` left open as stable or variable
debt -- emits `Borrow` with the debtor in `onBehalfOf` (topic 2). Debt tokens cannot be
transferred and a rate swap or rebalance keeps the debtor, so no other event adds one.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils.address import to_checksum_address

from scanner.chain.abi import event_topic, load_abi
from scanner.chain.logs import fetch_logs
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig
from scanner.domain import Address
from scanner.errors import InconsistentDataError

LENDING_POOL = load_abi("aave-v2", "LendingPool")
BORROW_TOPIC = event_topic(LENDING_POOL, "Borrow")

ProgressCallback = Callable[[int, int], None]


async def discover_borrowers(
    rpc: RpcClient, chain: ChainConfig, pool: Address, from_block: int, to_block: int,
    on_progress: ProgressCallback | None = None,
) -> dict[Address, int]:
    """Every `onBehalfOf` of a Borrow in [from_block, to_block] -> first block seen."""
    logs = await fetch_logs(
        rpc, [pool], [[BORROW_TOPIC]], from_block, to_block,
        initial_window=chain.logs_initial_window, max_window=chain.logs_max_window,
        on_progress=on_progress,
    )
    first_seen: dict[Address, int] = {}
    for log in logs:
        topics = log["topics"]
        if len(topics) < 3:
            raise InconsistentDataError(f"Borrow log without onBehalfOf topic: {log}")
        account = to_checksum_address("0x" + str(topics[2])[-40:])
        first_seen.setdefault(account, int(log["blockNumber"], 16))
    return first_seen

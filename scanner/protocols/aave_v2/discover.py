"""Aave v2 borrowers from the LendingPool's `Borrow` events.

Every way of opening debt in v2 -- `borrow`, and a `flashLoan` left open as stable or variable
debt -- emits `Borrow` with the debtor in `onBehalfOf` (topic 2). Debt tokens cannot be
transferred and a rate swap or rebalance keeps the debtor, so no other event adds one.
"""

from __future__ import annotations

from scanner.chain.abi import event_topic, load_abi
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig
from scanner.domain import Address
from scanner.protocols.aave_v3 import discover as v3_discover

LENDING_POOL = load_abi("aave-v2", "LendingPool")
BORROW_TOPIC = event_topic(LENDING_POOL, "Borrow")

ProgressCallback = v3_discover.ProgressCallback


async def discover_borrowers(
    rpc: RpcClient, chain: ChainConfig, pool: Address, from_block: int, to_block: int,
    on_progress: ProgressCallback | None = None,
) -> dict[Address, int]:
    """Every `onBehalfOf` of a Borrow in [from_block, to_block] -> first block seen (v3's
    reader with v2's Borrow topic)."""
    return await v3_discover.discover_borrowers(rpc, chain, pool, from_block, to_block,
                                                on_progress, borrow_topic=BORROW_TOPIC)

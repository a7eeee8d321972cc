"""Compound III accounts that may hold debt, from a Comet's logs.

A Comet borrower must hold collateral (`isBorrowCollateralized` counts nothing else), and
collateral only ever enters an account through `SupplyCollateral` (topic 2, `dst`) or
`TransferCollateral` (topic 2, the receiver `to`). Those two catch every borrower, however
the debt was opened: borrowing by `transfer` of the base token emits `Transfer`, never
`Withdraw`. `Withdraw` (topic 1, `src`) is read too, at no extra request.
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

COMET = load_abi("compound-v3", "Comet")
SUPPLY_COLLATERAL_TOPIC = event_topic(COMET, "SupplyCollateral")
TRANSFER_COLLATERAL_TOPIC = event_topic(COMET, "TransferCollateral")
WITHDRAW_TOPIC = event_topic(COMET, "Withdraw")
# event topic0 -> index of the topic that names the account
ACCOUNT_TOPIC = {SUPPLY_COLLATERAL_TOPIC: 2, TRANSFER_COLLATERAL_TOPIC: 2, WITHDRAW_TOPIC: 1}

ProgressCallback = Callable[[int, int], None]


async def discover_accounts(
    rpc: RpcClient, chain: ChainConfig, comet: Address, from_block: int, to_block: int,
    on_progress: ProgressCallback | None = None,
) -> dict[Address, int]:
    """Every collateral receiver and base withdrawer in [from_block, to_block] -> first block."""
    logs = await fetch_logs(
        rpc, [comet], [list(ACCOUNT_TOPIC)], from_block, to_block,
        initial_window=chain.logs_initial_window, max_window=chain.logs_max_window,
        on_progress=on_progress,
    )
    first_seen: dict[Address, int] = {}
    for log in sorted(logs, key=lambda item: int(item["blockNumber"], 16)):
        topics = log["topics"]
        index = ACCOUNT_TOPIC.get(str(topics[0]).lower()) if topics else None
        if index is None or len(topics) <= index:
            raise InconsistentDataError(f"unexpected Comet log {log}")
        account = topic_address(topics[index])
        first_seen.setdefault(account, int(log["blockNumber"], 16))
    return first_seen

"""Accounts named by a protocol's own events in a block range (incremental snapshots).

Each event kind is listed with the topic positions that hold an account; the logs are read
with the discovery log reader (scanner.chain.logs.fetch_logs: windows split and retried the
same way). A log of a listed kind without those topics raises: it cannot be attributed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from eth_utils.address import to_checksum_address

from scanner.chain.logs import fetch_logs
from scanner.chain.rpc import RpcClient
from scanner.chain.tasks import in_order
from scanner.config import ChainConfig
from scanner.domain import Address
from scanner.errors import InconsistentDataError

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_WORD = "0x" + "00" * 32


async def accounts_in_logs(
    rpc: RpcClient, chain: ChainConfig, addresses: Sequence[Address],
    account_topics: Mapping[str, tuple[int, ...]], from_block: int, to_block: int,
) -> set[Address]:
    """Every account in the listed topics of the listed events of `addresses`."""
    if not addresses or from_block > to_block:
        return set()
    logs = await fetch_logs(rpc, list(addresses), [sorted(account_topics)], from_block,
                            to_block, initial_window=chain.logs_initial_window,
                            max_window=chain.logs_max_window)
    found: set[Address] = set()
    for log in logs:
        topics = [str(t).lower() for t in log["topics"]]
        positions = account_topics.get(topics[0]) if topics else None
        if positions is None or max(positions) >= len(topics):
            raise InconsistentDataError(f"a log that names no account where expected: {log}")
        found.update(to_checksum_address("0x" + topics[i][-40:]) for i in positions
                     if topics[i] != ZERO_WORD)
    return found


async def token_and_pool_accounts(
    rpc: RpcClient, chain: ChainConfig, tokens: Sequence[Address], transfer_topic: str,
    pool: Address, pool_topics: Mapping[str, tuple[int, ...]], from_block: int, to_block: int,
) -> set[Address]:
    """The senders and receivers of the tokens' transfers and the users of the pool's own
    events (Aave v2 and v3), both searches at once; the transfers' error reported first."""
    transfers, pool_events = await in_order(
        accounts_in_logs(rpc, chain, tokens, {transfer_topic: (1, 2)}, from_block, to_block),
        accounts_in_logs(rpc, chain, [pool], pool_topics, from_block, to_block))
    return transfers | pool_events

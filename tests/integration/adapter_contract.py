"""The contract every protocol adapter honours, run against a real node.

A protocol's integration test subclasses `AdapterContract` and provides the fixtures
`adapter_env` (an `AdapterEnv`) and `move_prices` (a callable that moves the oracle prices on
the node and returns the first block at the new prices). The tests here then check what the
scanner relies on: discovery finds every borrower, every read is pinned to the block it names,
accounts without debt are dropped, and a wrong address fails loudly instead of reading zeros.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import pytest

from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, MarketConfig
from scanner.errors import ConfigError, InconsistentDataError
from scanner.protocols import ADAPTERS

T = TypeVar("T")


@dataclass(frozen=True)
class AdapterEnv:
    rpc_url: str
    chain: ChainConfig
    market: MarketConfig
    borrowers: frozenset[str]  # every account that opened debt through the protocol
    head_block: int


def run(env: AdapterEnv, work: Callable[[Any], Awaitable[T]], market: MarketConfig | None = None
        ) -> T:
    """Run `work(adapter)` with a fresh RpcClient and adapter for `env`."""
    async def main() -> T:
        async with RpcClient(env.rpc_url) as rpc:
            adapter = ADAPTERS[env.market.protocol](rpc, market or env.market, env.chain)
            return await work(adapter)
    return asyncio.run(main())


async def read_all(adapter: Any, accounts: Sequence[str], block: int) -> list[Any]:
    addresses = await adapter.resolve(block)
    state = await adapter.read_market(addresses, block)
    return [state, await adapter.read_accounts(addresses, state, accounts, block)]


class AdapterContract:
    def test_discovery_finds_every_borrower(self, adapter_env: AdapterEnv) -> None:
        async def discover(adapter: Any) -> dict[str, int]:
            addresses = await adapter.resolve(adapter_env.head_block)
            return dict(await adapter.discover_accounts(
                addresses.pool, adapter_env.market.start_block, adapter_env.head_block))

        found = run(adapter_env, discover)
        assert adapter_env.borrowers <= set(found)
        assert all(adapter_env.market.start_block <= b <= adapter_env.head_block
                   for b in found.values())

    def test_reads_are_pinned_to_their_block(
        self, adapter_env: AdapterEnv, move_prices: Callable[[], int]
    ) -> None:
        accounts = sorted(adapter_env.borrowers)[:40]
        block = adapter_env.head_block
        before = run(adapter_env, lambda a: read_all(a, accounts, block))
        later = move_prices()
        again = run(adapter_env, lambda a: read_all(a, accounts, block))
        moved = run(adapter_env, lambda a: read_all(a, accounts, later))
        assert again == before  # same block, same answers, whatever happened since
        assert moved[0].reserves != before[0].reserves  # the new prices are seen at `later`

    def test_accounts_without_debt_are_dropped(self, adapter_env: AdapterEnv) -> None:
        stranger = "0x000000000000000000000000000000000000bEEF"
        accounts = [stranger, *sorted(adapter_env.borrowers)[:5]]
        _, positions = run(adapter_env, lambda a: read_all(a, accounts, adapter_env.head_block))
        assert stranger not in {p.account for p in positions}
        assert len(positions) == 5

    def test_an_address_without_code_fails_loudly(self, adapter_env: AdapterEnv) -> None:
        wrong = replace(adapter_env.market,
                        pool_addresses_provider="0x000000000000000000000000000000000000dEaD")
        with pytest.raises((ConfigError, InconsistentDataError), match="no code"):
            run(adapter_env, lambda a: a.resolve(adapter_env.head_block), market=wrong)

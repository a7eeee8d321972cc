"""The contract every protocol adapter honours, run against a real node.

A protocol's integration test subclasses `AdapterContract` and provides the fixtures
`adapter_env` (an `AdapterEnv`) and `move_prices` (a callable that moves the oracle prices on
the node and returns the first block at the new prices). The tests here then check what the
scanner relies on: discovery finds every borrower, every read is pinned to the block it names,
accounts without debt are dropped, a wrong address fails loudly instead of reading zeros, and
every position is a neutral `Position` whose rule the solver can use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import pytest

from scanner.chain.rpc import RpcClient
from scanner.config import AxisConfig, ChainConfig, MarketConfig
from scanner.domain import MarketRead, PositionStatus
from scanner.errors import ConfigError, InconsistentDataError
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.liquidation import liquidation_result
from scanner.protocols import protocol_spec

T = TypeVar("T")


@dataclass(frozen=True)
class AdapterEnv:
    rpc_url: str
    chain: ChainConfig
    market: MarketConfig
    borrowers: frozenset[str]  # every account that opened debt through the protocol
    head_block: int
    axes: dict[str, AxisConfig]  # the axes its positions are judged on


def run(env: AdapterEnv, work: Callable[[Any], Awaitable[T]], market: MarketConfig | None = None
        ) -> T:
    """Run `work(adapter)` with a fresh RpcClient and adapter for `env`."""
    async def main() -> T:
        async with RpcClient(env.rpc_url) as rpc:
            chosen = market or env.market
            adapter = protocol_spec(chosen.protocol).adapter(rpc, chosen, env.chain)
            return await work(adapter)
    return asyncio.run(main())


async def read_all(adapter: Any, accounts: Sequence[str], block: int) -> MarketRead:
    resolved = await adapter.resolve(block)
    read: MarketRead = await adapter.read(resolved, accounts, block)
    return read


class AdapterContract:
    def test_discovery_finds_every_borrower(self, adapter_env: AdapterEnv) -> None:
        async def discover(adapter: Any) -> dict[str, int]:
            resolved = await adapter.resolve(adapter_env.head_block)
            return dict(await adapter.discover_accounts(
                resolved, adapter_env.market.start_block, adapter_env.head_block))

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
        assert moved.assets != before.assets  # the new prices are seen at `later`
        assert (before.block, moved.block) == (block, later)

    def test_accounts_without_debt_are_dropped(self, adapter_env: AdapterEnv) -> None:
        stranger = "0x000000000000000000000000000000000000bEEF"
        accounts = [stranger, *sorted(adapter_env.borrowers)[:5]]
        read = run(adapter_env, lambda a: read_all(a, accounts, adapter_env.head_block))
        assert stranger not in {p.account for p in read.positions}
        assert len({p.account for p in read.positions}) == 5
        assert all(p.state.has_debt for p in read.positions)

    def test_an_address_without_code_fails_loudly(self, adapter_env: AdapterEnv) -> None:
        dead = "0x000000000000000000000000000000000000dEaD"
        for key in adapter_env.market.addresses:
            wrong = replace(adapter_env.market,
                            addresses={**adapter_env.market.addresses, key: dead})
            with pytest.raises((ConfigError, InconsistentDataError), match="no code"):
                run(adapter_env, lambda a: a.resolve(adapter_env.head_block), market=wrong)

    def test_positions_are_neutral_and_solvable(self, adapter_env: AdapterEnv) -> None:
        accounts = sorted(adapter_env.borrowers)
        read = run(adapter_env, lambda a: read_all(a, accounts, adapter_env.head_block))
        assert read.market_key == adapter_env.market.key
        assert read.protocol == adapter_env.market.protocol
        assert all(p.submarket and p.market_key == read.market_key for p in read.positions)
        axes = resolve_axes(adapter_env.axes, read.assets)
        assert axes, "no configured axis is priced by this market"
        results = [r for axis in axes for p in read.positions
                   if (r := liquidation_result(p, axis)) is not None]
        assert {r.status for r in results} >= {PositionStatus.AT_RISK}
        for r in results:
            assert r.submarket and r.native_price_unit
            assert (r.liquidation_price_native is None) == (r.liquidation_price_8dec is None)

"""Aave v2: derive positions from stored scaled balances and stable loans (incremental).

The full read already holds what the tokens store per user: `scaledBalanceOf` of the aToken
and the variable debt token, and the stable loan (principal, the user's own rate and
timestamp). They change only with an event naming the user: the tokens' `Transfer` on every
mint, burn and transfer (deposit, withdraw, borrow, repay, swap, rebalance, liquidation), and
the pool's `ReserveUsedAsCollateralEnabled/Disabled`, `Swap`, `RebalanceStableBorrowRate`.
An untouched account's balances at a later block are the accrual mirror (interest.py, the
same that checks every full read) on the reserves read then.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from scanner.chain.abi import event_topic, load_abi
from scanner.domain import Address, MarketRead
from scanner.pipeline.incremental import DerivationUnavailable, ItemBaseDeriver
from scanner.pipeline.touched import token_and_pool_accounts
from scanner.protocols.aave_v2 import interest
from scanner.protocols.aave_v2.read import AaveV2Adapter, V2Addresses, market_read
from scanner.protocols.aave_v2.rule import V2Position, account_totals
from scanner.protocols.aave_v2.state import (
    V2Account,
    V2MarketState,
    V2StableDebt,
    V2UserReserve,
)
from scanner.protocols.base import Borrower
from scanner.store.bases import BorrowerKey

POOL = load_abi("aave-v2", "LendingPool")
A_TOKEN = load_abi("aave-v2", "AToken")
TRANSFER_TOPIC = event_topic(A_TOKEN, "Transfer")
USER_TOPICS = {name: (2,) for name in (
    event_topic(POOL, "ReserveUsedAsCollateralEnabled"),
    event_topic(POOL, "ReserveUsedAsCollateralDisabled"),
    event_topic(POOL, "Swap"),
    event_topic(POOL, "RebalanceStableBorrowRate"),
)}
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class AaveV2Deriver(ItemBaseDeriver[AaveV2Adapter, V2Addresses, V2MarketState, V2Account]):
    position_type = V2Position

    async def touched(self, adapter: AaveV2Adapter, resolved: V2Addresses,
                      state: V2MarketState, from_block: int, to_block: int) -> set[Address]:
        tokens = sorted({t for r in state.reserves.values()
                         for t in (r.a_token, r.stable_debt_token, r.variable_debt_token)
                         if t != ZERO_ADDRESS})
        return await token_and_pool_accounts(adapter.rpc, adapter.chain, tokens, TRANSFER_TOPIC,
                                             resolved.pool, USER_TOPICS, from_block, to_block)

    async def read_state(self, adapter: AaveV2Adapter, resolved: V2Addresses, block: int
                         ) -> V2MarketState:
        return await adapter.read_market(resolved, block)

    async def read_fresh(self, adapter: AaveV2Adapter, resolved: V2Addresses,
                         state: V2MarketState, reread: Sequence[Borrower], block: int
                         ) -> Sequence[V2Account]:
        return await adapter.read_accounts(state, [a for _s, a in reread], block)

    def derive(self, state: V2MarketState, key: BorrowerKey, base: str) -> V2Account | None:
        return _derive(json.loads(base), key[1], state)

    def assemble(self, adapter: AaveV2Adapter, state: V2MarketState,
                 items: Sequence[V2Account], fresh: Sequence[V2Account]) -> MarketRead:
        return market_read(adapter.market.protocol, state, items)

    def key_of(self, state: V2MarketState, item: V2Account) -> BorrowerKey:
        return (state.pool, item.account)

    def base_of(self, item: V2Account) -> str:
        return _base(item)

    def item_of_position(self, position_state: V2Position) -> V2Account:
        return position_state.account

    def order(self, items: list[V2Account]) -> list[V2Account]:
        return sorted(items, key=lambda a: a.account)


DERIVER = AaveV2Deriver()


def _base(account: V2Account) -> str:
    entries = [[r.asset, int(r.used_as_collateral), int(r.borrowing), r.scaled_supply_raw,
                r.scaled_variable_debt_raw, r.stable.principal_raw, r.stable.rate_ray,
                r.stable.last_update_timestamp] for r in account.reserves]
    return json.dumps(entries, separators=(",", ":"))


def _derive(entries: list[list[Any]], account: Address, state: V2MarketState
            ) -> V2Account | None:
    """The account at the state's block, or None when a full read would skip it (no debt)."""
    by_asset = {str(e[0]): e for e in entries}
    if not set(by_asset) <= set(state.reserves):
        raise DerivationUnavailable(f"market {state.market_key}: a reserve was dropped")
    t = state.block_timestamp
    reserves = []
    # the full read's order: reserves by id
    for reserve in sorted(state.reserves.values(), key=lambda r: r.reserve_id):
        if (e := by_asset.get(reserve.asset)) is None:
            continue
        stable = V2StableDebt(int(e[5]), int(e[6]), int(e[7]))
        reserves.append(V2UserReserve(
            asset=reserve.asset, used_as_collateral=bool(e[1]), borrowing=bool(e[2]),
            scaled_supply_raw=int(e[3]), scaled_variable_debt_raw=int(e[4]), stable=stable,
            supplied_raw=interest.supplied_raw(int(e[3]), reserve, t),
            variable_debt_raw=interest.variable_debt_raw(int(e[4]), reserve, t),
            stable_debt_raw=interest.stable_debt_raw(stable, t)))
    held = tuple(reserves)
    totals = account_totals(V2Account(account, held, 0, 0, 0, 0), state)
    if totals.debt_eth_wei == 0:
        return None
    # the pool's own summary is not read for a derived account: the mirror stands in for it
    # (built directly: dataclasses.replace is slow per account)
    return V2Account(account, held, totals.collateral_eth_wei, totals.debt_eth_wei,
                     totals.avg_lt_bps, totals.health_factor_wad)

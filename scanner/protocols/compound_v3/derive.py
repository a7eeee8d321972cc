"""Compound v3: derive positions from stored principal and collateral (incremental).

`userBasic.principal` and `userCollateral` change only with an event of the Comet naming the
account: Supply, Withdraw, Transfer (base), SupplyCollateral, WithdrawCollateral,
TransferCollateral, AbsorbDebt, AbsorbCollateral. Interest moves only the market's indices,
read (and accrued to the block) every block: an untouched borrower's debt is its principal
times the accrued borrow index, as `borrowBalanceOf` computes it; the Comet's own views
(borrowBalanceOf, isLiquidatable) are stood in for by the mirror checked on every full read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from scanner.chain.abi import event_topic, load_abi
from scanner.domain import Address, MarketRead
from scanner.pipeline.incremental import DerivationUnavailable, ItemBaseDeriver
from scanner.pipeline.touched import accounts_in_logs
from scanner.protocols.base import Borrower
from scanner.protocols.compound_v3.curve import CometPosition
from scanner.protocols.compound_v3.read import CometAddresses, CompoundV3Adapter, market_read
from scanner.protocols.compound_v3.rule import CometAccount, is_liquidatable, present_debt_raw
from scanner.protocols.compound_v3.state import CometMarketState, CometUser
from scanner.store.bases import BorrowerKey

COMET = load_abi("compound-v3", "Comet")
USER_TOPICS = {event_topic(COMET, name): (1, 2) for name in (
    "Supply", "Withdraw", "Transfer", "SupplyCollateral", "WithdrawCollateral",
    "TransferCollateral", "AbsorbDebt", "AbsorbCollateral")}


class CompoundDeriver(ItemBaseDeriver[CompoundV3Adapter, CometAddresses, CometMarketState,
                                         CometUser]):
    position_type = CometPosition

    async def touched(self, adapter: CompoundV3Adapter, resolved: CometAddresses,
                      state: CometMarketState, from_block: int, to_block: int
                      ) -> set[Address]:
        return await accounts_in_logs(adapter.rpc, adapter.chain, [resolved.comet],
                                      USER_TOPICS, from_block, to_block)

    async def read_state(self, adapter: CompoundV3Adapter, resolved: CometAddresses,
                         block: int) -> CometMarketState:
        return await adapter.read_market(resolved, block)

    async def read_fresh(self, adapter: CompoundV3Adapter, resolved: CometAddresses,
                         state: CometMarketState, reread: Sequence[Borrower], block: int
                         ) -> Sequence[CometUser]:
        return await adapter.read_users(state, [a for _s, a in reread], block)

    def derive(self, state: CometMarketState, key: BorrowerKey, base: str) -> CometUser:
        return _derive(key[1], base, state)

    def assemble(self, adapter: CompoundV3Adapter, state: CometMarketState,
                 items: Sequence[CometUser], fresh: Sequence[CometUser]) -> MarketRead:
        return market_read(adapter.market.protocol, state, items)

    def key_of(self, state: CometMarketState, item: CometUser) -> BorrowerKey:
        return (state.comet, item.account)

    def base_of(self, item: CometUser) -> str:
        return _base(item)

    def item_of_position(self, position_state: CometPosition) -> CometUser:
        return position_state.user

    def order(self, items: list[CometUser]) -> list[CometUser]:
        return sorted(items, key=lambda u: u.account)


DERIVER = CompoundDeriver()


def _base(user: CometUser) -> str:
    basic = user.basic
    return json.dumps([basic.principal, basic.assets_in, sorted(basic.collateral_raw.items())],
                      separators=(",", ":"))


def _derive(account: Address, base: str, state: CometMarketState) -> CometUser:
    principal, assets_in, balances = json.loads(base)
    held = {str(a): int(b) for a, b in balances}
    if set(held) != {a.asset for a in state.assets}:
        raise DerivationUnavailable(f"Comet {state.comet}: its collateral assets changed")
    ordered = {a.asset: held[a.asset] for a in state.assets}  # the full read's order
    basic = CometAccount(int(principal), int(assets_in), ordered)
    # the Comet's own views are not read for a derived account: the mirror stands in
    return CometUser(account, basic, present_debt_raw(basic.principal, state.accrued_totals),
                     is_liquidatable(basic, state.assets, state.prices, state.base_scale,
                                     state.stored_totals))

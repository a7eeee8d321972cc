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
from collections.abc import Mapping, Sequence

from scanner.chain.abi import event_topic, load_abi
from scanner.domain import Address, MarketRead
from scanner.pipeline.incremental import DerivationUnavailable, DerivedRead
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


class CompoundDeriver:
    async def touched(self, adapter: CompoundV3Adapter, resolved: CometAddresses,
                      from_block: int, to_block: int) -> set[Address]:
        return await accounts_in_logs(adapter.rpc, adapter.chain, [resolved.comet],
                                      USER_TOPICS, from_block, to_block)

    async def capture(self, adapter: CompoundV3Adapter, resolved: CometAddresses,
                      read: MarketRead, block: int) -> dict[BorrowerKey, str]:
        return {(p.submarket, p.account): _base(p.state.user) for p in read.positions
                if isinstance(p.state, CometPosition)}

    async def read(self, adapter: CompoundV3Adapter, resolved: CometAddresses,
                   reread: Sequence[Borrower], bases: Mapping[BorrowerKey, str], block: int
                   ) -> DerivedRead:
        state = await adapter.read_market(resolved, block)
        fresh = await adapter.read_users(state, [a for _s, a in reread], block)
        derived = [_derive(key[1], base, state) for key, base in bases.items()]
        users = sorted([*fresh, *derived], key=lambda u: u.account)
        new_bases = {(state.comet, u.account): _base(u) for u in fresh}
        new_bases.update({(state.comet, u.account): bases[(state.comet, u.account)]
                          for u in derived})
        return DerivedRead(market_read(adapter.market.protocol, state, users), new_bases)


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

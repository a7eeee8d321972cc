"""Morpho Blue: derive positions from stored borrow shares and collateral (incremental).

`position(id, user)` changes only in Borrow, Repay, SupplyCollateral, WithdrawCollateral and
Liquidate, each naming the user (`onBehalf` / `borrower`). Interest, fees and bad debt move the
market's totals, which are read (and accrued to the block, rule.accrue_interest) every block;
an untouched borrower's assets are its shares converted with those totals, as the full read
does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from scanner.chain.abi import event_topic
from scanner.domain import Address, MarketRead
from scanner.pipeline.incremental import DerivationUnavailable, DerivedRead
from scanner.pipeline.touched import accounts_in_logs
from scanner.protocols.base import Borrower
from scanner.protocols.morpho_blue.adapter import (
    MorphoBlueAdapter,
    MorphoPosition,
    MorphoResolved,
    assemble_read,
    position_keys,
)
from scanner.protocols.morpho_blue.read import MORPHO, PositionAtBlock, read_positions
from scanner.store.bases import BorrowerKey

USER_TOPICS = {  # event -> topic index of the borrower
    event_topic(MORPHO, "Borrow"): (2,),
    event_topic(MORPHO, "Repay"): (3,),
    event_topic(MORPHO, "SupplyCollateral"): (3,),
    event_topic(MORPHO, "WithdrawCollateral"): (2,),
    event_topic(MORPHO, "Liquidate"): (3,),
}


class MorphoDeriver:
    async def touched(self, adapter: MorphoBlueAdapter, resolved: MorphoResolved,
                      from_block: int, to_block: int) -> set[Address]:
        return await accounts_in_logs(adapter.rpc, adapter.chain, [resolved.morpho],
                                      USER_TOPICS, from_block, to_block)

    async def capture(self, adapter: MorphoBlueAdapter, resolved: MorphoResolved,
                      read: MarketRead, block: int) -> dict[BorrowerKey, str]:
        return {(p.submarket, p.account): _base(p.state.position) for p in read.positions
                if isinstance(p.state, MorphoPosition)}

    async def read(self, adapter: MorphoBlueAdapter, resolved: MorphoResolved,
                   reread: Sequence[Borrower], bases: Mapping[BorrowerKey, str], block: int
                   ) -> DerivedRead:
        """As MorphoBlueAdapter.read_borrowers (the same state read and `assemble_read`),
        with the untouched positions from their bases."""
        state = await adapter.read_markets_at(resolved, block)
        keys = position_keys([m.market_id for m in state.markets], reread)
        fresh = await read_positions(adapter.rpc, adapter.chain, resolved.morpho, keys, block)
        derived = [_derive(key, base, resolved) for key, base in bases.items()]
        found = sorted([*fresh, *derived], key=lambda p: (p.market_id, p.account))
        new_bases = {(p.market_id, p.account): _base(p) for p in fresh}
        new_bases.update({(p.market_id, p.account): bases[(p.market_id, p.account)]
                          for p in derived})
        return DerivedRead(assemble_read(adapter.market, state, found), new_bases)


DERIVER = MorphoDeriver()


def _base(position: PositionAtBlock) -> str:
    return json.dumps([position.borrow_shares, position.collateral_raw])


def _derive(key: BorrowerKey, base: str, resolved: MorphoResolved) -> PositionAtBlock:
    market_id, account = key
    if market_id not in resolved.market_ids:
        raise DerivationUnavailable(f"Morpho market {market_id} is no longer chosen")
    shares, collateral = json.loads(base)
    return PositionAtBlock(market_id, account, int(shares), int(collateral))

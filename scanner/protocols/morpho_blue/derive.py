"""Morpho Blue: derive positions from stored borrow shares and collateral (incremental).

`position(id, user)` changes only in Borrow, Repay, SupplyCollateral, WithdrawCollateral and
Liquidate, each naming the user (`onBehalf` / `borrower`). Interest, fees and bad debt move the
market's totals, which are read (and accrued to the block, rule.accrue_interest) every block;
an untouched borrower's assets are its shares converted with those totals, as the full read
does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from scanner.chain.abi import event_topic
from scanner.domain import Address, MarketRead
from scanner.pipeline.incremental import DerivationUnavailable, ItemBaseDeriver
from scanner.pipeline.touched import accounts_in_logs
from scanner.protocols.base import Borrower
from scanner.protocols.morpho_blue.adapter import (
    MarketsAtBlock,
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


@dataclass(frozen=True)
class _MorphoState:
    resolved: MorphoResolved
    markets: MarketsAtBlock


class MorphoDeriver(ItemBaseDeriver[MorphoBlueAdapter, MorphoResolved, _MorphoState,
                                       PositionAtBlock]):
    """As MorphoBlueAdapter.read_borrowers (the same state read and `assemble_read`), with
    the untouched positions from their bases."""

    position_type = MorphoPosition

    async def touched(self, adapter: MorphoBlueAdapter, resolved: MorphoResolved,
                      state: _MorphoState, from_block: int, to_block: int) -> set[Address]:
        return await accounts_in_logs(adapter.rpc, adapter.chain, [resolved.morpho],
                                      USER_TOPICS, from_block, to_block)

    async def read_state(self, adapter: MorphoBlueAdapter, resolved: MorphoResolved,
                         block: int) -> _MorphoState:
        return _MorphoState(resolved, await adapter.read_markets_at(resolved, block))

    async def read_fresh(self, adapter: MorphoBlueAdapter, resolved: MorphoResolved,
                         state: _MorphoState, reread: Sequence[Borrower], block: int
                         ) -> Sequence[PositionAtBlock]:
        keys = position_keys([m.market_id for m in state.markets.markets], reread)
        return await read_positions(adapter.rpc, adapter.chain, resolved.morpho, keys, block)

    def derive(self, state: _MorphoState, key: BorrowerKey, base: str) -> PositionAtBlock:
        return _derive(key, base, state.resolved)

    def assemble(self, adapter: MorphoBlueAdapter, state: _MorphoState,
                 items: Sequence[PositionAtBlock], fresh: Sequence[PositionAtBlock]
                 ) -> MarketRead:
        return assemble_read(adapter.market, state.markets, items)

    def key_of(self, state: _MorphoState, item: PositionAtBlock) -> BorrowerKey:
        return (item.market_id, item.account)

    def base_of(self, item: PositionAtBlock) -> str:
        return _base(item)

    def item_of_position(self, position_state: MorphoPosition) -> PositionAtBlock:
        return position_state.position

    def order(self, items: list[PositionAtBlock]) -> list[PositionAtBlock]:
        return sorted(items, key=lambda p: (p.market_id, p.account))


DERIVER = MorphoDeriver()


def _base(position: PositionAtBlock) -> str:
    return json.dumps([position.borrow_shares, position.collateral_raw])


def _derive(key: BorrowerKey, base: str, resolved: MorphoResolved) -> PositionAtBlock:
    market_id, account = key
    if market_id not in resolved.market_ids:
        raise DerivationUnavailable(f"Morpho market {market_id} is no longer chosen")
    shares, collateral = json.loads(base)
    return PositionAtBlock(market_id, account, int(shares), int(collateral))

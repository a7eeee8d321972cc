"""Maker: derive urns from stored ink and art (incremental snapshots).

`Vat.urns(ilk, urn)` changes only in `frob` (urn `u`), `fork` (`src`, `dst`) and `grab`
(urn `u`, a liquidation), each noted by the Vat's anonymous LogNote with the urn in a topic.
The ilk's rate, spot and price are read (and the rate accrued to the block) every block, and
so are the CdpManager's vault owners: an untouched urn's debt is art times the new rate, as
the full read computes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scanner.chain.abi import function_selector
from scanner.domain import Address, MarketRead
from scanner.pipeline.incremental import DerivationUnavailable, ItemBaseDeriver
from scanner.pipeline.touched import accounts_in_logs
from scanner.protocols.base import Borrower
from scanner.protocols.maker.curve import MakerPosition
from scanner.protocols.maker.discover import FORK_TOPIC, FROB_TOPIC
from scanner.protocols.maker.read import (
    VAT,
    CdpOwner,
    MakerAdapter,
    MakerAddresses,
    assemble_read,
    make_urn,
)
from scanner.protocols.maker.state import MakerIlk, MakerUrn
from scanner.store.bases import BorrowerKey

GRAB_TOPIC = "0x" + function_selector(VAT, "grab").hex() + "00" * 28
URN_TOPICS = {FROB_TOPIC: (2,), FORK_TOPIC: (2, 3), GRAB_TOPIC: (2,)}


@dataclass(frozen=True)
class _MakerState:
    block: int
    timestamp: int
    ilks: Sequence[MakerIlk]
    by_name: Mapping[str, MakerIlk]
    owners: Mapping[Address, CdpOwner]


_Urn = tuple[MakerIlk, MakerUrn]


class MakerDeriver(ItemBaseDeriver[MakerAdapter, MakerAddresses, _MakerState, _Urn]):
    """As MakerAdapter.read (the same reads and `assemble_read`), with the untouched urns
    from their bases."""

    position_type = MakerPosition

    async def touched(self, adapter: MakerAdapter, resolved: MakerAddresses,
                      state: _MakerState, from_block: int, to_block: int) -> set[Address]:
        return await accounts_in_logs(adapter.rpc, adapter.chain, [resolved.vat], URN_TOPICS,
                                      from_block, to_block)

    async def read_state(self, adapter: MakerAdapter, resolved: MakerAddresses, block: int
                         ) -> _MakerState:
        timestamp = int((await adapter.rpc.get_block(block))["timestamp"])
        ilks = await adapter.read_ilks(resolved, block, timestamp)
        owners = await adapter.cdp_owners(resolved, block)
        return _MakerState(block, timestamp, ilks, {ilk.name: ilk for ilk in ilks}, owners)

    async def read_fresh(self, adapter: MakerAdapter, resolved: MakerAddresses,
                         state: _MakerState, reread: Sequence[Borrower], block: int
                         ) -> Sequence[_Urn]:
        return await adapter.read_urns(resolved, state.ilks, [a for _s, a in reread],
                                       state.owners, block)

    def derive(self, state: _MakerState, key: BorrowerKey, base: str) -> _Urn:
        return _derive(key, base, state.by_name, state.owners)

    def assemble(self, adapter: MakerAdapter, state: _MakerState, items: Sequence[_Urn],
                 fresh: Sequence[_Urn]) -> MarketRead:
        return assemble_read(adapter.market, state.block, state.timestamp, state.ilks, items)

    def key_of(self, state: _MakerState, item: _Urn) -> BorrowerKey:
        return (item[0].name, item[1].urn)

    def base_of(self, item: _Urn) -> str:
        return _base(item[1])

    def item_of_position(self, position_state: MakerPosition) -> _Urn:
        return (position_state.ilk, position_state.urn)


DERIVER = MakerDeriver()


def _base(urn: MakerUrn) -> str:
    return json.dumps([urn.ink_wad, urn.art_wad])


def _derive(key: BorrowerKey, base: str, ilks: Mapping[str, MakerIlk],
            owners: Mapping[Address, CdpOwner]) -> tuple[MakerIlk, MakerUrn]:
    name, urn = key
    if name not in ilks:
        raise DerivationUnavailable(f"ilk {name} is no longer read")
    ink, art = json.loads(base)
    return ilks[name], make_urn(urn, int(ink), int(art), owners)

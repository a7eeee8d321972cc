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

from scanner.chain.abi import function_selector
from scanner.domain import Address, MarketRead
from scanner.pipeline.incremental import DerivationUnavailable, DerivedRead
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


class MakerDeriver:
    async def touched(self, adapter: MakerAdapter, resolved: MakerAddresses, from_block: int,
                      to_block: int) -> set[Address]:
        return await accounts_in_logs(adapter.rpc, adapter.chain, [resolved.vat], URN_TOPICS,
                                      from_block, to_block)

    async def capture(self, adapter: MakerAdapter, resolved: MakerAddresses, read: MarketRead,
                      block: int) -> dict[BorrowerKey, str]:
        return {(p.submarket, p.account): _base(p.state.urn) for p in read.positions
                if isinstance(p.state, MakerPosition)}

    async def read(self, adapter: MakerAdapter, resolved: MakerAddresses,
                   reread: Sequence[Borrower], bases: Mapping[BorrowerKey, str], block: int
                   ) -> DerivedRead:
        """As MakerAdapter.read (the same reads and `assemble_read`), with the untouched urns
        from their bases."""
        timestamp = int((await adapter.rpc.get_block(block))["timestamp"])
        ilks = await adapter.read_ilks(resolved, block, timestamp)
        owners = await adapter.cdp_owners(resolved, block)
        fresh = await adapter.read_urns(resolved, ilks, [a for _s, a in reread], owners, block)
        by_name = {ilk.name: ilk for ilk in ilks}
        derived = [_derive(key, base, by_name, owners) for key, base in bases.items()]
        read = assemble_read(adapter.market, block, timestamp, ilks, [*fresh, *derived])
        new_bases = {(ilk.name, urn.urn): _base(urn) for ilk, urn in fresh}
        new_bases.update({(ilk.name, urn.urn): bases[(ilk.name, urn.urn)]
                          for ilk, urn in derived})
        return DerivedRead(read, new_bases)


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

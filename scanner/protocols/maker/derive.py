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
from scanner.domain import Address, Asset, MarketRead, Position
from scanner.pipeline.incremental import DerivationUnavailable, DerivedRead
from scanner.pipeline.touched import accounts_in_logs
from scanner.protocols.base import Borrower
from scanner.protocols.maker.curve import MakerPosition
from scanner.protocols.maker.discover import FORK_TOPIC, FROB_TOPIC
from scanner.protocols.maker.read import VAT, MakerAdapter, MakerAddresses, mirror_mismatches
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
        """As MakerAdapter.read, with the untouched urns from their bases."""
        timestamp = int((await adapter.rpc.get_block(block))["timestamp"])
        ilks = await adapter.read_ilks(resolved, block, timestamp)
        fresh = await adapter.read_urns(resolved, ilks, [a for _s, a in reread], block)
        owners = await adapter._cdp_owners(resolved, block)
        by_name = {ilk.name: ilk for ilk in ilks}
        derived = [_derive(key, base, by_name, owners) for key, base in bases.items()]
        order = {ilk.name: n for n, ilk in enumerate(ilks)}  # the full read's: urn, then ilk
        found = sorted([*fresh, *derived], key=lambda f: (f[1].urn, order[f[0].name]))
        prices = tuple(sorted({(i.gem, i.current.val_wad) for i in ilks}))
        market = adapter.market
        positions = tuple(Position(market.key, market.protocol, ilk.name, urn.urn,
                                   MakerPosition(urn, ilk, prices)) for ilk, urn in found)
        assets = tuple(sorted({Asset(i.gem, i.symbol, i.current.val_wad // 10**10)
                               for i in ilks}, key=lambda a: a.address))
        read = MarketRead(market.key, market.protocol, block, timestamp, 0, assets, positions,
                          mirror_mismatches(found))
        new_bases = {(ilk.name, urn.urn): _base(urn) for ilk, urn in fresh}
        new_bases.update({(ilk.name, urn.urn): bases[(ilk.name, urn.urn)]
                          for ilk, urn in derived})
        return DerivedRead(read, new_bases)


DERIVER = MakerDeriver()


def _base(urn: MakerUrn) -> str:
    return json.dumps([urn.ink_wad, urn.art_wad])


def _derive(key: BorrowerKey, base: str, ilks: Mapping[str, MakerIlk],
            owners: Mapping[Address, tuple[int, Address]]) -> tuple[MakerIlk, MakerUrn]:
    name, urn = key
    if name not in ilks:
        raise DerivationUnavailable(f"ilk {name} is no longer read")
    ink, art = json.loads(base)
    cdp, owner = owners.get(urn, (None, None))
    return ilks[name], MakerUrn(urn, int(ink), int(art), cdp, owner)

"""What liquidating one Maker urn at an axis price sells.

`Dog.bark` moves dink of the gem and dart of the normalised debt to the ilk's Clipper
(`rule.bark_outcome`: the whole urn unless the ilk's `hole` or the global `Hole` room bounds
it, the whole urn again when the remainder would be dusty) and kicks an auction of lot = dink
for tab = dart x rate x chop. A keeper takes it whole (`auction.keeper_take`) at the first
price step at or below the feed price it was kicked from (with ETH-A's buf 1.20, step 90 s,
cut 0.99: 19 steps, 28.5 minutes, 0.85% under the feed), and sells what it bought on the
market. What a take pays is the real Clipper's rule: lot x price, but never more than the
tab -- then only tab / price of the gem is bought and the rest goes back to the urn's owner,
never reaching the market. So the gem sold is that slice; the debt repaid is dart x rate (the
debt taken off the urn); the bad debt is what the DAI paid (owe) leaves of it,
max(dart x rate - owe, 0) (the chop is the penalty on top: owe beyond dart x rate is surplus).
A bark bounded by the room leaves the rest of the urn, barked again while it stays unsafe.

The room is used up within a round (`LEDGER`): the Dog's `Dirt` and each ilk's `dirt` start
from the scan block and every bark adds its tab to both, as `Dog.bark` does; once
min(Hole - Dirt, hole - dirt) is spent, bark reverts ("Dog/liquidation-limit-hit") and the
urns left wait. At the end of the round the round's auctions are taken, and their whole tab
is given back (`Dog.digs`), so the next round's barks find the room again. The Dog is one per
market: a Maker market's ilks share the global Hole.
"""

from __future__ import annotations

from dataclasses import replace

from scanner.cascade.sale import Ledger, LiquidationSale, SoldCollateral
from scanner.protocols.maker.auction import keeper_take
from scanner.protocols.maker.curve import DogDirt, MakerCurve
from scanner.protocols.maker.rule import RAY, WAD, bark_outcome

_WAD_TO_8DEC = 10**10


def _bind(curve: MakerCurve, dirt: DogDirt) -> MakerCurve:
    """The curve with the Dog's dirt as the cascade's barks left it (an ilk not barked yet
    keeps the dirt its curve holds: the scan block's)."""
    dog = replace(curve.ilk.dog, dirt_total_rad=dirt.total_rad,
                  dirt_rad=dirt.of(curve.ilk.name, curve.ilk.dog.dirt_rad))
    return replace(curve, ilk=replace(curve.ilk, dog=dog), dirt=dirt)


LEDGER = Ledger(key=lambda curve: "dog", read=lambda curve: DogDirt(curve.ilk.dog.dirt_total_rad),
                bind=_bind, settle=lambda dirt: dirt.settled())


def liquidation_sale(curve: MakerCurve, x: int) -> LiquidationSale | None:
    """One `bark` of the urn with the pip at axis price x (wad, USD)."""
    if curve.healthy(x):
        return None
    urn, ilk = curve.urn, curve.ilk
    bite = bark_outcome(urn.ink_wad, urn.art_wad, ilk.rate_ray, ilk.dust_rad, ilk.dog)
    if bite is None:
        return None  # the room is used up, or the auction would be dusty: bark reverts
    val_wad = curve.val_wad(x)
    take = keeper_take(ilk.dog.clip, bite.tab_rad, bite.dink_wad, val_wad, ilk.par_ray)
    gem_usd_8dec = take.slice_wad * val_wad // WAD // _WAD_TO_8DEC
    due_rad = bite.dart_wad * ilk.rate_ray
    debt_usd_8dec = due_rad // RAY // _WAD_TO_8DEC
    bad_debt_usd_8dec = max(due_rad - take.owe_rad, 0) // RAY // _WAD_TO_8DEC
    # ink is in wad whatever the gem's decimals (the GemJoin scales it)
    sold = SoldCollateral(ilk.gem, ilk.symbol, 18, take.slice_wad, gem_usd_8dec, curve.on_axis)
    left = replace(urn, ink_wad=urn.ink_wad - bite.dink_wad, art_wad=urn.art_wad - bite.dart_wad)
    after = replace(curve, urn=left) if left.art_wad else None
    # Dog.bark: Dirt += tab, ilks[ilk].dirt += tab
    dirt = (curve.dirt or DogDirt(ilk.dog.dirt_total_rad)).plus(ilk.name, ilk.dog.dirt_rad,
                                                                 bite.tab_rad)
    return LiquidationSale((sold,), debt_usd_8dec, bad_debt_usd_8dec, 1, after,
                           ledger_after=dirt)

"""What liquidating one Maker urn at an axis price sells.

`Dog.bark` moves dink of the gem and dart of the normalised debt to a Clipper auction
(`rule.bark_outcome`: the whole urn unless the ilk's `hole` or the global `Hole` room bounds
it, the whole urn again when the remainder would be dusty); the auction sells the gem to
keepers, who sell it on the market, to raise the tab = dart x rate x chop. The debt repaid is
dart x rate (the chop is the penalty on top); what the gem at the liquidation price cannot
raise of it is bad debt (the Vow's `sin`). A bark bounded by the room leaves the rest of the
urn, barked again while it stays unsafe.

The room is used up within a cascade (`LEDGER`): the Dog's `Dirt` and each ilk's `dirt` start
from the scan block and every bark adds its tab to both, as `Dog.bark` does; once
min(Hole - Dirt, hole - dirt) is spent, bark reverts ("Dog/liquidation-limit-hit") and the
urns left wait for a later round, where they are barked only if room is left. Auctions are
assumed not to finish within the cascade (their `take`s give room back through `Dog.digs`;
the Hole exists to bound what is in auction at once during a crash). The Dog is one per
market: a Maker market's ilks share the global Hole.
"""

from __future__ import annotations

from dataclasses import replace

from scanner.cascade.sale import Ledger, LiquidationSale, SoldCollateral
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
                bind=_bind)


def liquidation_sale(curve: MakerCurve, x: int) -> LiquidationSale | None:
    """One `bark` of the urn with the pip at axis price x (wad, USD)."""
    if curve.healthy(x):
        return None
    urn, ilk = curve.urn, curve.ilk
    bite = bark_outcome(urn.ink_wad, urn.art_wad, ilk.rate_ray, ilk.dust_rad, ilk.dog)
    if bite is None:
        return None  # the room is used up, or the auction would be dusty: bark reverts
    val_wad = curve.val_wad(x)
    gem_usd_8dec = bite.dink_wad * val_wad // WAD // _WAD_TO_8DEC
    debt_usd_8dec = bite.dart_wad * ilk.rate_ray // RAY // _WAD_TO_8DEC
    # ink is in wad whatever the gem's decimals (the GemJoin scales it)
    sold = SoldCollateral(ilk.gem, ilk.symbol, 18, bite.dink_wad, gem_usd_8dec, curve.on_axis)
    left = replace(urn, ink_wad=urn.ink_wad - bite.dink_wad, art_wad=urn.art_wad - bite.dart_wad)
    after = replace(curve, urn=left) if left.art_wad else None
    # Dog.bark: Dirt += tab, ilks[ilk].dirt += tab
    dirt = (curve.dirt or DogDirt(ilk.dog.dirt_total_rad)).plus(ilk.name, ilk.dog.dirt_rad,
                                                                 bite.tab_rad)
    return LiquidationSale((sold,), debt_usd_8dec, max(debt_usd_8dec - gem_usd_8dec, 0), 1,
                           after, ledger_after=dirt)

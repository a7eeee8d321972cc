"""What liquidating one Maker urn at an axis price sells.

`Dog.bark` moves dink of the gem and dart of the normalised debt to a Clipper auction
(`rule.bark_outcome`: the whole urn unless the ilk's `hole` or the global `Hole` room bounds
it, the whole urn again when the remainder would be dusty); the auction sells the gem to
keepers, who sell it on the market, to raise the tab = dart x rate x chop. The debt repaid is
dart x rate (the chop is the penalty on top); what the gem at the liquidation price cannot
raise of it is bad debt (the Vow's `sin`). A bark bounded by the room leaves the rest of the
urn, barked again while it stays unsafe.

The room is the one at the scan block for every bark: liqscan does not track the `dirt` that
earlier barks of the same cascade add (auctions that finish give it back).
"""

from __future__ import annotations

from dataclasses import replace

from scanner.cascade.sale import LiquidationSale, SoldCollateral
from scanner.protocols.maker.curve import MakerCurve
from scanner.protocols.maker.rule import RAY, WAD, bark_outcome

_WAD_TO_8DEC = 10**10


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
    return LiquidationSale((sold,), debt_usd_8dec, max(debt_usd_8dec - gem_usd_8dec, 0), 1,
                           after)

"""A Maker urn on a price axis: Dog.bark's condition as a function of the axis price.

`x` is the axis reference asset's pip price (wad, USD) as this Maker market sees it (its OSM's
current value: what `spotter.poke` files). Moving the axis to x scales every member gem's pip
price by x / now (floored; the reference itself is then exactly x). The urn's gem is one
asset: if it is not on the axis no x changes its health. Health is `not unsafe(ink, art,
spot(x), rate)` with `rate` accrued to the scan block (drip) and spot as poke would file it
-- the contract's own test after a keeper's drip and poke. It is monotone in x.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.domain import Address, Axis, Valuation
from scanner.protocols.maker.rule import RAY, WAD, bark_outcome, spot_ray, unsafe
from scanner.protocols.maker.state import MakerIlk, MakerUrn

NO_DEBT_HEALTH_FACTOR_WAD = 2**256 - 1
# scanner.pipeline.liquidation's: the solver looks at [now / 100, now * 100]
SENSITIVITY_RANGE = 100
_WAD_TO_8DEC = 10**10


@dataclass(frozen=True)
class DogDirt:
    """The Dog's `Dirt` and the `dirt` of each ilk as a cascade's barks left them (rad); an
    ilk not in `ilk_dirt_rad` still has its scan-block dirt."""

    total_rad: int
    ilk_dirt_rad: tuple[tuple[str, int], ...] = ()
    kicked_rad: tuple[tuple[str, int], ...] = ()  # the tabs of this round's auctions, by ilk

    def of(self, ilk: str, scan_dirt_rad: int) -> int:
        return dict(self.ilk_dirt_rad).get(ilk, scan_dirt_rad)

    def plus(self, ilk: str, scan_dirt_rad: int, tab_rad: int) -> DogDirt:
        """After a bark of `ilk` whose auction's tab is `tab_rad`: both grow by it."""
        by_ilk = dict(self.ilk_dirt_rad)
        by_ilk[ilk] = self.of(ilk, scan_dirt_rad) + tab_rad
        kicked = dict(self.kicked_rad)
        kicked[ilk] = kicked.get(ilk, 0) + tab_rad
        return DogDirt(self.total_rad + tab_rad, tuple(sorted(by_ilk.items())),
                       tuple(sorted(kicked.items())))

    def settled(self) -> DogDirt:
        """After the round's auctions are taken whole: `Dog.digs` gives each one's whole tab
        back (the dirt of auctions running at the scan block stays)."""
        kicked = dict(self.kicked_rad)
        by_ilk = tuple((ilk, dirt - kicked.get(ilk, 0)) for ilk, dirt in self.ilk_dirt_rad)
        return DogDirt(self.total_rad - sum(kicked.values()), by_ilk)


@dataclass(frozen=True)
class MakerCurve:
    urn: MakerUrn
    ilk: MakerIlk
    on_axis: bool
    ref_now_wad: int  # the axis reference gem's pip price in this market
    dirt: DogDirt | None = None  # set by a cascade: the Dog's dirt so far (ilk.dog holds it too)

    price_unit = "USD"
    price_decimals = 18

    @property
    def price_now(self) -> int:
        return self.ref_now_wad

    def val_wad(self, x: int) -> int:
        now = self.ilk.current.val_wad
        return now * x // self.ref_now_wad if self.on_axis else now

    def spot(self, x: int) -> int:
        ilk = self.ilk
        return spot_ray(self.val_wad(x), ilk.current.has, ilk.par_ray, ilk.mat_ray)

    def healthy(self, x: int) -> bool:
        return not unsafe(self.urn.ink_wad, self.urn.art_wad, self.spot(x), self.ilk.rate_ray)

    def value(self, x: int) -> Valuation:
        return urn_valuation(self.urn, self.ilk, self.val_wad(x), self.spot(x))

    def seizable_usd_8dec(self, x: int) -> int:
        """bark takes dink of the gem (the whole urn unless hole/Hole bound it)."""
        bite = bark_outcome(self.urn.ink_wad, self.urn.art_wad, self.ilk.rate_ray,
                            self.ilk.dust_rad, self.ilk.dog)
        return 0 if bite is None else bite.dink_wad * self.val_wad(x) // WAD // _WAD_TO_8DEC

    def axis_collateral_usd_8dec(self) -> int:
        if not self.on_axis:
            return 0
        return self.urn.ink_wad * self.ilk.current.val_wad // WAD // _WAD_TO_8DEC

    def monotone_sign(self) -> int | None:
        """spot never falls as x rises, and `unsafe` only gets truer as spot falls -- while
        spot > 0 (a spot of 0 is never unsafe): proven monotone when spot is positive at the
        bottom of the solver's range (pipeline/monotone.py)."""
        if not self.on_axis or not self.ilk.current.has:
            return 0
        return 1 if self.spot(max(1, self.ref_now_wad // SENSITIVITY_RANGE)) > 0 else None

    def boundary_seed(self) -> int | None:
        return self.closed_form()

    def piece(self, x: int) -> int:
        return 0

    def surely_healthy(self, x: int) -> bool:
        return True

    def closed_form(self) -> int | None:
        """x where ink * val * 1e9 / par / mat == art * rate, ignoring the floors."""
        urn, ilk = self.urn, self.ilk
        if not self.on_axis or urn.ink_wad == 0 or ilk.current.val_wad == 0:
            return None
        val = urn.art_wad * ilk.rate_ray * ilk.par_ray // RAY * ilk.mat_ray // (
            urn.ink_wad * 10**9 * RAY)
        return max(val * self.ref_now_wad // ilk.current.val_wad, 1)


def urn_valuation(urn: MakerUrn, ilk: MakerIlk, val_wad: int, spot: int) -> Valuation:
    """Collateral at the pip price, debt art * rate (DAI at $1), health = ink*spot / (art*rate)
    (1e18 at the bark boundary)."""
    debt_rad = urn.art_wad * ilk.rate_ray
    health = urn.ink_wad * spot * WAD // debt_rad if debt_rad else NO_DEBT_HEALTH_FACTOR_WAD
    return Valuation(urn.ink_wad * val_wad // WAD // _WAD_TO_8DEC,
                     debt_rad // RAY // _WAD_TO_8DEC, health)


@dataclass(frozen=True)
class MakerPosition:
    """The neutral pipeline's handle on one urn of one ilk (scanner.domain.PositionState)."""

    urn: MakerUrn
    ilk: MakerIlk
    gem_prices_wad: tuple[tuple[Address, int], ...]  # every gem's pip price (peek) in the market

    @property
    def has_debt(self) -> bool:
        return self.urn.art_wad > 0

    @property
    def owner(self) -> Address | None:
        """The CdpManager's `owns(cdp)` when the urn is a vault's UrnHandler."""
        return self.urn.owner

    @property
    def vault_id(self) -> int | None:
        """The CdpManager's cdp id when the urn is a vault's UrnHandler."""
        return self.urn.cdp

    @property
    def liquidatable_next(self) -> bool | None:
        """Does the OSM's NEXT price (peep) make the urn unsafe, with the rate accrued to when
        that price can become current? None when the pip has no next price."""
        nxt = self.ilk.next
        if nxt is None:
            return None
        spot = spot_ray(nxt.val_wad, nxt.has, self.ilk.par_ray, self.ilk.mat_ray)
        return unsafe(self.urn.ink_wad, self.urn.art_wad, spot, self.ilk.rate_next_ray)

    def curve(self, axis: Axis) -> MakerCurve:
        on_axis = self.ilk.gem in axis.members
        # the reference gem's pip price (wad) in this market; resolve_axes takes the reference
        # from this market's assets, so it is one of its gems
        ref_now_wad = dict(self.gem_prices_wad).get(axis.reference, self.ilk.current.val_wad)
        return MakerCurve(self.urn, self.ilk, on_axis and ref_now_wad > 0,
                          ref_now_wad if on_axis and ref_now_wad > 0 else max(
                              axis.reference_price_8dec, 1))

    def reported(self) -> Valuation:
        """The Vat's own stored view: stored rate and spot (what bark sees without a drip)."""
        ilk = self.ilk
        debt_rad = self.urn.art_wad * ilk.stored_rate_ray
        health = (self.urn.ink_wad * ilk.stored_spot_ray * WAD // debt_rad if debt_rad
                  else NO_DEBT_HEALTH_FACTOR_WAD)
        return Valuation(self.urn.ink_wad * ilk.current.val_wad // WAD // _WAD_TO_8DEC,
                         debt_rad // RAY // _WAD_TO_8DEC, health)

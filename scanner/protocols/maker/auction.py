"""The Clipper's auction (dss `clip.sol` with the StairstepExponentialDecrease abacus of
`abaci.sol`, the one ETH-A uses) as pure integer functions, exactly as the contracts compute.

Units: prices ray (DAI per gem wad, 1e27), tab and owe rad (1e45), lot and slice wad.

- kick:  top = rmul(feed, buf), feed = rdiv(val * 1e9, par) (the pip's `peek` over `par`);
- price: top * rpow(cut, dur / step) / RAY (integer division of the age by the step; rpow rounds
         half up at every product, as `rule.rpow`);
- take of the whole lot at price p: owe = lot * p; when that exceeds the tab, owe = tab and the
         slice bought shrinks to tab / p (floor) -- the rest of the lot goes back to the urn;
         the Dog gets the whole tab back as room (`digs` of owe, or of tab + owe once the lot
         is gone: either way the auction's tab).
- reset: an auction older than `tail`, or whose price is below cusp x top, cannot be taken.

The keeper the cascade assumes takes each auction whole at the first step whose price is at
or below the feed price the auction was kicked from (the price the market is at in the round:
the engine sets the pip to it).
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.protocols.maker.rule import RAY, ClipperIlk, rpow


@dataclass(frozen=True)
class Take:
    """A keeper's take of a whole auction: the price, the gem bought (sold on the market), the
    DAI paid to the vow, and the gem returned to the urn."""

    steps: int  # the price steps waited since the kick
    price_ray: int
    slice_wad: int
    owe_rad: int
    returned_wad: int


def feed_price_ray(val_wad: int, par_ray: int) -> int:
    """Clipper.getFeedPrice: rdiv(val * BLN, par)."""
    return val_wad * 10**9 * RAY // par_ray


def stairstep_price(top_ray: int, dur_s: int, step_s: int, cut_ray: int) -> int:
    """StairstepExponentialDecrease.price(top, dur)."""
    return top_ray * rpow(cut_ray, dur_s // step_s, RAY) // RAY


def needs_reset(clip: ClipperIlk, top_ray: int, dur_s: int) -> bool:
    """Clipper.status's `done`: too old, or fallen below cusp (take reverts needs-reset)."""
    price = stairstep_price(top_ray, dur_s, clip.step_s, clip.cut_ray)
    return dur_s > clip.tail_s or price * RAY // top_ray < clip.cusp_ray


def take_step(clip: ClipperIlk, top_ray: int, feed_ray: int) -> int | None:
    """The first step whose price is at or below the feed price, while the auction can still
    be taken; None when it needs a reset first (or never falls: cut = 1)."""
    steps = 0
    while not needs_reset(clip, top_ray, steps * clip.step_s):
        if stairstep_price(top_ray, steps * clip.step_s, clip.step_s, clip.cut_ray) <= feed_ray:
            return steps
        if clip.step_s == 0 or clip.cut_ray >= RAY:
            return None
        steps += 1
    return None


def take_whole(tab_rad: int, lot_wad: int, price_ray: int) -> tuple[int, int]:
    """(owe rad, slice wad) of `take(id, lot, price, ...)`: the whole lot unless its price
    exceeds the tab, then tab / price of it (chost never binds when the whole lot is asked)."""
    owe = lot_wad * price_ray
    if owe > tab_rad:
        return tab_rad, tab_rad // price_ray
    return owe, lot_wad


def keeper_take(clip: ClipperIlk | None, tab_rad: int, lot_wad: int, val_wad: int,
                par_ray: int) -> Take:
    """The cascade's keeper: the whole auction taken at the first step at or below the feed
    price. An ilk whose Clipper was not read (None), or whose auction would need a reset
    before reaching the feed price, is taken at the feed price itself."""
    feed = feed_price_ray(val_wad, par_ray)
    steps, price = 0, feed
    if clip is not None:
        top = top_ray(feed, clip.buf_ray)
        found = take_step(clip, top, feed)
        if found is not None:
            steps = found
            price = stairstep_price(top, steps * clip.step_s, clip.step_s, clip.cut_ray)
    if price == 0:
        return Take(steps, 0, lot_wad, 0, 0)  # a worthless lot: given away, nothing raised
    owe, slice_wad = take_whole(tab_rad, lot_wad, price)
    return Take(steps, price, slice_wad, owe, lot_wad - slice_wad)


def top_ray(feed_ray: int, buf_ray: int) -> int:
    """Clipper.kick: top = rmul(feed, buf)."""
    return feed_ray * buf_ray // RAY

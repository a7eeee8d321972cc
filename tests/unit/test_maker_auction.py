"""The Clipper's auction by hand (scanner/protocols/maker/auction.py): the stairstep price,
the step a keeper takes at, and what a take of the whole lot pays (never more than the tab)."""

from __future__ import annotations

from scanner.protocols.maker.auction import (
    feed_price_ray,
    keeper_take,
    needs_reset,
    stairstep_price,
    take_step,
    take_whole,
    top_ray,
)
from scanner.protocols.maker.rule import RAY, WAD, ClipperIlk

RAD = 10**45
HALF = ClipperIlk(buf_ray=12 * RAY // 10, tail_s=8_400, cusp_ray=4 * RAY // 10, step_s=90,
                  cut_ray=RAY // 2)  # halves every 90 s: powers of 1/2 are exact in ray
ETH_A = ClipperIlk(12 * RAY // 10, 8_400, 4 * RAY // 10, 90, 99 * RAY // 100)


def test_feed_and_top() -> None:
    """feed = val x 1e9 / par (ray); top = feed x buf: $2,000 at par 1 -> 2,000 and 2,400."""
    feed = feed_price_ray(2_000 * WAD, RAY)
    assert feed == 2_000 * RAY
    assert top_ray(feed, HALF.buf_ray) == 2_400 * RAY
    assert feed_price_ray(2_000 * WAD, 2 * RAY) == 1_000 * RAY  # par 2: half the DAI price


def test_the_stairstep_falls_once_per_step() -> None:
    """top x cut^(dur // step): 89 s is still the top, 90-179 s half, 180 s a quarter."""
    top = 2_400 * RAY
    assert stairstep_price(top, 0, 90, RAY // 2) == top
    assert stairstep_price(top, 89, 90, RAY // 2) == top
    assert stairstep_price(top, 90, 90, RAY // 2) == 1_200 * RAY
    assert stairstep_price(top, 179, 90, RAY // 2) == 1_200 * RAY
    assert stairstep_price(top, 180, 90, RAY // 2) == 600 * RAY
    assert stairstep_price(top, 19 * 90, 90, RAY // 2) == 2_400 * RAY // 2**19


def test_the_keeper_takes_at_the_first_step_at_or_below_the_feed() -> None:
    """Halving from 2,400: 1,200 is the first price <= 2,000 (step 1). ETH-A's 1% steps from
    120%: 0.99^18 x 1.2 = 1.0014 > 1, 0.99^19 x 1.2 = 0.9915 <= 1 -> step 19 (28.5 min)."""
    assert take_step(HALF, 2_400 * RAY, 2_000 * RAY) == 1
    assert take_step(HALF, 2_400 * RAY, 2_400 * RAY) == 0  # buf 1: at once
    steps = take_step(ETH_A, 2_400 * RAY, 2_000 * RAY)
    assert steps == 19
    at = stairstep_price(2_400 * RAY, 19 * 90, 90, ETH_A.cut_ray)
    before = stairstep_price(2_400 * RAY, 18 * 90, 90, ETH_A.cut_ray)
    assert at <= 2_000 * RAY < before
    assert abs(at / (2_000 * RAY) - 1.2 * 0.99**19) < 1e-12


def test_an_auction_past_tail_or_cusp_needs_a_reset() -> None:
    """tail 8,400 s; cusp 40%: halving reaches 25% of top at 180 s."""
    assert not needs_reset(HALF, 2_400 * RAY, 90)
    assert needs_reset(HALF, 2_400 * RAY, 180)  # 600 / 2,400 = 25% < 40%
    assert needs_reset(ETH_A, 2_400 * RAY, 8_401)
    short = ClipperIlk(12 * RAY // 10, 60, 0, 90, RAY // 2)  # reset before the first step
    assert take_step(short, 2_400 * RAY, 2_000 * RAY) is None


def test_a_take_never_collects_more_than_the_tab() -> None:
    """10 gem at 1,200: 12,000 DAI. A tab of 15,000: all 10 bought for 12,000. A tab of
    6,000: owe 6,000, slice 6,000 / 1,200 = 5 gem, the other 5 go back to the urn."""
    assert take_whole(15_000 * RAD, 10 * WAD, 1_200 * RAY) == (12_000 * RAD, 10 * WAD)
    assert take_whole(6_000 * RAD, 10 * WAD, 1_200 * RAY) == (6_000 * RAD, 5 * WAD)
    # the slice is floored: 1,000 / 3 gem
    assert take_whole(1_000 * RAD, 1_000 * WAD, 3 * RAY) == (1_000 * RAD,
                                                             333_333_333_333_333_333_333)


def test_keeper_take_of_a_kicked_auction() -> None:
    """$2,000 feed, halving Clipper: taken at step 1 for 1,200; a 6,000 tab buys 5 of 10 gem.
    No Clipper read: taken at the feed price, 3 gem for the 6,000."""
    take = keeper_take(HALF, 6_000 * RAD, 10 * WAD, 2_000 * WAD, RAY)
    assert (take.steps, take.price_ray, take.slice_wad, take.owe_rad, take.returned_wad) == (
        1, 1_200 * RAY, 5 * WAD, 6_000 * RAD, 5 * WAD)
    bare = keeper_take(None, 6_000 * RAD, 10 * WAD, 2_000 * WAD, RAY)
    assert (bare.steps, bare.price_ray, bare.slice_wad, bare.owe_rad) == (
        0, 2_000 * RAY, 3 * WAD, 6_000 * RAD)
    short = keeper_take(bare_short(), 30_000 * RAD, 10 * WAD, 2_000 * WAD, RAY)
    assert (short.price_ray, short.slice_wad, short.owe_rad) == (2_000 * RAY, 10 * WAD,
                                                                  20_000 * RAD)


def bare_short() -> ClipperIlk:
    """A Clipper whose auction needs a reset before it reaches the feed price."""
    return ClipperIlk(12 * RAY // 10, 60, 0, 90, RAY // 2)

"""Background populations kept clear of planted clusters (scanner.devnet.keepout)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from functools import cache
from typing import Any

import pytest

from scanner.demo import DEMO_CLUSTERS
from scanner.devnet.aave2 import load_v2_spec
from scanner.devnet.aave36_spec import load_market36_spec
from scanner.devnet.aave_spec import load_market_spec
from scanner.devnet.compound_population import generate_compound_population
from scanner.devnet.compound_spec import load_compound_spec
from scanner.devnet.keepout import (
    MARGIN,
    RISE_AAVE2,
    RISE_LIQUITY1,
    RISE_LIQUITY2,
    RISE_MAKER,
    RISE_SMALL,
    Exposure,
    Keepout,
    Window,
    axis_level_fraction,
    keepout_for,
)
from scanner.devnet.liquity1_population import (
    TrovePlan,
    generate_liquity1_population,
    icr_clear_of,
    liquity1_exposure,
)
from scanner.devnet.liquity2_population import generate_liquity2_population, liquity2_exposure
from scanner.devnet.maker_population import generate_maker_population, maker_exposure
from scanner.devnet.morpho import (
    MorphoMarket,
    load_morpho_spec,
    morpho_exposure,
    plan_morpho_positions,
)
from scanner.devnet.population import (
    ClusterSpec,
    aave_exposure,
    generate_aave_population,
)
from scanner.devnet.population2 import aave2_exposure, generate_aave2_population
from scanner.devnet.population36 import aave36_exposure, generate_aave36_population
from scanner.errors import ConfigError

ETH = ("WETH", "wstETH", "rETH")
SEED = 1  # the demo's
market_spec, market36_spec = cache(load_market_spec), cache(load_market36_spec)
v2_spec, compound_spec = cache(load_v2_spec), cache(load_compound_spec)


def test_levels_on_an_axis() -> None:
    long = Exposure((("WETH", 10_000.0, 0.8),), (("USDC", 6_000.0),))
    assert axis_level_fraction(long, ETH) == pytest.approx(0.75)
    # half the collateral off the axis: the axis half must cover what the other half does not
    mixed = Exposure((("WETH", 5_000.0, 0.8), ("WBTC", 5_000.0, 0.7)), (("USDC", 6_000.0),))
    assert axis_level_fraction(mixed, ETH) == pytest.approx((6_000 - 3_500) / 4_000)
    short = Exposure((("USDC", 10_000.0, 0.8),), (("WETH", 4_000.0),))
    assert axis_level_fraction(short, ETH) == pytest.approx(2.0)
    # an LST loop against WETH moves with neither side of ETH/USD; BTC-only is off the axis
    assert axis_level_fraction(Exposure((("wstETH", 1.0, 0.9),), (("WETH", 0.8),)), ETH) is None
    assert axis_level_fraction(Exposure((("WBTC", 1.0, 0.8),), (("USDC", 0.5),)), ETH) is None
    # never liquidated by a fall: no positive level
    assert axis_level_fraction(Exposure((("WETH", 1.0, 0.8), ("USDC", 2.0, 0.8)),
                                        (("USDC", 1.0),)), ETH) is None


def test_the_demo_window_is_the_cluster_widened_by_the_margin() -> None:
    assert keepout_for(SEED, ()) is None
    keepout = keepout_for(SEED, DEMO_CLUSTERS)
    assert keepout is not None
    (window,) = keepout.windows
    assert window.axis == "ETH"
    assert window.low_fraction == pytest.approx(2_480 * (1 - MARGIN) / 3_000)
    assert window.high_fraction == pytest.approx(2_560 * (1 + MARGIN) / 3_000)
    # an LST cluster's window is on the ETH axis too, in the LST's own price
    lst_cluster = ClusterSpec("wstETH", 1e6, 2_890, 3_070, clear_margin=True)
    (lst,) = keepout_for(SEED, (lst_cluster,)).windows  # type: ignore[union-attr]
    assert (lst.axis, lst.low_fraction) == ("ETH", pytest.approx(2_890 * (1 - MARGIN) / 3_540))


def test_a_level_that_cannot_leave_the_window_is_refused() -> None:
    keepout = Keepout(SEED, (Window("ETH", 0.5, 0.9),), {"ETH": ETH})
    stuck = Exposure((("WETH", 1.0, 1.0),), (("USDC", 0.7),))
    with pytest.raises(ConfigError, match="cannot be kept clear"):
        keepout.clear(stuck, "x/0", lambda e: e, lambda r: stuck)


@cache
def _morpho_markets() -> list[MorphoMarket]:
    return [MorphoMarket(f"0x{i:064x}", m.loan, "0x0", 18, m.collateral, "0x0", 18, "0x0",
                         "0x0", m.lltv_wad) for i, m in enumerate(load_morpho_spec().markets)]


def _comet_exposure(plan: Any) -> Exposure:
    """An independent mirror of the generator's: collateral at the final aggregator prices,
    weighted by the liquidate collateral factor; the debt in the base token."""
    market, spec = market_spec(), compound_spec()
    comet = next(c for c in spec.comets if c.key == plan.comet)
    usd = {r.symbol: (r.price_8dec / 1e8, r.decimals) for r in market.reserves}
    factor = {a.symbol: a.liquidate_collateral_factor_wad / 1e18 for a in comet.assets}
    price, decimals = usd[comet.base]
    return Exposure(
        tuple((s, a / 10 ** usd[s][1] * usd[s][0], factor[s]) for s, a in plan.collateral),
        ((comet.base, plan.borrow_raw / 10**decimals * price),))


# generator(keepout or None) -> plans; the plan's exposure; the fields a redraw may change;
# the rise the generator allows for
Case = tuple[Callable[[Keepout | None], Sequence[Any]], Callable[[Any], Exposure], set[str],
             float]
CASES: dict[str, Case] = {
    "aave-v3.0": (lambda k: generate_aave_population(SEED, 2_000, DEMO_CLUSTERS if k else ())[
        :2_000], lambda p: aave_exposure(market_spec(), p),
        {"borrows", "intended_health_factor_wad"}, RISE_SMALL),
    "aave-v3.6": (lambda k: generate_aave36_population(SEED, 400, keepout=k),
                  lambda p: aave36_exposure(market36_spec(), p),
                  {"borrows", "intended_health_factor_wad"}, RISE_SMALL),
    "aave-v2": (lambda k: generate_aave2_population(SEED, 240, k),
                lambda p: aave2_exposure(v2_spec(), market_spec(), p), {"borrows"}, RISE_AAVE2),
    "comet": (lambda k: generate_compound_population(SEED, 220, keepout=k), _comet_exposure,
              {"borrow_raw"}, RISE_SMALL),
    "maker": (lambda k: generate_maker_population(SEED, 80, k), maker_exposure,
              {"ratio_over_mat_bps"}, RISE_MAKER),
    "liquity-v1": (lambda k: generate_liquity1_population(SEED, 240, k), liquity1_exposure,
                   {"icr_bps"}, RISE_LIQUITY1),
    "liquity-v2": (lambda k: generate_liquity2_population(SEED, 100, k), liquity2_exposure,
                   {"ratio_over_mcr_bps"}, RISE_LIQUITY2),
    "morpho": (lambda k: plan_morpho_positions(SEED, 200, _morpho_markets(), keepout=k),
               lambda p: morpho_exposure(
                   next(m for m in _morpho_markets() if m.market_id == p.market_id), p),
               {"ltv_wad"}, RISE_SMALL),
}


@pytest.mark.parametrize("name", list(CASES))
def test_demo_backgrounds_keep_clear_and_keep_their_sizes(name: str) -> None:
    generate, exposure, level_fields, rise = CASES[name]
    keepout = keepout_for(SEED, DEMO_CLUSTERS)
    assert keepout is not None
    before, after = generate(None), generate(keepout)
    inside = [p for p in before if keepout.blocks(exposure(p), rise)]
    assert inside, f"{name}: the demo's background had no position in the window to move"
    assert not [p for p in after if keepout.blocks(exposure(p), rise)]
    assert len(after) == len(before)
    moved = 0
    for old, new in zip(before, after, strict=True):
        changed = {f.name for f in fields(old) if getattr(old, f.name) != getattr(new, f.name)}
        assert changed <= level_fields, (name, changed)  # same account, kind, collateral
        moved += bool(changed)
    assert moved == len(inside)  # only the positions that were inside were drawn again


def test_a_level_that_will_rise_into_a_window_is_moved_too() -> None:
    keepout = keepout_for(SEED, DEMO_CLUSTERS)
    assert keepout is not None
    below = Exposure((("WETH", 1.0, 1.0),), (("USDC", 0.80),))  # $2,400: under $2,430.40
    assert not keepout.blocks(below) and keepout.blocks(below, RISE_LIQUITY2)
    # the Liquity v1 whale, sized by the chain, is moved to the first clear ICR instead
    clear = icr_clear_of(keepout, 13_000)  # the whale's lowest ICR, a level of ~$2,540
    assert clear > 13_000 and icr_clear_of(keepout, 20_000) == 20_000
    assert not keepout.blocks(liquity1_exposure(TrovePlan(0, "", 2, 1, clear, "w")),
                              RISE_LIQUITY1)
    assert keepout.blocks(liquity1_exposure(TrovePlan(0, "", 2, 1, clear - 10, "w")),
                          RISE_LIQUITY1)


def test_resampling_is_deterministic() -> None:
    keepout = keepout_for(SEED, DEMO_CLUSTERS)
    assert generate_maker_population(SEED, 80, keepout) == generate_maker_population(
        SEED, 80, keepout_for(SEED, DEMO_CLUSTERS))
    assert keepout is not None
    first = keepout.clear(0.85, "k/1", lambda f: Exposure((("WETH", 1.0, 1.0),), (("USDC", f),)),
                          lambda r: r.uniform(0.5, 0.95))
    again = keepout.clear(0.85, "k/1", lambda f: Exposure((("WETH", 1.0, 1.0),), (("USDC", f),)),
                          lambda r: r.uniform(0.5, 0.95))
    assert first == again != 0.85 and not 0.81 <= first <= 0.871


def test_a_cluster_without_a_clear_margin_leaves_the_background_as_it_is() -> None:
    """Only the demo clears a margin: the test devnet's low-contrast cluster stays interleaved
    with the background, as on a chain (cleared, it fell below the detection's contrast)."""
    plain = ClusterSpec("WETH", 3e6, 2_300, 2_400)
    assert keepout_for(SEED, (plain,)) is None
    assert plain.key() != ClusterSpec("WETH", 3e6, 2_300, 2_400, clear_margin=True).key()
    assert generate_aave_population(SEED, 300, (plain,))[:300] == generate_aave_population(
        SEED, 300)[:300]

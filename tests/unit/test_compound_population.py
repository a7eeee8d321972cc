"""The Comet population generator: deterministic, every shape on every Comet, stressed sizing."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest

from scanner.devnet.aave_spec import load_market_spec
from scanner.devnet.compound_population import (
    KINDS,
    STRESSED_KINDS,
    CometPositionPlan,
    final_aggregators_8dec,
    generate_compound_population,
)
from scanner.devnet.compound_spec import (
    FACTOR_SCALE,
    feed_price_8dec,
    load_compound_spec,
)
from scanner.errors import ConfigError


def _ratio_to_liquidation(plan: CometPositionPlan) -> float:
    """Debt / liquidation capacity at the final prices (> 1: liquidatable), in quote units."""
    spec, market = load_compound_spec(), load_market_spec()
    comet = next(c for c in spec.comets if c.key == plan.comet)
    prices = final_aggregators_8dec(market)
    capacity = sum(
        amount / 10 ** market.reserve(s).decimals * feed_price_8dec(prices, s, comet.quote)
        * comet.asset(s).liquidate_collateral_factor_wad / FACTOR_SCALE
        for s, amount in plan.collateral)
    debt = plan.borrow_raw / 10 ** market.reserve(comet.base).decimals \
        * feed_price_8dec(prices, comet.base, comet.quote)
    return debt / capacity


def test_deterministic_and_unique() -> None:
    assert generate_compound_population(3, 250) == generate_compound_population(3, 250)
    assert generate_compound_population(3, 250) != generate_compound_population(4, 250)
    plans = generate_compound_population(7, 220)
    assert len({p.account for p in plans}) == len(plans) == 440


def test_every_shape_on_every_comet() -> None:
    plans = generate_compound_population(7, 220)
    for comet in ("usdc", "weth"):
        mine = [p for p in plans if p.comet == comet]
        assert set(Counter(p.kind for p in mine)) == set(KINDS)
        assert {p.borrow_route for p in mine} == {"withdraw", "transfer"}
        assert {p.collateral_route for p in mine} == {"supply", "supply_to", "transfer_asset"}
        assert max(len(p.collateral) for p in mine) >= 2
        assert sum(p.borrow_raw == 0 for p in mine) >= 1


def test_sizes_are_heavy_tailed() -> None:
    plans = [p for p in generate_compound_population(7, 220) if p.comet == "usdc"]
    debts = sorted(p.borrow_raw for p in plans if p.borrow_raw)
    assert debts[-1] > 50 * statistics.median(debts)
    assert debts[0] < statistics.median(debts) / 50  # dust


def test_stressed_plans_sit_on_their_side_of_the_line() -> None:
    for plan in generate_compound_population(7, 220):
        if plan.kind == "near_liquidation":
            assert 0.96 < _ratio_to_liquidation(plan) < 1.0
        elif plan.kind == "liquidatable":
            assert 1.0 < _ratio_to_liquidation(plan) < 1.09
        elif plan.borrow_raw and plan.kind not in STRESSED_KINDS and plan.kind != "dust":
            assert _ratio_to_liquidation(plan) < 0.995


def test_too_small_a_boost_is_refused() -> None:
    spec = replace(load_compound_spec(), stress_boost=Decimal("1.01"))
    with pytest.raises(ConfigError, match="stress_boost"):
        generate_compound_population(7, 50, spec=spec)
    with pytest.raises(ConfigError, match=">= 0"):
        generate_compound_population(7, -1)


def test_quoted_feed_mirrors_the_contract() -> None:
    answers = {"wstETH": 354_000_000_000, "WETH": 300_000_000_000}
    # floor(3540e8 * 1e8 / 3000e8) = 1.18e8
    assert feed_price_8dec(answers, "wstETH", "WETH") == 118_000_000
    assert feed_price_8dec(answers, "WETH", "WETH") == 10**8
    assert feed_price_8dec(answers, "wstETH", "USD") == 354_000_000_000

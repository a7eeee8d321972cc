"""The Aave population generator: deterministic, varied, clusters where asked, bad specs refused."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from scanner.devnet.aave_spec import load_market_spec
from scanner.devnet.population import (
    RECIPES,
    ClusterSpec,
    account_totals_8dec,
    final_prices,
    generate_aave_population,
    health_factor_wad,
)
from scanner.errors import ConfigError

WAD = 10**18
CLUSTER = ClusterSpec("WETH", 4_000_000, 2_200, 2_350)


def test_same_seed_same_plans_other_seed_other_plans() -> None:
    assert generate_aave_population(3, 300, [CLUSTER]) == generate_aave_population(3, 300,
                                                                                    [CLUSTER])
    assert generate_aave_population(3, 300) != generate_aave_population(4, 300)


def test_accounts_are_unique() -> None:
    plans = generate_aave_population(1, 2_000, [CLUSTER])
    assert len({p.account for p in plans}) == len(plans)


def test_every_kind_is_present_and_health_factors_are_realistic() -> None:
    plans = generate_aave_population(7, 600)
    kinds = Counter(p.kind for p in plans)
    assert set(kinds) == set(RECIPES)
    hfs = [p.intended_health_factor_wad / WAD for p in plans if p.kind != "liquidatable"]
    assert min(hfs) > 1.0
    assert sum(1.05 <= h <= 3 for h in hfs) > 0.7 * len(hfs)
    assert all(p.intended_health_factor_wad < WAD for p in plans if p.kind == "liquidatable")


def test_sizes_are_heavy_tailed() -> None:
    spec = load_market_spec()
    prices = final_prices(spec)
    sizes = [account_totals_8dec(spec, p.supplies, (), 0, prices)[0] / 10**8
             for p in generate_aave_population(5, 2_000) if p.kind != "dust"]
    assert max(sizes) > 30 * statistics.median(sizes)


def test_plans_respect_the_ltv() -> None:
    """Every borrow must pass the Pool's LTV check at the prices seeding uses."""
    spec = load_market_spec()
    seed_prices = {r.symbol: r.seed_price_8dec for r in spec.reserves}
    for plan in generate_aave_population(9, 1_000, [CLUSTER]):
        collateral, debt, _, ltv_bps = account_totals_8dec(
            spec, plan.supplies, plan.borrows, plan.emode, seed_prices)
        assert debt * 10_000 <= collateral * ltv_bps, plan
        assert all(amount > 0 for _, amount in plan.borrows + plan.supplies), plan


def test_cluster_liquidation_prices_lie_inside_the_range() -> None:
    spec = load_market_spec()
    plans = [p for p in generate_aave_population(2, 50, [CLUSTER]) if p.cluster == 0]
    total_usd = 0.0
    for plan in plans:
        [(symbol, amount_raw)] = plan.supplies
        low = CLUSTER.low_usd * 10**8
        high = CLUSTER.high_usd * 10**8
        # the contract's own rule: healthy (HF >= 1) just above the price, not just below
        prices = final_prices(spec)
        assert health_factor_wad(spec, plan.supplies, plan.borrows, 0,
                                 {**prices, symbol: int(high)}) >= WAD
        assert health_factor_wad(spec, plan.supplies, plan.borrows, 0,
                                 {**prices, symbol: int(low)}) < WAD
        total_usd += amount_raw * prices[symbol] / 10**18 / 10**8
    assert total_usd == pytest.approx(CLUSTER.total_usd, rel=0.001)


@pytest.mark.parametrize("cluster", [
    ClusterSpec("DOGE", 1e6, 1_000, 2_000),
    ClusterSpec("USDC", 1e6, 0.5, 0.9),
    ClusterSpec("ISO", 1e6, 1, 2),
    ClusterSpec("WETH", 0, 1_000, 2_000),
    ClusterSpec("WETH", 1e6, 2_000, 1_000),
    ClusterSpec("WETH", 1e6, -5, 1_000),
    ClusterSpec("WETH", 1e6, 2_000, 2_990),  # above price * LTV / LT: cannot be borrowed
])
def test_bad_cluster_specs_are_rejected(cluster: ClusterSpec) -> None:
    with pytest.raises(ConfigError):
        generate_aave_population(1, 10, [cluster])


@pytest.mark.parametrize("text", ["WETH:1:2", "WETH:x:1:2", "WETH:1:2:3:4"])
def test_bad_cluster_text_is_rejected(text: str) -> None:
    with pytest.raises(ConfigError):
        ClusterSpec.parse(text)


def test_cluster_text_is_parsed() -> None:
    assert ClusterSpec.parse("WETH:5000000:2400:2500") == ClusterSpec("WETH", 5e6, 2400, 2500)


@pytest.mark.parametrize(("seed", "n"), [(1, -1), (-1, 10)])
def test_bad_sizes_are_rejected(seed: int, n: int) -> None:
    with pytest.raises(ConfigError):
        generate_aave_population(seed, n)

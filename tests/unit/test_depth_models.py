"""Depth models by hand: the square-root law, the combined split, the [cascade.depth] errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scanner.cascade.depth_models import CombinedDepth, SqrtImpactDepth, UniswapDepth
from scanner.cascade.engine import run_cascade
from scanner.cascade.uniswap_v3 import OutsideReadWindowError, PoolState
from scanner.cascade.v3math import sqrt_x96_at_tick
from scanner.domain import Direction
from scanner.errors import ConfigError
from tests.unit.test_config import VALID, load_text

WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC = "0xA0b86991c6218b36c1d19D4a2E9Eb0cE3606eB48"
POOL = "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"


def test_square_root_law_by_hand() -> None:
    # $1M into a book where $4M moves the price 1%: impact 1% * sqrt(1/4) = 0.5%
    model = SqrtImpactDepth({WETH: 4_000_000.0}, {WETH: 18})
    sale = model.sell(WETH, 500 * 10**18, 2000.0)
    assert sale.price_after_usd == pytest.approx(2000.0 * 0.995)
    assert sale.proceeds_usd == pytest.approx(1_000_000 * (1 - 2 / 3 * 0.005))


def test_square_root_law_saturates_at_an_empty_book() -> None:
    model = SqrtImpactDepth({WETH: 1.0}, {WETH: 18})  # $1 moves 1%: $10k empties the book
    sale = model.sell(WETH, 100 * 10**18, 1000.0)
    assert sale.price_after_usd == 0.0
    assert sale.proceeds_usd == pytest.approx(10_000 / 3)


def _one_range_pool() -> PoolState:
    """WETH (token0, 18 dec) / USDC (token1, 6 dec) near $2000, one range +-~5%, fee 0.05%."""
    tick = -200_310  # 1.0001^-200310 * 1e12 ~= 2000 USDC per WETH
    lower, upper = tick - 500, tick + 500
    liquidity = 10**18
    return PoolState(POOL, WETH, USDC, 18, 6, 500, 10, sqrt_x96_at_tick(tick), tick, liquidity,
                     {lower: liquidity, upper: -liquidity}, -100, 100, 1)


def test_pool_price_tracks_the_asked_price() -> None:
    pools = UniswapDepth({WETH: (_one_range_pool(),)}, {USDC: 6})
    small = pools.sell(WETH, 10**15, 1990.0)  # dust: the price stays where it was asked
    assert small.price_after_usd == pytest.approx(1990.0, rel=1e-4)
    assert small.proceeds_usd == pytest.approx(1990.0 * 1e-3, rel=2e-3)


def test_combined_split_ends_both_venues_at_one_price() -> None:
    pools = UniswapDepth({WETH: (_one_range_pool(),)}, {USDC: 6})
    external = SqrtImpactDepth({WETH: 1_000_000.0}, {WETH: 18})
    combined = CombinedDepth(pools, external)
    amount_raw = 2 * 10**18
    sale = combined.sell(WETH, amount_raw, 2000.0)
    share_raw = combined._pool_share(WETH, amount_raw, 2000.0)
    on_pools = pools.sell(WETH, share_raw, 2000.0).price_after_usd
    outside = external.sell(WETH, amount_raw - share_raw, 2000.0).price_after_usd
    assert 0 < share_raw < amount_raw
    assert on_pools == pytest.approx(outside, rel=1e-6)
    assert sale.proceeds_usd > pools.sell(WETH, amount_raw, 2000.0).proceeds_usd
    assert math.isclose(sale.price_after_usd, min(on_pools, outside))


def test_unknown_asset_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"add it to \[cascade.depth.assets\]"):
        SqrtImpactDepth({}, {}).sell(WETH, 1, 1.0)


DEPTH = f"""
[cascade.depth]
model = "combined"
chain = "ethereum"

[cascade.depth.assets.WETH]
token = "{WETH}"
decimals = 18
pools = ["{POOL}"]
external_depth_usd = 50000000
"""


def test_depth_section_parses(tmp_path: Path) -> None:
    config = load_text(tmp_path, VALID + DEPTH)
    assert config.cascade_depth is not None
    (asset,) = config.cascade_depth.assets
    assert (asset.symbol, asset.pools, asset.external_depth_usd) == ("WETH", (POOL,), 5e7)
    assert load_text(tmp_path, VALID).cascade_depth is None


@pytest.mark.parametrize(("old", "new", "message"), [
    ('model = "combined"', 'model = "cex"', "cascade.depth.model must be one of"),
    ('chain = "ethereum"', 'chain = "nope"', "cascade.depth.chain must name the"),
    ("decimals = 18", "decimals = -1", "cascade.depth.assets.WETH.decimals is required"),
    ("external_depth_usd = 50000000", "external_depth_usd = 0",
     "external_depth_usd must be a positive number"),
    (f'pools = ["{POOL}"]', 'pools = ["0x12"]', r"pools\[0\] must be a 20-byte hex address"),
    ("external_depth_usd", "depth_usd", "depth_usd is not a known key"),
])
def test_depth_section_errors_name_the_key(tmp_path: Path, old: str, new: str,
                                           message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_text(tmp_path, VALID + DEPTH.replace(old, new))
    assert "\n" not in str(raised.value)


def test_uniswap_model_needs_pools(tmp_path: Path) -> None:
    text = VALID + DEPTH.replace('model = "combined"', 'model = "uniswap"').replace(
        f'pools = ["{POOL}"]', "")
    with pytest.raises(ConfigError, match='pools is required with model = "uniswap"'):
        load_text(tmp_path, text)


def test_sale_beyond_the_read_window_raises_alone_and_spills_over_when_combined() -> None:
    pools = UniswapDepth({WETH: (_one_range_pool(),)}, {USDC: 6})
    huge_raw = 10**6 * 10**18  # far more WETH than the one range holds in USDC
    with pytest.raises(OutsideReadWindowError, match="widen the read window"):
        pools.sell(WETH, huge_raw, 2000.0)
    combined = CombinedDepth(pools, SqrtImpactDepth({WETH: 1e9}, {WETH: 18}))
    sale = combined.sell(WETH, huge_raw, 2000.0)
    assert 0 < combined._pool_share(WETH, huge_raw, 2000.0) < huge_raw
    assert 0 < sale.price_after_usd < 2000.0


def test_pool_buy_moves_the_price_up_as_the_range_formula_says() -> None:
    """One range of liquidity L, no tick crossed: taking dx of token0 out leaves
    1/sqrtP' = 1/sqrtP - dx/L (the fee is on the input side, so it does not move the price)."""
    pool = _one_range_pool()
    pools = UniswapDepth({WETH: (pool,)}, {USDC: 6})
    amount_raw = 3 * 10**17
    bought = pools.buy(WETH, amount_raw, 2000.0)
    sqrt_start = 2000.0 ** 0.5 * 1e-6  # sqrt(USDC raw per WETH raw) at $2000
    sqrt_after = 1 / (1 / sqrt_start - amount_raw / pool.liquidity)
    assert bought.price_after_usd == pytest.approx(sqrt_after**2 * 1e12, rel=1e-9)
    assert bought.price_after_usd > 2000.0
    # it costs more than the tokens at the start price (impact and the 0.05% fee), and the
    # least input that buys them: one raw unit less of USDC buys less
    assert bought.proceeds_usd > 0.3 * 2000.0
    cost_raw = round(bought.proceeds_usd * 10**6)
    positioned = pools._positioned((pool,), WETH, 2000.0)
    assert UniswapDepth._bought(positioned, WETH, cost_raw)[0] >= amount_raw
    assert UniswapDepth._bought(positioned, WETH, cost_raw - 1)[0] < amount_raw


def test_pool_buy_beyond_the_read_window_raises() -> None:
    pools = UniswapDepth({WETH: (_one_range_pool(),)}, {USDC: 6})
    with pytest.raises(OutsideReadWindowError):
        pools.buy(WETH, 10**24, 2000.0)


def test_a_short_squeeze_moves_up_through_the_pool() -> None:
    """The engine's rise through a pools-only model: short A's liquidator buys its 1 WETH of
    debt through the pool, and the axis follows the pool's price after that buy."""
    from tests.unit.test_cascade_engine import NOW, USD, short
    from tests.unit.test_cascade_engine import WETH as AXIS_WETH

    tick = round(math.log(2_550e-12, 1.0001) / 10) * 10  # ~ $2,550 per WETH
    liquidity = 10**19
    pool = PoolState(POOL, AXIS_WETH, USDC, 18, 6, 500, 10, sqrt_x96_at_tick(tick), tick,
                     liquidity, {tick - 500: liquidity, tick + 500: -liquidity}, -100, 100, 1)
    pools = UniswapDepth({AXIS_WETH: (pool,)}, {USDC: 6})
    result = run_cascade("ETH", NOW, 2_550 * USD, [short("0xA", 5_000)], pools,
                         {AXIS_WETH: NOW})
    assert result.direction is Direction.UP and result.buy_modelled
    (only,) = result.rounds
    expected = pools.buy(AXIS_WETH, 10**18, 2_550.0).price_after_usd / 2_550.0
    assert abs(only.price_after_8dec - int(2_550 * USD * expected)) <= 1
    assert only.price_after_8dec > 2_550 * USD


def test_square_root_buy_is_the_mirror_of_the_sale() -> None:
    # buying $1M into a book where $4M moves the price 1%: +0.5%, paying 2/3 of it on average
    model = SqrtImpactDepth({WETH: 4_000_000.0}, {WETH: 18})
    bought = model.buy(WETH, 500 * 10**18, 2000.0)
    assert bought.price_after_usd == pytest.approx(2000.0 * 1.005)
    assert bought.proceeds_usd == pytest.approx(1_000_000 * (1 + 2 / 3 * 0.005))
    # the ask side never empties: the $100k that empties a $1-per-1% bid side (impact
    # 1% x sqrt(100,000) = 316%) lifts the price 4.16x
    assert SqrtImpactDepth({WETH: 1.0}, {WETH: 18}).buy(
        WETH, 100 * 10**18, 1000.0).price_after_usd == pytest.approx(
            1000.0 * (1 + 0.01 * math.sqrt(100_000)))


def test_combined_buy_ends_both_venues_at_one_higher_price() -> None:
    pools = UniswapDepth({WETH: (_one_range_pool(),)}, {USDC: 6})
    external = SqrtImpactDepth({WETH: 1_000_000.0}, {WETH: 18})
    combined = CombinedDepth(pools, external)
    amount_raw = 2 * 10**18
    bought = combined.buy(WETH, amount_raw, 2000.0)
    share_raw = combined._pool_share(WETH, amount_raw, 2000.0, buying=True)
    on_pools = pools.buy(WETH, share_raw, 2000.0)
    outside = external.buy(WETH, amount_raw - share_raw, 2000.0)
    assert 0 < share_raw < amount_raw
    assert on_pools.price_after_usd == pytest.approx(outside.price_after_usd, rel=1e-6)
    assert bought.price_after_usd > 2000.0
    assert bought.proceeds_usd == pytest.approx(on_pools.proceeds_usd + outside.proceeds_usd)
    assert bought.proceeds_usd < pools.buy(WETH, amount_raw, 2000.0).proceeds_usd


def test_a_short_squeeze_moves_up_through_the_default_combined_model() -> None:
    """A rise with the default model moves the price: short A's liquidator buys 1 WETH, and
    the axis ends where the combined venues' buy leaves it (before the fix it stayed put)."""
    from tests.unit.test_cascade_engine import NOW, USD, short
    from tests.unit.test_cascade_engine import WETH as AXIS_WETH

    external = SqrtImpactDepth({AXIS_WETH: 25_500.0}, {AXIS_WETH: 18})  # 1 WETH: +1%/sqrt(10)
    combined = CombinedDepth(UniswapDepth({}, {}), external)
    result = run_cascade("ETH", NOW, 2_550 * USD, [short("0xA", 5_000)], combined,
                         {AXIS_WETH: NOW})
    assert result.buy_modelled
    (only,) = result.rounds
    rise = 0.01 * math.sqrt(2_550.0 / 25_500.0)
    assert abs(only.price_after_8dec - 2_550 * USD * (1 + rise)) <= 2

"""Liquidation-price histogram: integer edges, per-direction bins, cumulative curve."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.domain import Direction, PositionResult, PositionStatus
from scanner.errors import UsageError
from scanner.pipeline.histogram import _BinFinder, build_histogram

USD = 10**8
NOW = 2000 * USD


def result(
    account: str,
    price_8dec: int | None,
    collateral_usd: int,
    direction: Direction | None = Direction.DOWN,
    status: PositionStatus = PositionStatus.AT_RISK,
    axis: str = "ETH",
) -> PositionResult:
    return PositionResult(
        "m",
        "aave-v3",
        account,
        axis,
        status,
        direction,
        price_8dec,
        NOW,
        2 * 10**18,
        collateral_usd * USD,
        collateral_usd * USD // 2,
        collateral_usd * USD // 4,
        collateral_usd * USD // 10,
    )


def test_log_edges_are_exact_integers() -> None:
    bins = build_histogram([result("0x1", 1990 * USD, 100)], "ETH", NOW, bin_bps=100)
    assert [(b.bin_index, b.low_8dec, b.high_8dec) for b in bins[:3]] == [
        (0, NOW * 99 // 100, NOW),
        (1, NOW * 99**2 // 100**2, NOW * 99 // 100),
        (2, NOW * 99**3 // 100**3, NOW * 99**2 // 100**2),
    ]
    # 90% range with 1% steps: until the edge passes 10% of the price (0.99^k <= 0.1)
    assert len(bins) == 230
    assert bins[-1].low_8dec <= NOW // 10 < bins[-1].high_8dec


@pytest.mark.parametrize(
    ("price_8dec", "expected_bin"),
    [
        pytest.param(NOW, 0, id="at-current-price"),
        pytest.param(NOW * 99 // 100 + 1, 0, id="just-inside-bin-0"),
        pytest.param(NOW * 99 // 100, 1, id="edge-belongs-to-far-bin"),
        pytest.param(1500 * USD, 28, id="25pct-down"),  # 0.99^28 = 0.7547 > 0.75 > 0.99^29
    ],
)
def test_down_bin_assignment(price_8dec: int, expected_bin: int) -> None:
    bins = build_histogram([result("0x1", price_8dec, 100)], "ETH", NOW)
    assert [b.bin_index for b in bins if b.positions] == [expected_bin]


def test_counts_sums_and_cumulative_curve() -> None:
    results = [
        result("0x1", 1990 * USD, 100),
        result("0x2", 1985 * USD, 50),
        result("0x3", 1900 * USD, 30),  # 0.99^5 = 0.951 < 0.95 <- bin 5
        result("0x4", 2100 * USD, 70, Direction.UP),
    ]
    bins = build_histogram(results, "ETH", NOW)
    down = [b for b in bins if b.direction is Direction.DOWN]
    up = [b for b in bins if b.direction is Direction.UP]
    assert (down[0].positions, down[0].collateral_usd_8dec) == (2, 150 * USD)
    assert down[0].debt_usd_8dec == 75 * USD
    assert down[0].seizable_usd_8dec == 15 * USD
    assert down[5].positions == 1
    assert [b.cumulative_collateral_usd_8dec for b in down[:6]] == [150 * USD] * 5 + [180 * USD]
    assert down[-1].cumulative_collateral_usd_8dec == 180 * USD
    assert up[0].low_8dec == NOW and up[0].high_8dec == NOW * 101 // 100
    assert [b.bin_index for b in up if b.positions] == [4]  # 1.01^4 = 1.0406 <= 1.05 < 1.01^5
    assert up[-1].high_8dec >= NOW * 19 // 10  # up side reaches +90%


def test_only_at_risk_positions_on_the_axis_are_binned() -> None:
    results = [
        result("0x1", 1990 * USD, 100),
        result("0x2", 2100 * USD, 100, status=PositionStatus.LIQUIDATABLE_NOW),
        result("0x3", None, 100, None, PositionStatus.NOT_SENSITIVE),
        result("0x4", 1990 * USD, 100, axis="BTC"),
    ]
    bins = build_histogram(results, "ETH", NOW)
    assert sum(b.positions for b in bins) == 1
    assert {b.direction for b in bins} == {Direction.DOWN}


def test_positions_beyond_the_range_fall_in_one_last_bin() -> None:
    # issue 12: the histogram stopped at +/-90% while bands beyond were drawn
    results = [result("0x1", 100 * USD, 100), result("0x2", 1990 * USD, 7),
               result("0x3", 9_000 * USD, 40, direction=Direction.UP),
               result("0x4", 2_010 * USD, 2, direction=Direction.UP)]
    bins = build_histogram(results, "ETH", NOW, range_bps=5000)
    down = [b for b in bins if b.direction is Direction.DOWN]
    up = [b for b in bins if b.direction is Direction.UP]
    assert sum(b.positions for b in bins) == 4
    last = down[-1]
    assert (last.low_8dec, last.positions, last.collateral_usd_8dec) == (0, 1, 100 * USD)
    assert last.high_8dec == down[-2].low_8dec <= NOW // 2
    assert (up[-1].high_8dec, up[-1].positions) == (9_000 * USD + 1, 1)
    assert up[-1].low_8dec == up[-2].high_8dec >= NOW * 3 // 2
    assert [b.cumulative_collateral_usd_8dec for b in (down[-1], up[-1])] == [107 * USD, 42 * USD]


def test_no_extra_bin_when_nothing_lies_beyond() -> None:
    bins = build_histogram([result("0x1", 1990 * USD, 1)], "ETH", NOW, range_bps=5000)
    assert bins[-1].low_8dec > 0 and bins[-1].low_8dec <= NOW // 2


def test_linear_bins() -> None:
    results = [result("0x1", 1950 * USD, 10), result("0x2", 1850 * USD, 20)]
    bins = build_histogram(
        results, "ETH", NOW, mode="linear", bin_width_8dec=100 * USD, range_bps=5000
    )
    assert [(b.low_8dec, b.high_8dec, b.positions) for b in bins[:2]] == [
        (1900 * USD, 2000 * USD, 1),
        (1800 * USD, 1900 * USD, 1),
    ]
    assert len(bins) == 10


def test_empty_input_gives_no_bins() -> None:
    assert build_histogram([], "ETH", NOW) == []


def test_deterministic_under_reordering() -> None:
    results = [result(f"0x{i}", (1000 + 37 * i) * USD, i + 1) for i in range(20)]
    assert build_histogram(results, "ETH", NOW) == build_histogram(results[::-1], "ETH", NOW)


@pytest.mark.parametrize(
    "kwargs",
    [{"bin_bps": 0}, {"bin_bps": 10_000}, {"range_bps": 0}],
)
def test_bad_parameters_raise(kwargs: dict[str, int]) -> None:
    with pytest.raises(UsageError):
        build_histogram([], "ETH", NOW, **kwargs)  # type: ignore[arg-type]


@given(st.lists(st.integers(0, 10**12), min_size=2, max_size=40, unique=True),
       st.sampled_from([Direction.DOWN, Direction.UP]),
       st.lists(st.integers(-1, 10**12 + 1), min_size=1, max_size=30))
def test_bin_finder_agrees_with_the_bins_definition(
    values: list[int], direction: Direction, prices: list[int]
) -> None:
    """The bisection finds the one bin whose edges hold each price (None when none does),
    edge points included, for edges in either direction."""
    edges = sorted(values, reverse=direction is Direction.DOWN)
    finder = _BinFinder(edges, direction)
    for price in prices + edges:
        holding = [k for k in range(len(edges) - 1)
                   if (edges[k] <= price < edges[k + 1] if direction is Direction.UP
                       else edges[k + 1] < price <= edges[k])]
        assert finder.index(price) == (holding[0] if holding else None)

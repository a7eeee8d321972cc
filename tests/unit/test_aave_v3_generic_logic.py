"""Integer mirror of GenericLogic.calculateUserAccountData: hand-computed expectations."""

from __future__ import annotations

import pytest

from scanner.errors import ConfigError, InconsistentDataError
from scanner.protocols.aave_v3.generic_logic import (
    MAX_UINT256,
    HealthArithmetic,
    UnreviewedRevisionError,
    account_totals,
    arithmetic_for_revision,
    mul_div_ceil,
    percent_mul,
    wad_div,
)
from scanner.protocols.aave_v3.state import (
    AaveAccount,
    AaveEMode,
    AaveMarketState,
    AaveReserve,
    AaveUserReserve,
)

USD = 10**8
WETH, WSTETH, WBTC, USDC, ETH_SOURCE = "0xWETH", "0xWSTETH", "0xWBTC", "0xUSDC", "0xETHUSD"


def reserves(emode_category: int = 0) -> dict[str, AaveReserve]:
    return {
        WETH: AaveReserve(WETH, "WETH", 0, 18, 8000, 8250, 10500, emode_category, 2000 * USD),
        WBTC: AaveReserve(WBTC, "WBTC", 1, 8, 7000, 7500, 11000, 0, 60000 * USD),
        USDC: AaveReserve(USDC, "USDC", 2, 6, 7700, 8000, 10450, 0, 99_990_000),
        WSTETH: AaveReserve(WSTETH, "wstETH", 3, 18, 6900, 7900, 10700, emode_category, 2300 * USD),
    }


def market(
    revision: int, emodes: dict[int, AaveEMode] | None = None, emode_reserves: int = 0
) -> AaveMarketState:
    return AaveMarketState("test", revision, USD, 1, 1, reserves(emode_reserves), emodes or {})


def account(*legs: tuple[str, int, int, bool], emode: int = 0) -> AaveAccount:
    user = tuple(AaveUserReserve(a, s, d, c) for a, s, d, c in legs)
    return AaveAccount("0xA", emode, user, 0, 0, 0)


REFERENCE = account(
    (WETH, 10 * 10**18, 0, True), (WBTC, 10**8, 0, True), (USDC, 0, 50_000 * 10**6, False)
)


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        pytest.param(1, HealthArithmetic.V3_0, id="v3.0-npm"),
        pytest.param(3, HealthArithmetic.V3_0, id="v3.0.2"),
        pytest.param(4, HealthArithmetic.V3_0, id="v3.1"),
        pytest.param(5, HealthArithmetic.V3_2, id="v3.2"),
        pytest.param(7, HealthArithmetic.V3_2, id="v3.3"),
        pytest.param(8, HealthArithmetic.V3_2, id="v3.4"),
        pytest.param(6, HealthArithmetic.V3_2, id="v3.2.1"),
        pytest.param(9, HealthArithmetic.V3_5, id="v3.5"),
        pytest.param(10, HealthArithmetic.V3_6, id="v3.6"),
        pytest.param(11, HealthArithmetic.V3_6, id="v3.7"),
    ],
)
def test_arithmetic_for_revision(revision: int, expected: HealthArithmetic) -> None:
    assert arithmetic_for_revision(revision) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(percent_mul(1, 5000), 1, id="percentMul-half-rounds-up"),
        pytest.param(percent_mul(1, 4999), 0, id="percentMul-below-half-rounds-down"),
        pytest.param(wad_div(2, 3), 666_666_666_666_666_667, id="wadDiv-half-up"),
        pytest.param(wad_div(1, 3), 333_333_333_333_333_333, id="wadDiv-down"),
        pytest.param(mul_div_ceil(3, 99_990_000, 10**6), 300, id="mulDivCeil"),
        pytest.param(mul_div_ceil(3, 10**6, 10**6), 3, id="mulDivCeil-exact"),
    ],
)
def test_library_rounding(value: int, expected: int) -> None:
    assert value == expected


@pytest.mark.parametrize("revision", [0, -1])
def test_impossible_revision_raises(revision: int) -> None:
    with pytest.raises(ConfigError, match="pool_addresses_provider"):
        arithmetic_for_revision(revision)


@pytest.mark.parametrize("revision", [12, 999])
def test_newer_revision_is_refused_naming_it(revision: int) -> None:
    with pytest.raises(UnreviewedRevisionError, match=f"pool revision {revision} is newer than 11"
                       ".*allow_unreviewed_revision = true"):
        arithmetic_for_revision(revision)


@pytest.mark.parametrize("revision", [12, 999])
def test_newer_revision_with_opt_in_uses_the_newest_arithmetic(
    revision: int, caplog: pytest.LogCaptureFixture
) -> None:
    assert arithmetic_for_revision(revision, allow_unreviewed=True) is HealthArithmetic.V3_6
    assert "newer than 11" in caplog.text


def test_reference_position_v3_0_truncates_average_lt() -> None:
    # debt: 50_000e6 * 0.9999e8 / 1e6 = 4_999_500e6 (8 dec); collateral 20_000 + 60_000 USD
    # avgLT = floor((20_000*8250 + 60_000*7500) / 80_000) = floor(7687.5) = 7687
    # HF = wadDiv(percentMul(80_000e8, 7687), 49_995e8) = 61_496e8 / 49_995e8, half-up
    totals = account_totals(REFERENCE, market(1))
    assert totals.collateral_8dec == 80_000 * USD
    assert totals.debt_8dec == 49_995 * USD
    assert totals.avg_lt_bps == 7687
    assert totals.health_factor_wad == (61_496 * USD * 10**18 + 49_995 * USD // 2) // (49_995 * USD)


def test_reference_position_v3_5_keeps_exact_weighted_sum() -> None:
    # HF = wadDiv(Σ value*LT, debt) / 1e4 = wadDiv(6.15e16, 49_995e8) // 1e4
    totals = account_totals(REFERENCE, market(9))
    weighted = 20_000 * USD * 8250 + 60_000 * USD * 7500
    debt = 49_995 * USD
    assert totals.health_factor_wad == (weighted * 10**18 + debt // 2) // debt // 10_000
    assert totals.health_factor_wad > account_totals(REFERENCE, market(1)).health_factor_wad


@pytest.mark.parametrize(
    ("revision", "debt_8dec"),
    [
        pytest.param(1, 299, id="v3.0-floors-debt"),  # 3 * 99_990_000 / 1e6 = 299.97
        pytest.param(5, 299, id="v3.2-floors-debt"),
        pytest.param(9, 300, id="v3.5-ceils-debt"),
        pytest.param(10, 300, id="v3.6-ceils-debt"),
    ],
)
def test_debt_rounding(revision: int, debt_8dec: int) -> None:
    dust = account((WETH, 10**18, 0, True), (USDC, 0, 3, False))
    assert account_totals(dust, market(revision)).debt_8dec == debt_8dec


@pytest.mark.parametrize(
    ("legs", "collateral_8dec"),
    [
        pytest.param(((WETH, 10**18, 0, False), (USDC, 0, 10**6, False)), 0, id="flag-off"),
        pytest.param(((WETH, 10**18, 0, True), (USDC, 0, 10**6, False)), 2000 * USD, id="flag-on"),
    ],
)
def test_collateral_needs_the_user_flag(
    legs: tuple[tuple[str, int, int, bool], ...], collateral_8dec: int
) -> None:
    assert account_totals(account(*legs), market(1)).collateral_8dec == collateral_8dec


def _zero_lt_weth(revision: int, emodes: dict[int, AaveEMode] | None = None) -> AaveMarketState:
    zero_lt = dict(market(revision).reserves)
    zero_lt[WETH] = AaveReserve(WETH, "WETH", 0, 18, 0, 0, 0, 0, 2000 * USD)
    return AaveMarketState("test", revision, USD, 1, 1, zero_lt, emodes or {})


@pytest.mark.parametrize("revision", [1, 5, 9])
def test_zero_lt_reserve_is_not_collateral_before_v3_6(revision: int) -> None:
    emodes = {1: AaveEMode(1, 9000, 9300, 10100, "ETH", collateral_bitmap=1 << 0)}
    state = _zero_lt_weth(revision, emodes if revision >= 5 else None)
    emode = 1 if revision >= 5 else 0
    position = account((WETH, 10**18, 0, True), (USDC, 0, 10**6, False), emode=emode)
    totals = account_totals(position, state)
    assert (totals.collateral_8dec, totals.health_factor_wad) == (0, 0)


def test_v3_6_emode_only_collateral_counts_at_the_emode_lt() -> None:
    # Reserve LT 0, eMode bitmap bit 0 (WETH): collateral only inside the eMode, at 9300.
    emodes = {1: AaveEMode(1, 9000, 9300, 10100, "ETH", collateral_bitmap=1 << 0)}
    position = account((WETH, 10**18, 0, True), (USDC, 0, 1000 * 10**6, False), emode=1)
    totals = account_totals(position, _zero_lt_weth(10, emodes))
    debt = -(-1000 * 10**6 * 99_990_000 // 10**6)
    assert (totals.collateral_8dec, totals.debt_8dec) == (2000 * USD, debt)
    weighted = 2000 * USD * 9300
    assert totals.health_factor_wad == (weighted * 10**18 + debt // 2) // debt // 10_000


def test_v3_6_zero_lt_collateral_outside_emode_counts_with_zero_weight() -> None:
    # Outside the eMode (user category 0) the value is collateral but weighs nothing.
    position = account((WETH, 10**18, 0, True), (WBTC, 10**7, 0, True),
                       (USDC, 0, 1000 * 10**6, False))
    totals = account_totals(position, _zero_lt_weth(10))
    assert totals.collateral_8dec == 2000 * USD + 6000 * USD
    assert totals.weighted_collateral == 6000 * USD * 7500


def test_no_debt_is_max_health_factor() -> None:
    totals = account_totals(account((WETH, 10**18, 0, True)), market(1))
    assert totals.health_factor_wad == MAX_UINT256
    assert totals.avg_lt_bps == 8250


def test_prices_override_moves_only_named_assets() -> None:
    totals = account_totals(REFERENCE, market(1), {WETH: 1000 * USD})
    assert totals.collateral_8dec == 70_000 * USD


V30_EMODE = {1: AaveEMode(1, 9000, 9300, 10100, "ETH", ETH_SOURCE, 2000 * USD)}
ETH_LOOP = account((WSTETH, 10 * 10**18, 0, True), (WETH, 0, 9 * 10**18, False), emode=1)


def test_v3_0_emode_price_source_prices_collateral_and_debt() -> None:
    # wstETH (oracle 2300) is valued at the category price 2000: 20_000 vs 18_000 of debt.
    totals = account_totals(ETH_LOOP, market(1, V30_EMODE, emode_reserves=1))
    assert totals.collateral_8dec == 20_000 * USD
    assert totals.debt_8dec == 18_000 * USD
    assert totals.avg_lt_bps == 9300
    assert totals.health_factor_wad == (18_600 * 10**18 + 9_000) // 18_000  # half-up


def test_v3_0_emode_price_source_can_be_overridden() -> None:
    state = market(1, V30_EMODE, emode_reserves=1)
    moved = account_totals(ETH_LOOP, state, {ETH_SOURCE: 1000 * USD})
    assert (moved.collateral_8dec, moved.debt_8dec) == (10_000 * USD, 9_000 * USD)
    assert moved.health_factor_wad == account_totals(ETH_LOOP, state).health_factor_wad


def test_v3_0_zero_price_source_falls_back_to_asset_price() -> None:
    emodes = {1: AaveEMode(1, 9000, 9300, 10100, "ETH", ETH_SOURCE, 0)}
    totals = account_totals(ETH_LOOP, market(1, emodes, emode_reserves=1))
    assert totals.collateral_8dec == 23_000 * USD


def test_v3_0_emode_lt_only_for_reserves_of_the_category() -> None:
    mixed = account(
        (WETH, 10**18, 0, True), (WBTC, 10**8, 0, True), (USDC, 0, 10**6, False), emode=1
    )
    emodes = {1: AaveEMode(1, 9000, 9300, 10100, "ETH")}
    totals = account_totals(mixed, market(1, emodes, emode_reserves=1))
    # WETH (category 1) at 9300, WBTC keeps 7500: floor((2000*9300 + 60000*7500) / 62000)
    assert totals.avg_lt_bps == (2000 * 9300 + 60000 * 7500) // 62000


def test_v3_2_emode_lt_follows_the_collateral_bitmap() -> None:
    # Bit 3 = wstETH only; the reserves' own category (set to 1 here) no longer matters.
    emodes = {1: AaveEMode(1, 9000, 9300, 10100, "ETH", collateral_bitmap=1 << 3)}
    state = market(5, emodes, emode_reserves=1)
    both = account(
        (WETH, 10**18, 0, True), (WSTETH, 10**18, 0, True), (USDC, 0, 10**6, False), emode=1
    )
    totals = account_totals(both, state)
    assert totals.collateral_8dec == 4300 * USD  # oracle prices: no eMode price source
    assert totals.avg_lt_bps == (2000 * 8250 + 2300 * 9300) // 4300


def test_v3_2_without_bitmap_is_inconsistent() -> None:
    emodes = {1: AaveEMode(1, 9000, 9300, 10100, "ETH")}
    with pytest.raises(InconsistentDataError, match="bitmap"):
        account_totals(ETH_LOOP, market(5, emodes))


def test_unknown_asset_raises() -> None:
    stray = account(("0xNOT_LISTED", 10**18, 0, True))
    with pytest.raises(InconsistentDataError, match="not a reserve"):
        account_totals(stray, market(1))


def test_unknown_emode_category_raises() -> None:
    with pytest.raises(InconsistentDataError, match="eMode 1"):
        account_totals(ETH_LOOP, market(1))

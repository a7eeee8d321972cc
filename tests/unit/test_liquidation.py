"""Exact liquidation prices: the neutral solver over Aave v3's rule (hand-computed cases and
boundary properties)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.domain import (
    HEALTH_FACTOR_ONE_WAD,
    Axis,
    Direction,
    HealthCurve,
    Position,
    PositionResult,
    PositionStatus,
)
from scanner.pipeline import liquidation
from scanner.pipeline.liquidation import SENSITIVITY_RANGE
from scanner.protocols.aave_v3.generic_logic import account_totals
from scanner.protocols.aave_v3.rule import AavePosition, closed_form_liquidation_price
from scanner.protocols.aave_v3.state import (
    AaveAccount,
    AaveEMode,
    AaveMarketState,
    AaveReserve,
    AaveUserReserve,
)

USD = 10**8
POOL = "0x00000000000000000000000000000000000000Aa"
WETH, WSTETH, WBTC, USDC, DAI, ETH_SOURCE = "0xWETH", "0xWST", "0xWBTC", "0xUSDC", "0xDAI", "0xETH"


def make_market(
    revision: int = 1, emodes: dict[int, AaveEMode] | None = None, emode_reserves: int = 0
) -> AaveMarketState:
    reserves = {
        WETH: AaveReserve(WETH, "WETH", 0, 18, 8000, 8250, 10500, emode_reserves, 2000 * USD),
        WBTC: AaveReserve(WBTC, "WBTC", 1, 8, 7000, 7500, 11000, 0, 60000 * USD),
        USDC: AaveReserve(USDC, "USDC", 2, 6, 7700, 8000, 10450, 0, 99_990_000),
        DAI: AaveReserve(DAI, "DAI", 3, 18, 7500, 8000, 10500, 0, 100_010_000),
        WSTETH: AaveReserve(WSTETH, "wstETH", 4, 18, 6900, 7900, 10700, emode_reserves, 2300 * USD),
    }
    return AaveMarketState("test", revision, USD, 1, 1, reserves, emodes or {})


def liquidation_result(
    account: AaveAccount, state: AaveMarketState, axis: Axis, protocol: str,
    axis_price_now_8dec: int | None = None,
) -> PositionResult | None:
    position = Position(state.market_key, protocol, POOL, account.account,
                        AavePosition(account, state), account.emode_category)
    return liquidation.liquidation_result(position, axis, axis_price_now_8dec)


def make_account(*legs: tuple[str, int, int, bool], emode: int = 0) -> AaveAccount:
    user = tuple(AaveUserReserve(a, s, d, c) for a, s, d, c in legs)
    return AaveAccount("0xA", emode, user, 0, 0, 0)


ETH_AXIS = Axis("ETH", frozenset({WETH, WSTETH, ETH_SOURCE}), WETH, 2000 * USD)
REFERENCE = make_account(
    (WETH, 10 * 10**18, 0, True), (WBTC, 10**8, 0, True), (USDC, 0, 50_000 * 10**6, False)
)


def hf_at(account: AaveAccount, state: AaveMarketState, axis: Axis, x_8dec: int) -> int:
    """HF with every axis member moved to x, the way the scanner defines the axis move."""
    prices = {a: r.price_8dec for a, r in state.reserves.items()}
    for emode in state.emodes.values():
        if emode.price_source is not None:
            prices[emode.price_source] = emode.price_source_8dec
    moved = {
        a: p * x_8dec // axis.reference_price_8dec for a, p in prices.items() if a in axis.members
    }
    return account_totals(account, state, moved).health_factor_wad


def assert_boundary(result: PositionResult, account: AaveAccount, state: AaveMarketState) -> None:
    x = result.liquidation_price_8dec
    assert x is not None
    assert hf_at(account, state, ETH_AXIS, x) >= HEALTH_FACTOR_ONE_WAD
    beyond = x - 1 if result.direction is Direction.DOWN else x + 1
    assert hf_at(account, state, ETH_AXIS, beyond) < HEALTH_FACTOR_ONE_WAD


def test_reference_position_v3_0() -> None:
    state = make_market(1)
    result = liquidation_result(REFERENCE, state, ETH_AXIS, "aave-v3")
    assert result is not None
    assert (result.status, result.direction) == (PositionStatus.AT_RISK, Direction.DOWN)
    assert_boundary(result, REFERENCE, state)
    # Closed form: (49_995 - 45_000) / (10 * 0.825) = 605.45; truncated avgLT moves it up.
    assert closed_form_liquidation_price(REFERENCE, state, ETH_AXIS) == 60_545_454_545
    assert result.liquidation_price_8dec is not None
    assert 60_600 * 10**6 < result.liquidation_price_8dec < 60_700 * 10**6
    assert result.collateral_usd_8dec == 80_000 * USD
    assert result.debt_usd_8dec == 49_995 * USD
    assert result.axis_collateral_usd_8dec == 20_000 * USD
    # 50% of the debt, with WBTC's 10% bonus (WBTC is the largest collateral at ~606).
    assert result.seizable_usd_8dec == 49_995 * USD // 2 * 11_000 // 10_000


def test_reference_position_v3_5_matches_closed_form_closely() -> None:
    state = make_market(9)
    result = liquidation_result(REFERENCE, state, ETH_AXIS, "aave-v3")
    closed = closed_form_liquidation_price(REFERENCE, state, ETH_AXIS)
    assert result is not None and result.liquidation_price_8dec is not None and closed
    assert_boundary(result, REFERENCE, state)
    assert abs(result.liquidation_price_8dec - closed) <= 2  # no truncated avgLT any more


def test_zero_debt_is_none() -> None:
    supplier = make_account((WETH, 10**18, 0, True))
    assert liquidation_result(supplier, make_market(), ETH_AXIS, "aave-v3") is None


@pytest.mark.parametrize(
    ("account", "state"),
    [
        pytest.param(
            make_account((WSTETH, 10 * 10**18, 0, True), (WETH, 0, 9 * 10**18, False), emode=1),
            make_market(1, {1: AaveEMode(1, 9000, 9300, 10100, "ETH", ETH_SOURCE, 2000 * USD)}, 1),
            id="v3.0-emode-loop",
        ),
        pytest.param(
            make_account((WSTETH, 10 * 10**18, 0, True), (WETH, 0, 9 * 10**18, False), emode=1),
            make_market(5, {1: AaveEMode(1, 9000, 9300, 10100, "ETH", collateral_bitmap=1 << 4)}),
            id="v3.2-emode-loop",
        ),
        pytest.param(
            make_account((USDC, 1000 * 10**6, 0, True), (DAI, 0, 500 * 10**18, False)),
            make_market(1),
            id="no-axis-exposure",
        ),
    ],
)
def test_hedged_is_not_sensitive(account: AaveAccount, state: AaveMarketState) -> None:
    result = liquidation_result(account, state, ETH_AXIS, "aave-v3")
    assert result is not None
    assert result.status is PositionStatus.NOT_SENSITIVE
    assert (result.direction, result.liquidation_price_8dec) == (None, None)


def test_short_is_up() -> None:
    # 10_000 USDC (LT 80%) against 2 WETH: liquidated when ETH rises to ~4000.
    short = make_account((USDC, 10_000 * 10**6, 0, True), (WETH, 0, 2 * 10**18, False))
    state = make_market(1)
    result = liquidation_result(short, state, ETH_AXIS, "aave-v3")
    assert result is not None
    assert (result.status, result.direction) == (PositionStatus.AT_RISK, Direction.UP)
    assert_boundary(result, short, state)
    assert result.liquidation_price_8dec == 10_000 * 99_990_000 * 8000 // 10_000 // 2


def test_liquidatable_now_reports_recovery_price() -> None:
    # 1 WETH (LT 82.5%) against 1_900 USDC: HF = 1650/1899.81 < 0.95
    under = make_account((WETH, 10**18, 0, True), (USDC, 0, 1900 * 10**6, False))
    state = make_market(1)
    result = liquidation_result(under, state, ETH_AXIS, "aave-v3")
    assert result is not None
    assert result.status is PositionStatus.LIQUIDATABLE_NOW
    assert result.direction is Direction.DOWN
    assert result.liquidation_price_8dec is not None
    assert result.liquidation_price_8dec > ETH_AXIS.reference_price_8dec
    assert_boundary(result, under, state)
    # HF < 0.95: full close factor, 5% bonus, capped by the 2000 USD of collateral.
    assert result.seizable_usd_8dec == min(2000 * USD, 1_899_810_000_00 * 10_500 // 10_000)


def test_v3_0_emode_price_source_moves_with_the_axis() -> None:
    # In eMode, wstETH is priced by the ETH source: long wstETH vs USDC is liquidated at the
    # price where 10 * x * 0.93 = 15_000 USDC-ish, not where the wstETH oracle would say.
    emodes = {1: AaveEMode(1, 9000, 9300, 10100, "ETH", ETH_SOURCE, 2000 * USD)}
    state = make_market(1, emodes, emode_reserves=1)
    long = make_account((WSTETH, 10 * 10**18, 0, True), (USDC, 0, 15_000 * 10**6, False), emode=1)
    result = liquidation_result(long, state, ETH_AXIS, "aave-v3")
    assert result is not None and result.liquidation_price_8dec is not None
    assert result.direction is Direction.DOWN
    assert_boundary(result, long, state)
    assert abs(result.liquidation_price_8dec - 14_998_500 * USD // 9_300) <= 1


LEG_ASSETS = [WETH, WBTC, USDC, DAI, WSTETH]
DECIMALS = {WETH: 18, WBTC: 8, USDC: 6, DAI: 18, WSTETH: 18}


@st.composite
def positions(draw: st.DrawFn) -> AaveAccount:
    legs = []
    for asset in draw(st.lists(st.sampled_from(LEG_ASSETS), min_size=1, max_size=4, unique=True)):
        unit = 10 ** DECIMALS[asset]
        supplied = draw(st.integers(0, 10**6)) * unit // draw(st.sampled_from([1, 7, 1000]))
        debt = draw(st.integers(0, 10**6)) * unit // draw(st.sampled_from([1, 3, 1000]))
        legs.append((asset, supplied, debt, draw(st.booleans())))
    return make_account(*legs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=positions(), revision=st.sampled_from([1, 5, 9]))
def test_boundary_property(account: AaveAccount, revision: int) -> None:
    state = make_market(revision)
    result = liquidation_result(account, state, ETH_AXIS, "aave-v3")
    if all(r.debt_raw == 0 for r in account.reserves):
        assert result is None
        return
    assert result is not None
    now_hf = hf_at(account, state, ETH_AXIS, ETH_AXIS.reference_price_8dec)
    assert result.health_factor_wad == now_hf
    if result.status is PositionStatus.NOT_SENSITIVE:
        assert now_hf >= HEALTH_FACTOR_ONE_WAD
        # healthy across the sensitivity range: a 99% fall to a 100x rally
        now = ETH_AXIS.reference_price_8dec
        for x in (now // SENSITIVITY_RANGE, now // 3, now * 3, now * SENSITIVITY_RANGE):
            assert hf_at(account, state, ETH_AXIS, x) >= HEALTH_FACTOR_ONE_WAD
        return
    if result.status is PositionStatus.AT_RISK:
        assert now_hf >= HEALTH_FACTOR_ONE_WAD
        assert result.direction is not None
    if result.liquidation_price_8dec is not None:
        assert_boundary(result, account, state)


def test_loop_of_axis_members_is_not_sensitive() -> None:
    # Regression: wstETH collateral against WETH debt (an eMode-style loop) is hedged. Integer
    # rounding makes it liquidatable only at an ETH price of a few oracle units (~6e-8 USD),
    # which was reported as an at-risk "liquidation price" and formed a $0.00 band.
    loop = make_account((WSTETH, 10 * 10**18, 0, True), (WETH, 0, 9 * 10**18, False))
    result = liquidation_result(loop, make_market(), ETH_AXIS, "aave-v3")
    assert result is not None
    assert result.status is PositionStatus.NOT_SENSITIVE
    assert result.direction is None and result.liquidation_price_8dec is None
    # ...although the pool's arithmetic does flip at a price near zero:
    assert hf_at(loop, make_market(), ETH_AXIS, 1) < HEALTH_FACTOR_ONE_WAD


BTC_AXIS = Axis("BTC", frozenset({WBTC}), WBTC, 60000 * USD)


@st.composite
def mixed_longs(draw: st.DrawFn) -> AaveAccount:
    """WETH + WBTC (LT 82.5% / 75%) against DAI, HF 1.0-1.6. On the BTC axis a rising BTC
    price pulls the floored average LT down a bps at a time: HF is not monotone."""
    weth_raw = draw(st.integers(10**17, 10**20))
    wbtc_raw = draw(st.integers(10**5, 10**9))
    collateral_usd = weth_raw * 2000 // 10**18 + wbtc_raw * 60000 // 10**8
    debt_usd = collateral_usd * draw(st.integers(50, 78)) // 100
    return make_account((WETH, weth_raw, 0, True), (WBTC, wbtc_raw, 0, True),
                        (DAI, 0, max(debt_usd, 1) * 10**18, False))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=mixed_longs())
def test_price_is_the_first_crossing_from_today(account: AaveAccount) -> None:
    # Regression: the floored average LT makes HF dip below 1 in narrow windows; bisection
    # could land on a lower crossing while a falling price is liquidated earlier, inside a dip
    # above it. The reported price must leave [x, now] healthy throughout.
    state = make_market(1)
    result = liquidation_result(account, state, BTC_AXIS, "aave-v3")
    assert result is not None
    if result.status is not PositionStatus.AT_RISK:
        return
    x = result.liquidation_price_8dec
    assert x is not None and result.direction is Direction.DOWN
    assert hf_at(account, state, BTC_AXIS, x - 1) < HEALTH_FACTOR_ONE_WAD
    now = BTC_AXIS.reference_price_8dec
    probes = {x + x * k // 1_000_000 for k in range(0, 600)} | {x + (now - x) * k // 64
                                                             for k in range(65)}
    assert all(hf_at(account, state, BTC_AXIS, y) >= HEALTH_FACTOR_ONE_WAD
               for y in sorted(probes) if x <= y <= now)


def test_aave_native_price_is_the_usd_level_of_its_own_oracle() -> None:
    state = make_market(1)
    result = liquidation_result(REFERENCE, state, ETH_AXIS, "aave-v3")
    assert result is not None and result.liquidation_price_8dec is not None
    assert result.liquidation_price_native == result.liquidation_price_8dec
    assert (result.native_price_unit, result.native_price_decimals) == ("USD", 8)
    assert result.submarket == POOL


def test_level_on_a_shared_axis_is_the_relative_move_from_its_own_oracle() -> None:
    # Another market's oracle says ETH is 2% higher: the same relative move, on that price.
    state = make_market(1)
    own = liquidation_result(REFERENCE, state, ETH_AXIS, "aave-v3")
    shared = liquidation_result(REFERENCE, state, ETH_AXIS, "aave-v3", 2040 * USD)
    assert own is not None and shared is not None
    assert own.liquidation_price_8dec is not None
    assert shared.liquidation_price_native == own.liquidation_price_8dec
    assert shared.axis_price_now_8dec == 2040 * USD
    assert shared.liquidation_price_8dec == own.liquidation_price_8dec * 2040 // 2000
    assert (shared.status, shared.seizable_usd_8dec) == (own.status, own.seizable_usd_8dec)


class _Unseeded:
    """A curve with its closed form hidden: the solver falls back to a plain bisection of the
    whole sensitivity range (the reference the seeded search must reproduce)."""

    def __init__(self, curve: object) -> None:
        self._curve = curve

    def __getattr__(self, name: str) -> object:
        return getattr(self._curve, name)

    def closed_form(self) -> None:
        return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=st.one_of(positions(), mixed_longs()), revision=st.sampled_from([1, 5, 9]),
       axis=st.sampled_from([ETH_AXIS, BTC_AXIS]))
def test_seeded_solver_equals_plain_bisection(account: AaveAccount, revision: int,
                                              axis: Axis) -> None:
    # The closed form + secant + galloping seed only narrows the bracket: the price of a
    # position that is healthy now (the first crossing from today) is the one a full
    # bisection finds, and every boundary the solver reports is a crossing of the rule.
    state = make_market(revision)
    if all(r.debt_raw == 0 for r in account.reserves):
        return
    curve = AavePosition(account, state).curve(axis)
    seeded = liquidation.find_boundary(curve)
    if curve.healthy(curve.price_now):
        _is_first_crossing_from_today(curve, seeded)
    direction, x = seeded
    if x is not None:
        step = -1 if direction is Direction.DOWN else 1
        assert curve.healthy(x) and not curve.healthy(x + step)


def _is_first_crossing_from_today(curve: HealthCurve, seeded: tuple[Direction | None, int | None]
                                  ) -> None:
    """The fast path's answer against a plain bisection's. Where the rule is monotone they
    are equal; where integer rounding saws the health factor at unit scale (both legs move
    with the axis), a bisection may land on any crossing, and the fast path's must be the
    one nearest today's price: the bisection's is never nearer, and the position is healthy
    on every unit of a window on today's side of the answer."""
    plain = liquidation.find_boundary(_Unseeded(curve))
    assert seeded[0] == plain[0]
    direction, x = seeded
    if seeded == plain or x is None or plain[1] is None:
        assert seeded == plain
        return
    toward_today = 1 if direction is Direction.DOWN else -1
    assert (x - plain[1]) * toward_today > 0, "the bisection found a crossing nearer today"
    window = range(x, x + toward_today * SAWTOOTH_WINDOW, toward_today)
    on_todays_side = [p for p in window if p > 0 and (p - curve.price_now) * toward_today < 0]
    assert all(curve.healthy(p) for p in on_todays_side)


SAWTOOTH_WINDOW = 20_000  # units of the axis price checked on today's side of a sawn boundary


def test_a_sawn_boundary_is_the_first_crossing_from_today() -> None:
    """Found by the property test: wstETH collateral against WETH and USDC debt, v3.0, the
    ETH axis. The health factor falls by rounding steps and jumps back every ~7 units near
    $64.27, so healthy(x) flips at 6427008240, 6427008244 and 6427008247; moving down from
    today the position is first liquidatable at 6427008246, so its price is 6427008247 (a
    plain bisection answered 6427008240)."""
    account = make_account((WETH, 0, 343_333_333_333_333_333_333, False),
                           (USDC, 0, 2_157_000_000, False),
                           (WSTETH, 416_285_714_285_714_285_714, 1_134 * 10**15, True))
    curve = AavePosition(account, make_market(1)).curve(ETH_AXIS)
    assert curve.healthy(curve.price_now)
    seeded = liquidation.find_boundary(curve)
    assert seeded == (Direction.DOWN, 6427008247)
    assert not curve.healthy(6427008246) and curve.healthy(6427008243)
    _is_first_crossing_from_today(curve, seeded)


def test_a_sawn_boundary_above_the_one_a_bisection_finds() -> None:
    """Found by a random draw of the property test above: wstETH collateral against wstETH
    and USDC debt, v3.0, the ETH axis: healthy at 59180834512, liquidatable at 59180834513,
    healthy again from 59180834514 up to today. A falling price first liquidates at ...513,
    so the price is ...514; the solver answered ...512 (the crossing its seeded bisection
    found) until the sawn-boundary search (crossing.py, axis_saw.py) looked above it."""
    account = make_account((USDC, 0, 79_030_000, False),
                           (WSTETH, 509 * 10**15, 286 * 10**15, True))
    curve = AavePosition(account, make_market(1)).curve(ETH_AXIS)
    assert curve.healthy(curve.price_now)
    assert [curve.healthy(x) for x in range(59180834511, 59180834515)] == [
        False, True, False, True]
    assert liquidation.find_boundary(curve) == (Direction.DOWN, 59180834514)


def test_a_sawn_boundary_with_two_collateral_lts() -> None:
    """Found by a random search: WETH (LT 82.5%) and wstETH (LT 79%) collateral against
    wstETH and USDC debt, v3.0, the ETH axis. Every collateral leg moves, so the floored
    average LT stays 8143 and HF saws at unit scale as with one LT: liquidatable at
    2216425087-2216425089, healthy at ...090 and ...091. The solver answered 2216425084 (the
    crossing its bisection found) until the sawn-boundary certificate took a constant average
    LT (axis_saw.py); the first crossing met from today is higher still, at ...108."""
    account = make_account((WETH, 982233319197912486253, 0, True),
                           (WSTETH, 374550253194143514312, 990452007846200880412, True),
                           (USDC, 0, 256211000, False))
    curve = AavePosition(account, make_market(1)).curve(ETH_AXIS)
    assert curve.healthy(curve.price_now)
    assert [curve.healthy(x) for x in range(2216425084, 2216425092)] == [
        True, True, True, False, False, False, True, True]
    seeded = liquidation.find_boundary(curve)
    assert seeded == (Direction.DOWN, 2216425108)
    assert not curve.healthy(2216425107)
    _is_first_crossing_from_today(curve, seeded)


def test_sawn_boundaries_where_the_average_lt_moves() -> None:
    """Found by a random search: fixed (USDC) and moving collateral of different LTs, so the
    floored average LT moves with x (the dip search's kind), with debt moving too, so HF also
    saws at unit scale. v3.2 rule, the ETH axis. The dip search took each stretch of one
    average LT as monotone and answered past a nearer crossing: 959 units for the short
    (rising price), 2 for the long; the looser certificate G' (axis_saw.py) now bounds the
    search. Both answers are the first crossing met from today."""
    short = make_account((WSTETH, 1908150955350654, 0, True),
                         (WETH, 0, 2022393115826062, False), (USDC, 6079518, 0, True))
    long = make_account((USDC, 941903468, 0, True), (WSTETH, 0, 293793563019383832576, False),
                        (DAI, 0, 1415007759782318702592, False),
                        (WETH, 418374591996811411456, 0, True))
    for account, was, nearer, now in (
            (short, 1683493465912, 1683493464953, (Direction.UP, 1683493464429)),
            (long, 9121277812, 9121277814, (Direction.DOWN, 9121277841))):
        curve = AavePosition(account, make_market(5)).curve(ETH_AXIS)
        assert curve.healthy(curve.price_now)
        assert curve.healthy(was) and not curve.healthy(nearer)
        seeded = liquidation.find_boundary(curve)
        assert seeded == now
        _is_first_crossing_from_today(curve, seeded)


def test_a_sawn_boundary_in_emode_with_a_price_source() -> None:
    """Found by a random search: v3.0 eMode whose category prices WETH and wstETH at the ETH
    source, WETH and USDC collateral against wstETH debt, a rising price. A leg priced by an
    eMode source falls back to its asset's own price only where the source's is 0 (below 1 unit
    of the axis here), so the sawn-boundary certificate holds above that (axis_saw.py
    `min_x`); it used to give up on such legs, and the price was 167 units past a crossing."""
    category = AaveEMode(1, 9_000, 9_300, 10_100, "ETH", ETH_SOURCE, 2_000 * USD)
    account = make_account((WETH, 3428604002424387, 0, True), (USDC, 4985313, 0, True),
                           (WSTETH, 0, 3555169643553547, False), emode=1)
    curve = AavePosition(account, make_market(1, emodes={1: category}, emode_reserves=1)
                         ).curve(ETH_AXIS)
    assert curve.healthy(curve.price_now)
    assert curve.healthy(1087137482175) and not curve.healthy(1087137482008)
    seeded = liquidation.find_boundary(curve)
    assert seeded[0] is Direction.UP and seeded[1] is not None and seeded[1] < 1087137482008
    _is_first_crossing_from_today(curve, seeded)

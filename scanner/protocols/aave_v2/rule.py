"""Aave v2's liquidation rule for one position on one USD price axis, as pure integer math.

The v2 oracle prices in ETH (wei per whole token; WETH is exactly 1e18), the axes in USD. USD
prices come through the market's ETH/USD feed: usd_8dec = price_eth_wei * eth_usd_8dec // 1e18.
Moving the axis to x (USD, 8 dec) scales the USD price of every axis member by x / ref_now and
keeps the others' USD prices, which in the oracle's ETH terms is:

* the ETH axis (the oracle's WETH is a member, so the ETH unit itself moves): members keep
  their ETH prices; every other asset's ETH price becomes `price * ref_now // x`;
* any other axis: members' ETH prices become `price * x // ref_now`, the rest stay.

The health factor at x is then `generic_logic.calculate_totals`, bit-exact with
`LendingPool.getUserAccountData`. The floored average LT makes HF non-monotone in x when the
collateral mixes moving and fixed assets of different LTs: `piece` is that average and
`surely_healthy` a floor-free bound (pipeline/crossing.py), as for Aave v3.0. Where collateral
and debt both move, per-leg floors also saw HF at unit scale: `saw_margin` and
`saw_healthy_between` are Aave v3's certificate (aave_v3/axis_saw.py, the v3.0 rule is v2's),
in the parameter the moving prices are affine in: x, or 1 / x on the ETH axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import lcm

from scanner.domain import HEALTH_FACTOR_ONE_WAD, WAD, Address, Axis, Valuation
from scanner.protocols.aave_v2 import axis_monotone
from scanner.protocols.aave_v2.axis_sums import V2Sums
from scanner.protocols.aave_v2.generic_logic import (
    PERCENTAGE_FACTOR,
    Leg,
    Totals,
    calculate_totals,
)
from scanner.protocols.aave_v2.liquidation import LiquidationOutcome, liquidation_call
from scanner.protocols.aave_v2.state import V2Account, V2MarketState
from scanner.protocols.aave_v3.axis_saw import SawBound, saw_bound
from scanner.protocols.aave_v3.axis_sums import AxisSums, MovingLeg, TotalsTuple


class V2Curve:
    """An account against its market and one axis: HF as a function of x (USD, 8 dec).

    A plain class with every attribute declared, so that compiled (scanner/native.py) it is
    a native class; what the solver reads more than once is kept on first use."""

    def __init__(self, legs: tuple[Leg, ...], prices_now_eth_wei: dict[Address, int],
                 axis_members: frozenset[Address], ref_now_8dec: int, eth_moves: bool,
                 eth_usd_now_8dec: int) -> None:
        self.legs = legs
        self.prices_now_eth_wei = prices_now_eth_wei
        self.axis_members = axis_members
        self.ref_now_8dec = ref_now_8dec
        self.eth_moves = eth_moves  # the axis holds the oracle's WETH: the ETH unit moves
        self.eth_usd_now_8dec = eth_usd_now_8dec
        self._memo: dict[int, TotalsTuple] = {}
        self._split_value: axis_monotone.Split | None = None
        self._sums_value: V2Sums | None = None
        self._can_dip_value: bool | None = None
        self._saw_known = False
        self._saw_value: SawBound | None = None

    def with_legs(self, legs: tuple[Leg, ...]) -> V2Curve:
        """The same curve over other legs (the account after a liquidationCall)."""
        return V2Curve(legs, self.prices_now_eth_wei, self.axis_members, self.ref_now_8dec,
                       self.eth_moves, self.eth_usd_now_8dec)

    @property
    def margin_in_inverse_x(self) -> bool:
        """On the ETH axis the moving prices are `p * ref_now // x`: the dip and saw margins
        are affine in 1 / x, and crossing.py's edge searches take their secants in it."""
        return self.eth_moves

    @property
    def price_unit(self) -> str:
        return "USD"  # the ETH/USD feed turns the oracle's ETH into USD

    @property
    def price_decimals(self) -> int:
        return 8

    @property
    def price_now(self) -> int:
        return self.ref_now_8dec

    def prices_at(self, x_8dec: int) -> dict[Address, int]:
        return {asset: self._price_at(asset, x_8dec) for asset in self.prices_now_eth_wei}

    def _price_at(self, asset: Address, x_8dec: int) -> int:
        """`prices_at(x)[asset]`, alone."""
        price = self.prices_now_eth_wei[asset]
        if self.eth_moves and asset not in self.axis_members:
            return price * self.ref_now_8dec // x_8dec
        if not self.eth_moves and asset in self.axis_members:
            return price * x_8dec // self.ref_now_8dec
        return price

    def eth_usd_at(self, x_8dec: int) -> int:
        return self.eth_usd_now_8dec * x_8dec // self.ref_now_8dec if self.eth_moves else (
            self.eth_usd_now_8dec)

    def totals(self, x_8dec: int) -> Totals:
        """GenericLogic over every leg at the prices of x (the reference the sums mirror)."""
        return calculate_totals(self.legs, self.prices_at(x_8dec))

    @property
    def _sums(self) -> V2Sums:
        found = self._sums_value
        if found is None:
            found = self._sums_value = V2Sums(self._split, self.prices_now_eth_wei,
                                              self.ref_now_8dec)
        return found

    def _totals_tuple(self, x: int) -> TotalsTuple:
        """`totals(x)` as a tuple, from the split's sums (axis_sums.py), remembered per x (the
        solver asks some prices twice)."""
        memo = self._memo
        found = memo.get(x)
        if found is None:
            found = memo[x] = self._sums.totals(x)
        return found

    def healthy(self, x: int) -> bool:
        return self._totals_tuple(x)[3] >= HEALTH_FACTOR_ONE_WAD

    def value(self, x: int) -> Valuation:
        collateral_eth_wei, debt_eth_wei, _, health_factor_wad, _ = self._totals_tuple(x)
        eth_usd_8dec = self.eth_usd_at(x)
        return Valuation(collateral_eth_wei * eth_usd_8dec // WAD,
                         debt_eth_wei * eth_usd_8dec // WAD, health_factor_wad)

    def piece(self, x: int) -> int:
        return self._totals_tuple(x)[2]

    @property
    def _split(self) -> axis_monotone.Split:
        found = self._split_value
        if found is None:
            found = self._split_value = axis_monotone.split(
                self.legs, self.prices_now_eth_wei, self.axis_members, self.eth_moves)
        return found

    def monotone_sign(self) -> int | None:
        """Proven direction of health in x, or None (aave_v2/axis_monotone.py)."""
        return axis_monotone.monotone_sign(self._split)

    def boundary_seed(self) -> int | None:
        """One moving leg of a proven curve: its floors inverted. Otherwise the linear
        solution at the floored average LT (axis_monotone.average_seed): the closed form's
        exact LTs put the boundary ~1e-4 off, which cost ~20 evaluations to gallop and
        bisect."""
        sign = self.monotone_sign()
        if sign == 0:
            return None
        if sign is not None:
            found = axis_monotone.boundary_seed(self._split, sign, self.prices_now_eth_wei,
                                                self.ref_now_8dec)
            if found is not None:
                return found
        return axis_monotone.average_seed(self._split, self.prices_now_eth_wei,
                                          self.ref_now_8dec, self.piece(self.ref_now_8dec))

    def piece_edge(self, level: int, toward: int) -> int | None:
        """A seed for where the floored average LT first leaves `level` on the way to
        `toward` (crossing.py's dip search): where the exact average reaches the next level."""
        step = level + 1 if toward > level else level
        return axis_monotone.average_step(self._split, self.prices_now_eth_wei,
                                          self.ref_now_8dec, step)

    def piece_boundary(self, level: int) -> int | None:
        """A seed for where HF crosses 1 on a stretch of floored average LT `level`."""
        return axis_monotone.level_boundary(self._split, self.prices_now_eth_wei,
                                            self.ref_now_8dec, level)

    @property  # asked at every step of the dip search: remembered
    def can_dip(self) -> bool:
        """Only a floored average LT over collateral mixing LTs across the axis (some legs move
        with it, some do not) makes HF non-monotone in the axis price."""
        found = self._can_dip_value
        if found is None:
            lts = {(leg.asset in self.axis_members, leg.lt_bps)
                   for leg in self.legs if leg.collateral_raw}
            found = self._can_dip_value = ({moves for moves, _ in lts} == {True, False}
                                           and len({lt for _, lt in lts}) > 1)
        return found

    def surely_healthy(self, x: int) -> bool:
        """HF >= 1 by the floor-free bound of crossing.py; always true without flooring."""
        return self.dip_margin(x) >= 0

    @property
    def _saw(self) -> SawBound | None:
        if not self._saw_known:
            self._saw_value = self._saw_bound()
            self._saw_known = True
        return self._saw_value

    def _saw_bound(self) -> SawBound | None:
        """axis_saw.py's certificate over the split's legs, its parameter x (or 1 / x where the
        moving prices fall as x rises: the slope's sign turned to x's); None where HF cannot
        saw."""
        split = self._split
        moving: tuple[MovingLeg, ...] = tuple(
            (price, True, False, price, True, leg.unit, leg.collateral_raw, leg.debt_raw,
             leg.lt_bps)
            for leg in split.moving for price in (self.prices_now_eth_wei[leg.asset],))
        sums = AxisSums(split.fixed_collateral, split.fixed_weighted, split.fixed_debt, moving,
                        False, self.ref_now_8dec)
        found = saw_bound(sums, frozenset(leg.lt_bps for leg in self.legs if leg.collateral_raw))
        if found is not None and split.direction < 0:
            found.slope_sign = -found.slope_sign
        return found

    def saw_margin(self, x: int, down: bool) -> int | None:
        """As AaveCurve.saw_margin: >= 0 proves every price from x away from the crossing
        healthy; None where this curve cannot saw that way."""
        bound = self._saw
        if bound is None or bound.slope_sign == (-1 if down else 1):
            return None
        return bound.margin(self._totals_tuple(x))

    def saw_healthy_between(self, low: int, high: int) -> bool:
        """Proven healthy on all of [low, high] (axis_saw.py's interval test, its ends in the
        order the moving values rise)."""
        bound = self._saw
        if bound is None:
            return False
        at_low, at_high = self._totals_tuple(low), self._totals_tuple(high)
        if self._split.direction < 0:
            at_low, at_high = at_high, at_low
        return bound.healthy_between(at_low, at_high)

    def dip_margin(self, x: int) -> int:
        """How far the floor-free bound is above HF = 1 (>= 0: surely healthy); crossing.py
        seeds its search with it."""
        if not self.can_dip:
            return 0
        collateral_eth_wei, debt_eth_wei, _, _, weighted = self._totals_tuple(x)
        if debt_eth_wei == 0:
            return 0
        margin = (weighted - collateral_eth_wei - PERCENTAGE_FACTOR) * WAD
        return margin - PERCENTAGE_FACTOR * debt_eth_wei * (WAD + 1)

    def closed_form(self) -> int | None:
        """s* = (D_fix - C_fix) / (C_axis - D_axis) times ref_now: exact LTs, no rounding.
        Every term is taken over the legs' common denominator lcm(units) * 1e4, which the
        ratio cancels: the same floor as in rationals, in integers."""
        common_unit = lcm(*(leg.unit for leg in self.legs))
        c_fix = c_axis = d_fix = d_axis = 0
        for leg in self.legs:
            price = self.prices_now_eth_wei[leg.asset] * (common_unit // leg.unit)
            weighted = price * leg.collateral_raw * leg.lt_bps
            debt = price * leg.debt_raw * PERCENTAGE_FACTOR
            if leg.asset in self.axis_members:
                c_axis, d_axis = c_axis + weighted, d_axis + debt
            else:
                c_fix, d_fix = c_fix + weighted, d_fix + debt
        numerator, denominator = d_fix - c_fix, c_axis - d_axis
        if denominator < 0:
            numerator, denominator = -numerator, -denominator
        if denominator == 0 or numerator <= 0:
            return None
        return numerator * self.ref_now_8dec // denominator

    def liquidation_call_at(self, x_8dec: int) -> LiquidationOutcome | None:
        """liquidationCall(largest collateral, largest debt, user, max) at axis price x."""
        found = self._call_at(x_8dec)
        return None if found is None else found[0]

    def _call_at(self, x_8dec: int) -> tuple[LiquidationOutcome, Leg, int] | None:
        """liquidation_call_at(x), the collateral leg it seizes and that leg's price at x.
        The legs of greatest ETH value on each side (ties: the legs' reserve-id order), found
        in one pass without the price table: the solver asks for every position's."""
        collateral: Leg | None = None
        debt: Leg | None = None
        collateral_value = debt_value = collateral_price = debt_price = 0
        for leg in self.legs:
            price = self._price_at(leg.asset, x_8dec)
            if leg.collateral_raw:
                value = leg.collateral_raw * price // leg.unit
                if collateral is None or value > collateral_value:
                    collateral, collateral_value, collateral_price = leg, value, price
            if leg.debt_raw:
                value = leg.debt_raw * price // leg.unit
                if debt is None or value > debt_value:
                    debt, debt_value, debt_price = leg, value, price
        if collateral is None or debt is None:
            return None
        outcome = liquidation_call(collateral, debt, collateral_price, debt_price)
        return outcome, collateral, collateral_price

    def seizable_usd_8dec(self, x: int) -> int:
        """Collateral that ONE liquidationCall of the largest debt against the largest
        collateral takes at axis price x (v2's close factor is 50%), in USD."""
        found = self._call_at(x)
        if found is None:
            return 0
        outcome, leg, price = found
        seized_eth_wei = outcome.collateral_seized_raw * price // leg.unit
        return seized_eth_wei * self.eth_usd_at(x) // WAD

    def axis_collateral_usd_8dec(self) -> int:
        """Collateral whose USD price moves with the axis, at today's prices."""
        total_eth_wei = sum(leg.collateral_raw * self.prices_now_eth_wei[leg.asset] // leg.unit
                            for leg in self.legs
                            if leg.collateral_raw and leg.asset in self.axis_members)
        return total_eth_wei * self.eth_usd_now_8dec // WAD


def account_legs(account: V2Account, market: V2MarketState) -> tuple[Leg, ...]:
    """Price-independent view of an account, in reserve-id order."""
    return _legs_and_prices(account, market)[0]


def _legs_and_prices(account: V2Account, market: V2MarketState
                     ) -> tuple[tuple[Leg, ...], dict[Address, int]]:
    """`account_legs` and the oracle price of each leg's asset, in one pass (built for every
    curve: the reserve of each user reserve looked up once)."""
    rows: list[tuple[int, Leg]] = []
    prices: dict[Address, int] = {}
    in_order, last_id = True, -1
    for user_reserve in account.reserves:
        reserve = market.reserves[user_reserve.asset]
        counts = user_reserve.used_as_collateral and reserve.lt_bps != 0
        rows.append((reserve.reserve_id, Leg(
            reserve.asset, 10**reserve.decimals,
            user_reserve.supplied_raw if counts else 0,
            user_reserve.debt_raw if user_reserve.borrowing else 0,
            reserve.lt_bps, reserve.bonus_bps)))
        prices[reserve.asset] = reserve.price_eth_wei
        in_order = in_order and reserve.reserve_id > last_id
        last_id = reserve.reserve_id
    if not in_order:  # a stable sort by reserve id, as before
        rows.sort(key=_row_reserve_id)
    return tuple(leg for _id, leg in rows), prices


def _row_reserve_id(row: tuple[int, Leg]) -> int:
    return row[0]


def oracle_prices_eth_wei(market: V2MarketState) -> dict[Address, int]:
    return {asset: reserve.price_eth_wei for asset, reserve in market.reserves.items()}


def account_totals(account: V2Account, market: V2MarketState) -> Totals:
    """Mirror of LendingPool.getUserAccountData at the scan block."""
    return calculate_totals(account_legs(account, market), oracle_prices_eth_wei(market))


def v2_curve(account: V2Account, market: V2MarketState, axis: Axis) -> V2Curve:
    legs, prices = _legs_and_prices(account, market)
    return V2Curve(legs=legs, prices_now_eth_wei=prices, axis_members=axis.members,
                   ref_now_8dec=axis.reference_price_8dec,
                   eth_moves=market.weth in axis.members, eth_usd_now_8dec=market.eth_usd_8dec)


@dataclass(frozen=True)
class V2Position:
    """The neutral pipeline's handle on one Aave v2 account (scanner.domain.PositionState)."""

    account: V2Account
    market: V2MarketState

    def __reduce__(self) -> tuple[type[V2Position], tuple[V2Account, V2MarketState]]:
        # Copied by constructor: compiled (scanner/native.py), a frozen dataclass has no
        # __dict__ for the default field-by-field restore of a serialised copy.
        return (V2Position, (self.account, self.market))

    @property
    def has_debt(self) -> bool:
        return any(r.borrowing and r.debt_raw for r in self.account.reserves)

    def curve(self, axis: Axis) -> V2Curve:
        return v2_curve(self.account, self.market, axis)

    def reported(self) -> Valuation:
        """The pool's own getUserAccountData at the block, in USD through the ETH/USD feed."""
        a, eth_usd_8dec = self.account, self.market.eth_usd_8dec
        return Valuation(a.reported_collateral_eth_wei * eth_usd_8dec // WAD,
                         a.reported_debt_eth_wei * eth_usd_8dec // WAD,
                         a.reported_health_factor_wad)

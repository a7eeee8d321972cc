"""Aave v3's liquidation rule for one position on one price axis, as pure integer math.

Moving the axis to price x (8 dec, the AaveOracle's base currency) sets every member's price
to `price_now * x // ref_now` (integer floor, as a scaled oracle would); the health factor at x
is then `generic_logic.totals_for_legs`, bit-exact with `Pool.getUserAccountData`.

v3.0-3.4 floor the average liquidation threshold to whole bps, so when collateral mixes axis
and non-axis assets of different LTs the health factor is not monotone in x: `piece` is that
floored average (HF is monotone while it stays constant) and `surely_healthy` the floor-free
bound of pipeline/crossing.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from mypy_extensions import mypyc_attr

from scanner.domain import HEALTH_FACTOR_ONE_WAD, WAD, Address, Axis, Valuation
from scanner.errors import InconsistentDataError
from scanner.protocols.aave_v3.axis_monotone import (
    down_seed,
    mixed_down_seed,
    moving_side,
    up_seed,
)
from scanner.protocols.aave_v3.axis_monotone import (
    monotone_sign as proven_sign,
)
from scanner.protocols.aave_v3.axis_saw import SawBound, saw_bound
from scanner.protocols.aave_v3.axis_sums import AxisSums, TotalsTuple, compile_sums
from scanner.protocols.aave_v3.generic_logic import (
    CEILS_DEBT,
    AccountLeg,
    AccountTotals,
    HealthArithmetic,
    account_legs,
    arithmetic_for_revision,
    emode_price_source,
    leg_price_8dec,
    oracle_prices_8dec,
    totals_for_legs,
)
from scanner.protocols.aave_v3.leg_table import (
    LegRow,
    LegTemplate,
    account_rows,
    build_table,
    compile_rows,
    row_leg,
)
from scanner.protocols.aave_v3.liquidation_call import (
    CallPrices,
    LiquidationCallOutcome,
    LiquidationRule,
    call_prices,
    liquidation_call,
)
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState

PERCENT: Final = 10_000  # bps in one


class AaveCurve:
    """An account resolved against a market and an axis: HF as a function of x (8 dec).

    Built from its legs and prices, or (`_row_curve`) from the leg table's rows, its sums and
    collateral LTs filled in directly: then its AccountLegs and price table are made only
    when something reads them (the solver's hot path does not). A plain class with every
    attribute declared, so that compiled (scanner/native.py) it is a native class."""

    def __init__(self, legs: tuple[AccountLeg, ...] | None, arithmetic: HealthArithmetic,
                 prices_now_8dec: dict[Address, int] | None, axis_members: frozenset[Address],
                 ref_now_8dec: int, rule: LiquidationRule,
                 emode_price_source: Address | None = None,
                 rows: list[LegRow] | None = None,
                 oracle: dict[Address, int] | None = None) -> None:
        self._legs = legs
        self.arithmetic = arithmetic
        self._prices = prices_now_8dec
        self.axis_members = axis_members
        self.ref_now_8dec = ref_now_8dec
        self.rule = rule
        self.emode_price_source = emode_price_source
        self._rows = rows
        self._oracle = oracle
        self._memo: dict[int, TotalsTuple] = {}
        self._sums_known = False
        self._sums_value: AxisSums | None = None
        self._lts_value: frozenset[int] | None = None
        self._can_dip_value: bool | None = None
        self._sign_known = False
        self._sign_value: int | None = None
        self._saw_known = False
        self._saw_value: SawBound | None = None

    def with_legs(self, legs: tuple[AccountLeg, ...]) -> AaveCurve:
        """The same curve over other legs (the position after a liquidationCall)."""
        return AaveCurve(legs, self.arithmetic, self.prices_now_8dec, self.axis_members,
                         self.ref_now_8dec, self.rule, self.emode_price_source)

    @property
    def price_unit(self) -> str:
        return "USD"  # AaveOracle BASE_CURRENCY_UNIT 1e8 on every market we read

    @property
    def price_decimals(self) -> int:
        return 8

    @property
    def price_now(self) -> int:
        return self.ref_now_8dec

    @property
    def legs(self) -> tuple[AccountLeg, ...]:
        legs = self._legs
        if legs is None:
            rows = self._rows
            assert rows is not None  # a curve has legs or rows
            legs = self._legs = tuple(row_leg(row) for row in rows)
        return legs

    @property
    def prices_now_8dec(self) -> dict[Address, int]:
        prices = self._prices
        if prices is None:
            rows, oracle = self._rows, self._oracle
            assert rows is not None and oracle is not None  # a curve has prices or rows
            prices = self._prices = _needed_prices(rows, self.emode_price_source, oracle)
        return prices

    def prices_at(self, x_8dec: int) -> dict[Address, int]:
        prices = dict(self.prices_now_8dec)
        # dict_keys & frozenset is a set; the other order is typed frozenset but is a set too,
        # which compiled code (scanner/native.py) rejects
        for asset in prices.keys() & self.axis_members:
            prices[asset] = prices[asset] * x_8dec // self.ref_now_8dec
        return prices

    @property
    def _sums(self) -> AxisSums | None:
        if not self._sums_known:
            self._sums_value = compile_sums(self.legs, self.prices_now_8dec, self.axis_members,
                                            self.ref_now_8dec, self.arithmetic)
            self._sums_known = True
        return self._sums_value

    def _totals_tuple(self, x_8dec: int) -> TotalsTuple:
        """The account data at x: from the compiled sums (axis_sums.py), remembered per x
        (the solver asks some prices twice); the generic mirror when they do not compile."""
        found = self._memo.get(x_8dec)
        if found is None:
            sums = self._sums
            if sums is None:
                t = totals_for_legs(self.legs, self.prices_at(x_8dec), self.arithmetic)
                found = (t.collateral_8dec, t.debt_8dec, t.avg_lt_bps, t.health_factor_wad,
                         t.weighted_collateral)
            else:
                found = sums.totals(x_8dec)
            self._memo[x_8dec] = found
        return found

    def totals(self, x_8dec: int) -> AccountTotals:
        return AccountTotals(*self._totals_tuple(x_8dec))

    def health_factor_wad(self, x_8dec: int) -> int:
        return self._totals_tuple(x_8dec)[3]

    def healthy(self, x: int) -> bool:
        found = self._memo.get(x)  # the solver's most frequent call: a remembered x inline
        if found is None:
            found = self._totals_tuple(x)
        return found[3] >= HEALTH_FACTOR_ONE_WAD

    def value(self, x: int) -> Valuation:
        collateral_8dec, debt_8dec, _, health_factor_wad, _ = self._totals_tuple(x)
        return Valuation(collateral_8dec, debt_8dec, health_factor_wad)

    def piece(self, x: int) -> int:
        return self._totals_tuple(x)[2]

    @property  # asked at every step of the dip search: remembered
    def can_dip(self) -> bool:
        """Only a floored average LT over collateral that mixes thresholds across the axis
        (some legs move with it, some do not) makes HF non-monotone in the axis price."""
        found = self._can_dip_value
        if found is None:
            found = self._can_dip_value = self._mixes_thresholds()
        return found

    def _mixes_thresholds(self) -> bool:
        if self.arithmetic in CEILS_DEBT:
            return False
        rows = self._rows
        if rows is not None:  # (price asset, LT) of each collateral leg, without the legs
            views = [(t.price_asset, t.lt_bps) for t, collateral_raw, _ in rows if collateral_raw]
        else:
            views = [(leg.price_asset, leg.lt_bps) for leg in self.legs if leg.collateral_raw]
        lts = {(price_asset in self.axis_members, lt) for price_asset, lt in views}
        return {moves for moves, _ in lts} == {True, False} and len({lt for _, lt in lts}) > 1

    @property
    def _sign(self) -> int | None:
        if not self._sign_known:
            sums = self._sums
            self._sign_value = None if sums is None else proven_sign(
                sums, self._collateral_lts)
            self._sign_known = True
        return self._sign_value

    @property
    def _collateral_lts(self) -> frozenset[int]:
        found = self._lts_value
        if found is None:
            found = self._lts_value = frozenset(
                leg.lt_bps for leg in self.legs if leg.collateral_raw)
        return found

    def monotone_sign(self) -> int | None:
        """Proven monotonicity of HF in x (axis_monotone.py; pipeline/monotone.py)."""
        return self._sign

    def boundary_seed(self) -> int | None:
        """The boundary the rounding-exact inversion of the sums predicts (only a seed)."""
        sums, sign = self._sums, self._sign
        if sums is None or sign == 0:
            return None
        if sign is None:  # not proven monotone: a seed all the same when one side moves
            sign = moving_side(sums)
            if sign is None:
                return None
        if sign > 0:
            lts = self._collateral_lts
            if len(lts) > 1 and not sums.ceil_debt:  # the average LT moves with x
                return mixed_down_seed(sums, self.piece(self.ref_now_8dec))
            return down_seed(sums, min(lts) if lts else 0)  # min(default=) is a keyword call
        return up_seed(sums)

    @property
    def _saw(self) -> SawBound | None:
        if not self._saw_known:
            sums = self._sums
            self._saw_value = None if sums is None else saw_bound(sums, self._collateral_lts)
            self._saw_known = True
        return self._saw_value

    def saw_margin(self, x: int, down: bool) -> int | None:
        """How far the certificate of axis_saw.py is from proving every price from x away
        from the crossing healthy (>= 0: proven; above x when `down`, below it down to the
        bound's `min_x` otherwise); None where this curve cannot saw that way (crossing.py's
        sawn-boundary search)."""
        bound = self._saw
        if bound is None or bound.slope_sign == (-1 if down else 1):
            return None
        if x < bound.min_x:  # an eMode source's price is 0 here: not proven
            return -1
        return bound.margin(self._totals_tuple(x))

    def saw_healthy_between(self, low: int, high: int) -> bool:
        """Proven healthy on all of [low, high] (axis_saw.py's interval test); False when
        not proven, or where saw_margin is None."""
        bound = self._saw
        return bound is not None and low >= bound.min_x and bound.healthy_between(
            self._totals_tuple(low), self._totals_tuple(high))

    def surely_healthy(self, x: int) -> bool:
        """HF >= 1 by the floor-free bound of crossing.py; always true without flooring."""
        return self.dip_margin(x) >= 0

    def dip_margin(self, x: int) -> int:
        """How far the floor-free bound of crossing.py is above HF = 1 (>= 0: surely healthy);
        affine in x up to the floors, so crossing.py seeds its search with a secant step."""
        if not self.can_dip:
            return 0  # HF is monotone: no dips to look for
        collateral_8dec, debt_8dec, _, _, weighted = self._totals_tuple(x)
        if debt_8dec == 0:
            return 0
        return (weighted - collateral_8dec - PERCENT) * WAD - PERCENT * debt_8dec * (WAD + 1)

    def closed_form(self) -> int | None:
        c_fix, c_axis, d_fix, d_axis = _closed_form_sums(self)
        if c_axis == d_axis:
            return None
        scale = (d_fix - c_fix) / (c_axis - d_axis)
        if not 0 < scale < 1e30:  # no price, or none in any range the solver looks at
            return None
        return int(scale * self.ref_now_8dec)

    def _largest(self, prices: dict[Address, int], collateral: bool) -> AccountLeg | None:
        """The leg of greatest value on one side (ties: lowest reserve id, the legs' order)."""
        best, best_value = None, 0
        for leg in self.legs:
            amount = leg.collateral_raw if collateral else leg.debt_raw
            value = amount * leg_price_8dec(leg, prices) // leg.unit
            if amount and (best is None or value > best_value):
                best, best_value = leg, value
        return best

    def liquidation_call_at(self, x_8dec: int) -> LiquidationCallOutcome | None:
        """What liquidationCall(largest collateral, largest debt, max) does at axis price x."""
        return self._call_at(x_8dec, self.prices_at(x_8dec))[0]

    def _call_at(self, x_8dec: int, prices: dict[Address, int]
                 ) -> tuple[LiquidationCallOutcome | None, AccountLeg | None]:
        """The call at x (prices: `prices_at(x)`) and the collateral leg it seizes."""
        collateral = self._largest(prices, collateral=True)
        debt = self._largest(prices, collateral=False)
        if collateral is None or debt is None:
            return None, None
        priced = call_prices(collateral, debt, prices, self.emode_price_source)
        return liquidation_call(collateral, debt, priced, self.totals(x_8dec), self.rule,
                                collateral.protocol_fee_bps), collateral

    def seizable_usd_8dec(self, x: int) -> int:
        """Collateral (liquidator's share and protocol fee) that leaves the position in ONE
        liquidationCall of its largest debt against its largest collateral at axis price x --
        the first call a liquidator makes; 0 when that call would revert for dust."""
        rows = self._rows
        if rows is not None:
            return self._row_seizable(rows, x)
        prices = self.prices_at(x)
        outcome, leg = self._call_at(x, prices)
        if outcome is None or leg is None:
            return 0
        return outcome.collateral_seized_raw * leg_price_8dec(leg, prices) // leg.unit

    def _row_seizable(self, rows: list[LegRow], x: int) -> int:
        """seizable_usd_8dec of a row-built curve: each leg priced at x from its template
        (what leg_price_8dec reads in prices_at(x)), the call given row views -- no price
        table, no AccountLeg."""
        ref = self.ref_now_8dec
        collateral = debt = None
        collateral_value = debt_value = collateral_price = 0
        for row in rows:  # _largest's two passes in one: the same legs priced, in order
            t, collateral_raw, debt_raw = row
            price = _template_price(t, x, ref)
            value = collateral_raw * price // t.unit
            if collateral_raw and (collateral is None or value > collateral_value):
                collateral, collateral_value, collateral_price = row, value, price
            value = debt_raw * price // t.unit
            if debt_raw and (debt is None or value > debt_value):
                debt, debt_value = row, value
        if collateral is None or debt is None:
            return 0
        source = self.emode_price_source
        priced = CallPrices(self._price_of(collateral[0].price_asset, x),
                            self._price_of(source or debt[0].price_asset, x))
        _, debt_8dec, _, health, _ = self._totals_tuple(x)
        outcome = liquidation_call(_row_view(collateral), _row_view(debt), priced,
                                   _CallTotals(debt_8dec, health), self.rule,
                                   collateral[0].protocol_fee_bps)
        if outcome is None:
            return 0
        return outcome.collateral_seized_raw * collateral_price // collateral[0].unit

    def _price_of(self, asset: Address, x: int) -> int:
        """prices_at(x)[asset] (KeyError when the oracle has no price for it)."""
        oracle = self._oracle
        assert oracle is not None  # only row-built curves price from the oracle table
        price = int(oracle[asset])
        return price * x // self.ref_now_8dec if asset in self.axis_members else price

    def axis_collateral_usd_8dec(self) -> int:
        """Collateral whose price moves with the axis (by the price that values it)."""
        rows = self._rows
        members = self.axis_members
        total = 0
        if rows is not None:  # the template's price now is leg_price_8dec(leg, prices now)
            ref = self.ref_now_8dec
            for t, collateral_raw, _ in rows:
                if collateral_raw and t.price_asset in members:
                    total += collateral_raw * _template_price(t, ref, ref) // t.unit
            return total
        for leg in self.legs:
            if leg.collateral_raw and leg.price_asset in members:
                price = leg_price_8dec(leg, self.prices_now_8dec)
                total += leg.collateral_raw * price // leg.unit
        return total


class _RowView:
    """The fields liquidation_call reads of a leg (CallLeg). A plain class: compiled, a native
    one is built in C, where a NamedTuple is built through its Python __new__."""

    def __init__(self, asset: Address, unit: int, collateral_raw: int, debt_raw: int,
                 bonus_bps: int) -> None:
        self.asset = asset
        self.unit = unit
        self.collateral_raw = collateral_raw
        self.debt_raw = debt_raw
        self.bonus_bps = bonus_bps


class _CallTotals:
    """The account data liquidation_call reads (CallTotals); a plain class as _RowView."""

    def __init__(self, debt_8dec: int, health_factor_wad: int) -> None:
        self.debt_8dec = debt_8dec
        self.health_factor_wad = health_factor_wad


def _row_view(row: LegRow) -> _RowView:
    t, collateral_raw, debt_raw = row
    return _RowView(t.asset, t.unit, collateral_raw, debt_raw, t.bonus_bps)


def _template_price(t: LegTemplate, x: int, ref: int) -> int:
    """leg_price_8dec(leg, prices_at(x)) from the template's price facts."""
    source_now = t.source_now
    price = source_now * x // ref if t.source_moves else source_now  # type: ignore[operator]
    if not price and t.fallback:
        asset_now = t.asset_now
        price = asset_now * x // ref if t.asset_moves else asset_now  # type: ignore[operator]
    if price is None:
        raise InconsistentDataError(f"no oracle price for {t.price_asset}; read it at the block")
    return price


def _needed_prices(rows: list[LegRow], source: Address | None,
                   oracle_prices: dict[Address, int]) -> dict[Address, int]:
    """Only the prices the legs read (aave_curve's `prices_now_8dec`)."""
    needed = {t.asset for t, _, _ in rows} | {t.price_asset for t, _, _ in rows} | {source}
    return {a: oracle_prices[a] for a in needed if a in oracle_prices}


def _closed_form_sums(curve: AaveCurve) -> tuple[float, float, float, float]:
    """(C_fix, C_G, D_fix, D_G) in base units, collateral weighted by LT, at current prices.
    Floats: the closed form only seeds the exact solver (and float division of Python ints is
    correctly rounded), and Fractions cost more than the rest of the solve."""
    c_fix = c_axis = d_fix = d_axis = 0.0
    for leg in curve.legs:
        price = leg_price_8dec(leg, curve.prices_now_8dec)
        moves = leg.price_asset in curve.axis_members
        weighted = leg.collateral_raw * leg.lt_bps * price / (leg.unit * 10_000)
        debt = leg.debt_raw * price / leg.unit
        if moves:
            c_axis, d_axis = c_axis + weighted, d_axis + debt
        else:
            c_fix, d_fix = c_fix + weighted, d_fix + debt
    return c_fix, c_axis, d_fix, d_axis


# What every account of a market shares, derived once per market state (a scan builds a
# curve per account): id -> (the state itself, to tell a recycled id; its arithmetic, oracle
# prices, liquidation rule, and leg tables by (eMode category, axis)). A few markets per
# scan; cleared when it grows past that.
_MarketConstants = tuple[HealthArithmetic, dict[Address, int], LiquidationRule,
                         dict[tuple[int, frozenset[Address], int], "_Table"]]
# a leg table (None: the generic resolution decides) and the category's eMode price source
_Table = tuple[dict[Address, LegTemplate] | None, Address | None]
_MARKET_CONSTANTS: dict[int, tuple[AaveMarketState, _MarketConstants]] = {}
_MARKET_CONSTANTS_MAX: Final = 16
_TABLES_MAX: Final = 64


def _market_constants(market: AaveMarketState) -> _MarketConstants:
    entry = _MARKET_CONSTANTS.get(id(market))
    if entry is None or entry[0] is not market:
        if len(_MARKET_CONSTANTS) >= _MARKET_CONSTANTS_MAX:
            _MARKET_CONSTANTS.clear()
        entry = (market, (
            arithmetic_for_revision(market.pool_revision, market.allow_unreviewed_revision),
            oracle_prices_8dec(market), LiquidationRule.for_revision(market.pool_revision), {}))
        _MARKET_CONSTANTS[id(market)] = entry
    return entry[1]


def _leg_table(account: AaveAccount, market: AaveMarketState, axis: Axis,
               constants: _MarketConstants) -> _Table:
    arithmetic, oracle_prices, _, tables = constants
    key = (account.emode_category, axis.members, axis.reference_price_8dec)
    found = tables.get(key)
    if found is None:
        if len(tables) >= _TABLES_MAX:
            tables.clear()
        table = build_table(market, arithmetic, account.emode_category, oracle_prices, axis)
        source = None if table is None else emode_price_source(account, market, arithmetic)
        found = tables[key] = (table, source)
    return found


def aave_curve(account: AaveAccount, market: AaveMarketState, axis: Axis) -> AaveCurve:
    constants = _market_constants(market)
    table, source = _leg_table(account, market, axis, constants)
    rows = None if table is None else account_rows(account, table)
    if rows is None:
        return _generic_curve(account, market, axis, constants)
    return _row_curve(rows, source, axis, constants)


def _generic_curve(account: AaveAccount, market: AaveMarketState, axis: Axis,
                   constants: _MarketConstants) -> AaveCurve:
    """The account resolved leg by leg (generic_logic.account_legs): raises what it raises."""
    arithmetic, oracle_prices, rule, _ = constants
    legs = account_legs(account, market, arithmetic)
    # Only the prices this account's legs read: keeps each bisection step small.
    source = emode_price_source(account, market, arithmetic)
    needed = {leg.asset for leg in legs} | {leg.price_asset for leg in legs} | {source}
    prices = {a: oracle_prices[a] for a in needed if a in oracle_prices}
    return AaveCurve(legs=legs, arithmetic=arithmetic, prices_now_8dec=prices,
                     axis_members=axis.members, ref_now_8dec=axis.reference_price_8dec,
                     rule=rule, emode_price_source=source)


def _row_curve(rows: list[LegRow], source: Address | None, axis: Axis,
               constants: _MarketConstants) -> AaveCurve:
    """The same curve as `_generic_curve`, built from the table's rows: its sums, views and
    collateral LTs filled in directly; legs and prices made only when read (properties)."""
    arithmetic, oracle_prices, rule, _ = constants
    ceil_debt = arithmetic in CEILS_DEBT
    curve = AaveCurve(None, arithmetic, None, axis.members, axis.reference_price_8dec, rule,
                      source, rows=rows, oracle=oracle_prices)
    curve._sums_value = compile_rows(rows, ceil_debt, axis.reference_price_8dec)
    curve._sums_known = True
    curve._lts_value = frozenset([t.lt_bps for t, c, _ in rows if c])
    return curve


# Tests subclass it (a position whose curve is always resolved leg by leg).
@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(init=False, unsafe_hash=True)  # built per account read: see domain.Valuation
class AavePosition:
    """The neutral pipeline's handle on one Aave account (scanner.domain.PositionState)."""

    account: AaveAccount
    market: AaveMarketState

    def __init__(self, account: AaveAccount, market: AaveMarketState) -> None:
        self.account = account
        self.market = market

    def __reduce__(self) -> tuple[type[AavePosition], tuple[AaveAccount, AaveMarketState]]:
        # Copied by constructor: compiled (scanner/native.py), a frozen dataclass has no
        # __dict__ for the default field-by-field restore of a serialised copy.
        return (AavePosition, (self.account, self.market))

    @property
    def has_debt(self) -> bool:
        return any(reserve.debt_raw for reserve in self.account.reserves)

    def curve(self, axis: Axis) -> AaveCurve:
        return aave_curve(self.account, self.market, axis)

    def reported(self) -> Valuation:
        """The pool's own getUserAccountData at the block (for accounts the mirror misses)."""
        a = self.account
        return Valuation(a.reported_collateral_8dec, a.reported_debt_8dec,
                         a.reported_health_factor_wad)


def liquidation_call_at(
    account: AaveAccount, market: AaveMarketState, axis: Axis, x_8dec: int
) -> LiquidationCallOutcome | None:
    """What liquidationCall(largest collateral, largest debt, max) does at axis price x."""
    return aave_curve(account, market, axis).liquidation_call_at(x_8dec)


def closed_form_liquidation_price(
    account: AaveAccount, market: AaveMarketState, axis: Axis
) -> int | None:
    """s* = (D_fix - C_fix) / (C_G - D_G) times the reference price, floored (8 dec).

    Exact-LT linear model with no rounding: for comparison in tests and benchmarks only.
    None when the axis cannot liquidate the position (s* <= 0 or C_G == D_G).
    """
    return aave_curve(account, market, axis).closed_form()

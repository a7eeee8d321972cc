"""Per-market resolution of Aave v3 accounts into legs: one table per market state, eMode
category and axis, so that building a position's curve is a dict lookup per user reserve.

`generic_logic.account_legs` resolves each user reserve on its own (eMode membership, price
source, the collateral gate, 10**decimals) and builds an `AccountLeg` per reserve; the solver
builds a curve per position and axis, where that was ~25 us of a ~65 us position (issue 11).
Everything it resolves except the two balances depends only on (market state, arithmetic,
eMode category): a `LegTemplate` per reserve holds it, with the price facts `compile_sums`
derives per leg on the axis (axis_sums._price_now). A position's legs are then plain rows
(`LegRow`), sorted by reserve id as `account_legs` sorts them.

The table never decides an error: a category the market does not list, a v3.2+ eMode without
its collateral bitmap, or a reserve the market does not list leaves the account to the generic
path, which raises exactly as before.
"""

from __future__ import annotations

from scanner.domain import Address, Axis
from scanner.errors import InconsistentDataError
from scanner.protocols.aave_v3.axis_sums import AxisSums, MovingLeg
from scanner.protocols.aave_v3.generic_logic import (
    AccountLeg,
    HealthArithmetic,
    _counts_as_collateral,
    _in_emode,
    _price_asset,
)
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState

# One reserve as an account of one eMode category sees it, on one axis:
# (reserve_id, asset, price_asset, unit, lt_bps, bonus_bps, protocol_fee_bps,
#  counts (used as collateral, does it count), the MovingLeg price facts of axis_sums
#  (source_now, source_moves, fallback, asset_now, asset_moves), refused (compile_sums gives
#  up on such a leg), fixed_price (its price at every x; None when it moves))
LegTemplate = tuple[int, Address, Address, int, int, int, int, bool,
                    int | None, bool, bool, int | None, bool, bool, int | None]
# A position's leg: (template, collateral_raw, debt_raw)
LegRow = tuple[LegTemplate, int, int]

def _template(reserve_id: int, asset: Address, price_asset: Address, unit: int, lt_bps: int,
              bonus_bps: int, fee_bps: int, counts: bool, prices: dict[Address, int],
              members: frozenset[Address]) -> LegTemplate:
    """The price facts exactly as axis_sums.compile_sums derives them for a leg."""
    source_now = prices.get(price_asset)
    asset_now = prices.get(asset)
    source_moves = source_now is not None and price_asset in members
    fallback = price_asset != asset
    asset_moves = asset_now is not None and asset in members
    refused = (source_now is None and not (fallback and asset_now is not None)) or (
        fallback and asset_now is None and (source_moves or not source_now))
    fixed = not source_moves and (source_now or not fallback or not asset_moves)
    fixed_price = None
    if fixed and not refused:
        fixed_price = source_now if source_now or not fallback else asset_now
        refused = fixed_price is None
    return (reserve_id, asset, price_asset, unit, lt_bps, bonus_bps, fee_bps, counts,
            source_now, source_moves, fallback, asset_now, asset_moves, refused, fixed_price)


def build_table(market: AaveMarketState, arithmetic: HealthArithmetic, category: int,
                prices: dict[Address, int], axis: Axis) -> dict[Address, LegTemplate] | None:
    """Every reserve of the market as an account in `category` resolves it; None when the
    generic resolution would raise for some reserve (the generic path then decides)."""
    if category != 0 and category not in market.emodes:
        return None
    emode = market.emodes.get(category)
    probe = AaveAccount("", category, (), 0, 0, 0)
    table: dict[Address, LegTemplate] = {}
    try:
        for asset, reserve in market.reserves.items():
            lt_bps, bonus_bps = reserve.lt_bps, reserve.bonus_bps
            if emode is not None and _in_emode(probe, market, reserve, arithmetic):
                lt_bps, bonus_bps = emode.lt_bps, emode.bonus_bps
            table[asset] = _template(
                reserve.reserve_id, reserve.asset,
                _price_asset(probe, market, reserve, arithmetic), 10**reserve.decimals,
                lt_bps, bonus_bps, reserve.protocol_fee_bps,
                _counts_as_collateral(reserve, arithmetic), prices, axis.members)
    except InconsistentDataError:
        return None
    return table


def account_rows(account: AaveAccount, table: dict[Address, LegTemplate]
                 ) -> list[LegRow] | None:
    """The account's legs as rows in reserve-id order (account_legs' order); None when it
    holds a reserve the table does not list (the generic path raises for it)."""
    rows: list[LegRow] = []
    get = table.get
    last_id, in_order = -1, True
    for user_reserve in account.reserves:
        template = get(user_reserve.asset)
        if template is None:
            return None
        counts = user_reserve.used_as_collateral and template[7]
        rows.append((template, user_reserve.supplied_raw if counts else 0,
                     user_reserve.debt_raw))
        in_order = in_order and template[0] > last_id
        last_id = template[0]
    if not in_order:  # a stable sort by reserve id, as account_legs sorts
        rows.sort(key=_row_reserve_id)
    return rows


def _row_reserve_id(row: LegRow) -> int:
    return row[0][0]


def row_leg(row: LegRow) -> AccountLeg:
    """The AccountLeg `account_legs` builds for this row."""
    t, collateral_raw, debt_raw = row
    return AccountLeg(asset=t[1], price_asset=t[2], unit=t[3], collateral_raw=collateral_raw,
                      debt_raw=debt_raw, lt_bps=t[4], bonus_bps=t[5], protocol_fee_bps=t[6])


def compile_rows(rows: list[LegRow], ceil_debt: bool, ref_now_8dec: int) -> AxisSums | None:
    """axis_sums.compile_sums of the rows' legs, from the templates' price facts."""
    collateral = weighted = debt = 0
    moving: list[MovingLeg] = []
    for t, collateral_raw, debt_raw in rows:
        if not collateral_raw and not debt_raw:
            continue  # totals_for_legs skips it before reading a price
        if t[13]:
            return None  # leg_price_8dec raises for it (somewhere in the range)
        price = t[14]
        if price is None:
            moving.append((t[8], t[9], t[10], t[11], t[12], t[3], collateral_raw, debt_raw,
                           t[4]))
            continue
        if collateral_raw:
            value = collateral_raw * price // t[3]
            collateral += value
            weighted += value * t[4]
        if debt_raw:
            debt += (-((-debt_raw * price) // t[3]) if ceil_debt
                     else debt_raw * price // t[3])
    return AxisSums(collateral, weighted, debt, tuple(moving), ceil_debt, ref_now_8dec)

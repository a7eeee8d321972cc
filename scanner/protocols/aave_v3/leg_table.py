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

from typing import NamedTuple

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


class LegTemplate(NamedTuple):
    """One reserve as an account of one eMode category sees it, on one axis."""

    reserve_id: int
    asset: Address
    price_asset: Address
    unit: int  # 10**decimals
    lt_bps: int
    bonus_bps: int
    protocol_fee_bps: int
    counts: bool  # does it count as collateral when used as collateral
    # the MovingLeg price facts of axis_sums
    source_now: int | None
    source_moves: bool
    fallback: bool
    asset_now: int | None
    asset_moves: bool
    refused: bool  # compile_sums gives up on such a leg
    fixed_price: int | None  # its price at every x; None when it moves


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
    return LegTemplate(reserve_id, asset, price_asset, unit, lt_bps, bonus_bps, fee_bps,
                       counts, source_now, source_moves, fallback, asset_now, asset_moves, refused,
                       fixed_price)


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
        counts = user_reserve.used_as_collateral and template.counts
        rows.append((template, user_reserve.supplied_raw if counts else 0,
                     user_reserve.debt_raw))
        in_order = in_order and template.reserve_id > last_id
        last_id = template.reserve_id
    if not in_order:  # a stable sort by reserve id, as account_legs sorts
        rows.sort(key=_row_reserve_id)
    return rows


def _row_reserve_id(row: LegRow) -> int:
    return row[0].reserve_id


def row_leg(row: LegRow) -> AccountLeg:
    """The AccountLeg `account_legs` builds for this row."""
    t, collateral_raw, debt_raw = row
    return AccountLeg(asset=t.asset, price_asset=t.price_asset, unit=t.unit,
                      collateral_raw=collateral_raw, debt_raw=debt_raw, lt_bps=t.lt_bps,
                      bonus_bps=t.bonus_bps, protocol_fee_bps=t.protocol_fee_bps)


def compile_rows(rows: list[LegRow], ceil_debt: bool, ref_now_8dec: int) -> AxisSums | None:
    """axis_sums.compile_sums of the rows' legs, from the templates' price facts."""
    collateral = weighted = debt = 0
    moving: list[MovingLeg] = []
    for t, collateral_raw, debt_raw in rows:
        if not collateral_raw and not debt_raw:
            continue  # totals_for_legs skips it before reading a price
        if t.refused:
            return None  # leg_price_8dec raises for it (somewhere in the range)
        price = t.fixed_price
        if price is None:
            moving.append((t.source_now, t.source_moves, t.fallback, t.asset_now,
                           t.asset_moves, t.unit, collateral_raw, debt_raw, t.lt_bps))
            continue
        if collateral_raw:
            value = collateral_raw * price // t.unit
            collateral += value
            weighted += value * t.lt_bps
        if debt_raw:
            debt += (-((-debt_raw * price) // t.unit) if ceil_debt
                     else debt_raw * price // t.unit)
    return AxisSums(collateral, weighted, debt, tuple(moving), ceil_debt, ref_now_8dec)

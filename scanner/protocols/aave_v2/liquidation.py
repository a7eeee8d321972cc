"""One Aave v2 `liquidationCall` as pure integer math (LendingPoolCollateralManager, v2 1.0.1).

    maxLiquidatableDebt = (stable + variable debt of the debt reserve).percentMul(5000)
    debtToCover         = min(requested, maxLiquidatableDebt)
    collateral          = debtPrice * debtToCover * 10**collDec .percentMul(bonus)
                          // (collPrice * 10**debtDec)
    if collateral > the user's aToken balance:
        collateral = balance
        debtNeeded = (collPrice * balance * 10**debtDec // (debtPrice * 10**collDec))
                     .percentDiv(bonus)

There is no protocol fee and no dust rule in v2; the call is refused (HF >= 1, collateral not
enabled or LT 0, no debt in that reserve) rather than trimmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.protocols.aave_v2.generic_logic import Leg, percent_div, percent_mul

LIQUIDATION_CLOSE_FACTOR_BPS = 5_000


# Built at every seizable amount the solver reports: a written-out __init__, not frozen (see
# domain.Valuation: compiled, a dataclass-generated __init__ still runs as Python); treat it as
# immutable.
@dataclass(init=False, unsafe_hash=True)
class LiquidationOutcome:
    collateral_asset: str
    debt_asset: str
    debt_repaid_raw: int
    collateral_seized_raw: int  # all of it goes to the liquidator in v2

    def __init__(self, collateral_asset: str, debt_asset: str, debt_repaid_raw: int,
                 collateral_seized_raw: int) -> None:
        self.collateral_asset = collateral_asset
        self.debt_asset = debt_asset
        self.debt_repaid_raw = debt_repaid_raw
        self.collateral_seized_raw = collateral_seized_raw


def liquidation_call(collateral: Leg, debt: Leg, collateral_price_eth_wei: int,
                     debt_price_eth_wei: int, debt_to_cover_raw: int | None = None
                     ) -> LiquidationOutcome:
    """What liquidationCall(collateral, debt, user, debt_to_cover) moves, the HF test passed."""
    max_debt_raw = percent_mul(debt.debt_raw, LIQUIDATION_CLOSE_FACTOR_BPS)
    to_cover_raw = max_debt_raw if debt_to_cover_raw is None else min(debt_to_cover_raw,
                                                                      max_debt_raw)
    seized_raw = percent_mul(debt_price_eth_wei * to_cover_raw * collateral.unit,
                             collateral.bonus_bps) // (collateral_price_eth_wei * debt.unit)
    if seized_raw > collateral.collateral_raw:
        seized_raw = collateral.collateral_raw
        needed_raw = percent_div(
            collateral_price_eth_wei * seized_raw * debt.unit
            // (debt_price_eth_wei * collateral.unit), collateral.bonus_bps)
        to_cover_raw = min(to_cover_raw, needed_raw)
    return LiquidationOutcome(collateral.asset, debt.asset, to_cover_raw, seized_raw)

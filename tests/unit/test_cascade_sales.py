"""What one liquidation sells, per protocol, on hand-computed positions."""

from __future__ import annotations

from fractions import Fraction

from scanner.protocols.aave_v2.generic_logic import Leg
from scanner.protocols.aave_v2.liquidation_sale import liquidation_sale as v2_sale
from scanner.protocols.aave_v2.rule import V2Curve
from scanner.protocols.aave_v3.generic_logic import AccountLeg, arithmetic_for_revision
from scanner.protocols.aave_v3.liquidation_call import LiquidationRule
from scanner.protocols.aave_v3.liquidation_sale import liquidation_sale as v3_sale
from scanner.protocols.aave_v3.rule import AaveCurve
from scanner.protocols.liquity_v1.curve import LiquityCurve
from scanner.protocols.liquity_v1.liquidation_sale import liquidation_sale as liquity_sale
from scanner.protocols.liquity_v1.state import LiquitySystem
from scanner.protocols.morpho_blue.curve import MorphoCurve, Token
from scanner.protocols.morpho_blue.liquidation_sale import liquidation_sale as morpho_sale
from scanner.protocols.morpho_blue.rule import MarketTotals

WETH = "0x00000000000000000000000000000000000000E1"
USDC = "0x00000000000000000000000000000000000000D1"
USD = 10**8
ETH = 10**18


def aave_curve(revision: int, weth_raw: int, usdc_debt_raw: int, fee_bps: int = 0) -> AaveCurve:
    """1 position: WETH collateral (LT 80%, bonus 5%) against USDC debt; WETH at $2,000."""
    legs = (AccountLeg(WETH, WETH, ETH, weth_raw, 0, 8_000, 10_500, fee_bps),
            AccountLeg(USDC, USDC, 10**6, 0, usdc_debt_raw, 8_500, 10_400))
    return AaveCurve(legs=legs, arithmetic=arithmetic_for_revision(revision, False),
                     prices_now_8dec={WETH: 2_000 * USD, USDC: USD},
                     axis_members=frozenset({WETH}), ref_now_8dec=2_000 * USD,
                     rule=LiquidationRule.for_revision(revision))


def test_aave_v30_below_hf_095_closes_the_whole_debt() -> None:
    # HF at $2,000 = 1 x 2000 x 0.8 / 1700 = 0.941 < 0.95: 100% close; 1700 x 1.05 / 2000 WETH
    sale = v3_sale(aave_curve(1, ETH, 1_700 * 10**6), 2_000 * USD)
    assert sale is not None
    (sold,) = sale.sold
    assert sold.amount_raw == 1_700 * 105 * ETH // 100 // 2_000 == 8925 * 10**14
    assert sold.usd_8dec == 1_785 * USD and sold.on_axis
    assert sale.debt_repaid_usd_8dec == 1_700 * USD
    assert sale.calls == 1 and sale.after is None and sale.bad_debt_usd_8dec == 0


def test_aave_v30_above_hf_095_closes_half_and_the_rest_is_healthy() -> None:
    # at $2,100: HF = 1680 / 1700 = 0.988: cover 850 USDC, seize 850 x 1.05 / 2100 = 0.425 WETH;
    # left 0.575 WETH / 850 USDC: HF = 966 / 850 = 1.14, healthy -> one call
    sale = v3_sale(aave_curve(1, ETH, 1_700 * 10**6), 2_100 * USD)
    assert sale is not None and sale.calls == 1
    # the pool floors 850e18 / 2100 before the bonus: one wei under 0.425 WETH
    assert sale.sold[0].amount_raw == 425 * 10**15 - 1
    assert sale.debt_repaid_usd_8dec == 850 * USD
    assert sale.after is not None and sale.after.healthy(2_100 * USD)
    assert sale.after.legs[0].collateral_raw == 575 * 10**15 + 1
    assert sale.after.legs[1].debt_raw == 850 * 10**6


def test_aave_healthy_position_sells_nothing() -> None:
    assert v3_sale(aave_curve(1, ETH, 1_500 * 10**6), 2_000 * USD) is None


def test_aave_v33_closes_a_small_reserve_debt_whole() -> None:
    # revision 7 (v3.3): the debt reserve is worth < $2,000, so the whole 1,700 USDC is covered
    sale = v3_sale(aave_curve(7, ETH, 1_700 * 10**6), 2_100 * USD)
    assert sale is not None and sale.after is None
    assert abs(sale.sold[0].amount_raw - 1_700 * 105 * ETH // 100 // 2_100) <= 1
    assert sale.debt_repaid_usd_8dec == 1_700 * USD


def test_aave_protocol_fee_stays_with_the_treasury() -> None:
    # seized 0.8925 WETH, of which the bonus 0.8925 - 0.8925/1.05 = 0.0425; 10% of it is the fee
    sale = v3_sale(aave_curve(1, ETH, 1_700 * 10**6, fee_bps=1_000), 2_000 * USD)
    assert sale is not None
    assert sale.sold[0].amount_raw == 8925 * 10**14 - 425 * 10**13


def test_aave_underwater_position_is_seized_whole_and_leaves_bad_debt() -> None:
    # v3.0, 1 WETH / 1,400 USDC. At $1,700 HF = 1360/1400 = 0.971 -> half: 700 USDC,
    # 700 x 1.05 / 1700 WETH; the rest's HF is (1 - 0.43235) x 1700 x 0.8 / 700 = 1.10: one call
    sale = v3_sale(aave_curve(1, ETH, 1_400 * 10**6), 1_700 * USD)
    assert sale is not None and sale.calls == 1 and sale.after is not None
    # at $1,300 HF = 1040/1400 = 0.743 < 0.95: whole debt, 1400 x 1.05 / 1300 = 1.1308 WETH,
    # more than the 1 WETH there is: every WETH seized for 1 x 1300 / 1.05 = 1238.09 USDC;
    # 161.90 USDC is bad debt
    sale = v3_sale(aave_curve(1, ETH, 1_400 * 10**6), 1_300 * USD)
    assert sale is not None and sale.after is None
    assert sale.sold[0].amount_raw == ETH
    needed = Fraction(1_300 * 10**6 * 10_000, 10_500)
    assert abs(sale.debt_repaid_usd_8dec - int(needed) * 100) <= 100
    assert abs(sale.bad_debt_usd_8dec - int((1_400 * 10**6 - needed) * 100)) <= 100


def test_aave_v2_always_closes_half_and_repeats() -> None:
    # v2: 50% whatever the HF. 1 WETH (LT 80%, bonus 5%) / 1,700 USDC at $1,500, ETH = $1,500,
    # USDC = 1/1500 ETH. Call 1: 850 USDC, 850 x 1.05 / 1500 = 0.595 WETH; left 0.405 / 850:
    # HF = 0.405 x 1500 x 0.8 / 850 = 0.57 -> call 2: 425 USDC needs 0.2975 WETH; left 0.1075 /
    # 425: HF 0.30 -> call 3: 212.5 USDC needs 0.14875 > 0.1075: all of it, debt 0.1075 x
    # 1500 / 1.05 = 153.57; left 271.43 USDC of bad debt.
    usdc_eth_wei = ETH // 1_500
    legs = (Leg(WETH, ETH, ETH, 0, 8_000, 10_500), Leg(USDC, 10**6, 0, 1_700 * 10**6, 8_500,
                                                         10_400))
    curve = V2Curve(legs, {WETH: ETH, USDC: usdc_eth_wei}, frozenset({WETH}), 1_500 * USD,
                    True, 1_500 * USD)
    sale = v2_sale(curve, 1_500 * USD)
    assert sale is not None and sale.calls == 3 and sale.after is None
    assert sale.sold[0].amount_raw == ETH
    assert abs(sale.debt_repaid_usd_8dec - Fraction(850 + 425) * USD - Fraction(
        1075 * 1500, 10_000 * 105 // 100) * USD) < USD // 100
    assert abs(sale.bad_debt_usd_8dec - (1_700 - 1_275) * USD + int(
        Fraction(1075 * 1500, 10_500) * USD)) < USD // 100


def morpho_curve(collateral_raw: int, debt_usdc: int) -> MorphoCurve:
    """WETH/USDC, LLTV 50% (incentive factor capped at 1.15); oracle price 2,000 USDC/WETH."""
    totals = MarketTotals(10_000 * 10**6, 10_000 * 10**12, 10_000 * 10**6, 10_000 * 10**12, 0, 0)
    return MorphoCurve(collateral_raw, debt_usdc * 10**12, totals, 5 * 10**17,
                       2_000 * 10**6 * 10**36 // ETH, Token("WETH", 18, 2_000 * USD),
                       Token("USDC", 6, USD), 1)


def test_morpho_repays_the_whole_debt_with_the_incentive() -> None:
    # healthy iff 0.5 x c x p >= debt: 1 WETH / 900 USDC is liquidated below $1,800.
    curve = morpho_curve(ETH, 900)
    x = 1_725 * 10**6 * 10**36 // ETH  # $1,725 = 1.15 x 1,500: seizes 900 x 1.15 / 1725 = 0.6
    sale = morpho_sale(curve, x)
    assert sale is not None and sale.after is None
    assert abs(sale.sold[0].amount_raw - 6 * 10**17) <= 1
    assert sale.sold[0].symbol == "WETH" and sale.sold[0].asset == ""
    assert sale.debt_repaid_usd_8dec == 900 * USD and sale.bad_debt_usd_8dec == 0
    assert morpho_sale(curve, 1_800 * 10**6 * 10**36 // ETH) is None


def test_morpho_underwater_position_leaves_bad_debt() -> None:
    # at $1,000 the 900 USDC debt needs 1.035 WETH: all 1 WETH is seized for 1000 / 1.15 USDC
    sale = morpho_sale(morpho_curve(ETH, 900), 1_000 * 10**6 * 10**36 // ETH)
    assert sale is not None and sale.sold[0].amount_raw == ETH
    repaid = Fraction(1_000, 1) / Fraction(115, 100)
    assert abs(sale.debt_repaid_usd_8dec - repaid * USD) < USD // 10**4
    assert abs(sale.bad_debt_usd_8dec - (900 - repaid) * USD) < USD // 10**4


def test_liquity_moves_collateral_to_depositors_not_to_the_market() -> None:
    # a trove of 1 ETH / 1,800 LUSD at $1,900: ICR 105.6% < 110% in normal mode (the system is
    # at 1000 ETH / 1M LUSD: TCR 190%): liquidated; the Stability Pool's 1,000 LUSD offsets
    # 1,000 of the debt, the other 800 is redistributed; nothing is sold on the market
    system = LiquitySystem("0xTM", 1_900 * ETH, 1_000 * ETH, 1_000_000 * ETH, 1_000 * ETH, 50,
                           0, 0)
    curve = LiquityCurve(1_800 * ETH, ETH, system, True)
    sale = liquity_sale(curve, 1_900 * ETH)
    assert sale is not None and sale.sold == () and sale.after is None
    assert sale.debt_repaid_usd_8dec == 1_000 * USD and sale.bad_debt_usd_8dec == 0
    assert liquity_sale(curve, 2_000 * ETH) is None  # ICR 111%: healthy


def test_every_registered_protocol_says_what_its_liquidations_sell() -> None:
    """A protocol added to the registry without a liquidation_sale would crash `cascade`."""
    from scanner.cascade.sale import sale_function
    from scanner.protocols import PROTOCOLS

    for key in PROTOCOLS:
        assert callable(sale_function(key)), key

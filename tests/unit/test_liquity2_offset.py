"""Liquity v2's Stability Pool offset (scanner.protocols.liquity_v2.offset and the v2 ledger),
by hand: a WETH branch (MCR 110%, penalties 5% to the pool and 10% redistributed), the feed
moved from $2,200 to $2,000, trove A with 1 ETH against 1,850 BOLD (ICR 108.1%)."""

from __future__ import annotations

from scanner.cascade.engine import Exposure, run_cascade
from scanner.domain import Direction
from scanner.protocols.liquity_v2.curve import Liquity2Curve
from scanner.protocols.liquity_v2.liquidation_sale import LEDGER, liquidation_sale
from scanner.protocols.liquity_v2.offset import (
    MIN_BOLD_IN_SP,
    TroveSplit,
    bold_for_offsets,
    redistribution_penalty,
    trove_split,
)
from scanner.protocols.liquity_v2.rule import TroveDebt
from scanner.protocols.liquity_v2.state import Liquity2Branch, Liquity2BranchAddresses
from tests.unit.cascade_fixtures import LinearDepth

WEI = 10**18
PCT = 10**16
USD = 10**8
NOW = 2_200 * USD
AT = 2_000 * WEI  # the shocked feed
WETH = "0x" + "aa" * 20
MCR = 110 * PCT


def branch(total_stakes: int, troves: int, bold_in_sp: int) -> Liquity2Branch:
    addresses = Liquity2BranchAddresses(0, WETH, "0x" + "01" * 20, "0x" + "02" * 20,
                                        "0x" + "03" * 20, "0x" + "04" * 20, "0x" + "05" * 20)
    return Liquity2Branch(addresses, "WETH", MCR, 150 * PCT, 110 * PCT, 2_200 * WEI,
                          2_200 * WEI, 0, False, 0, 0, total_stakes, troves, bold_in_sp)


def trove(account: str, coll_wei: int, debt_bold: int, on: Liquity2Branch) -> Exposure:
    debt = TroveDebt(debt_bold * WEI, coll_wei, debt_bold * WEI, 0, 0)
    curve = Liquity2Curve(debt, on, True, 2_200 * WEI, coll_wei)
    level = curve.closed_form()
    assert level is not None
    return Exposure("bold", "liquity-v2", account, curve, liquidation_sale, Direction.DOWN,
                    level // 10**10, NOW, {WETH: "WETH"}, ledger=LEDGER)


def test_the_pool_keeps_one_bold() -> None:
    assert bold_for_offsets(10_000 * WEI) == 9_999 * WEI
    assert bold_for_offsets(MIN_BOLD_IN_SP) == 0
    assert bold_for_offsets(MIN_BOLD_IN_SP // 2) == 0
    assert bold_for_offsets(0) == 0


def test_the_deployed_penalties() -> None:
    assert redistribution_penalty(110 * PCT) == 10 * PCT
    assert redistribution_penalty(120 * PCT) == 20 * PCT
    assert redistribution_penalty(150 * PCT) == 20 * PCT  # the AddressesRegistry's maximum


def test_a_pool_that_covers_the_trove_offsets_all_of_it() -> None:
    """Offset 1,850; the whole 1 ETH is the pool's portion: 0.005 ETH gas compensation, the
    pool takes at most 1,850 x 1.05 / 2,000 = 0.97125 ETH of the 0.995 left, 0.02375 ETH is
    the owner's surplus; nothing is redistributed."""
    assert trove_split(1_850 * WEI, WEI, 9_999 * WEI, AT, MCR) == TroveSplit(
        1_850 * WEI, 971_250 * 10**12, 5 * 10**15, 0, 0, 23_750 * 10**12)


def test_a_short_pool_offsets_part_and_redistributes_the_rest() -> None:
    """1,001 BOLD in the pool: 1,000 is offset. The pool's portion is 1 ETH x 1,000 / 1,850 =
    0.540540540540540540 ETH, gas 1/200 of it (0.002702702702702702), the pool takes at most
    1,000 x 1.05 / 2,000 = 0.525 ETH, leaving a surplus of 0.012837837837837838; the other
    850 BOLD go with 0.459459459459459460 ETH plus that surplus (0.472297297297297298),
    capped at 850 x 1.10 / 2,000 = 0.4675 ETH: 0.004797297297297298 ETH left to the owner."""
    assert trove_split(1_850 * WEI, WEI, 1_000 * WEI, AT, MCR) == TroveSplit(
        1_000 * WEI, 525 * 10**15, 2_702_702_702_702_702, 850 * WEI, 4_675 * 10**14,
        4_797_297_297_297_298)


def test_an_empty_pool_redistributes_everything() -> None:
    """No gas compensation without an offset; the redistribution cap (1,850 x 1.10 / 2,000 =
    1.0175 ETH) is above the 1 ETH: all of it moves."""
    assert trove_split(1_850 * WEI, WEI, 0, AT, MCR) == TroveSplit(0, 0, 0, 1_850 * WEI, WEI, 0)


def _sale(bold_in_sp: int) -> tuple[int, int, int]:
    on = branch(4 * WEI, 3, bold_in_sp)
    sale = liquidation_sale(LEDGER.bind(trove("0xA", WEI, 1_850, on).curve,
                                        LEDGER.read(trove("0xA", WEI, 1_850, on).curve)), AT)
    assert sale is not None and sale.sold == () and sale.bad_debt_usd_8dec == 0
    return sale.debt_repaid_usd_8dec, sale.debt_redistributed_usd_8dec, sale.ledger_after.bold_in_sp


def test_the_sale_repays_the_offset_and_redistributes_the_rest() -> None:
    assert _sale(10_000 * WEI) == (1_850 * USD, 0, 8_150 * WEI)
    assert _sale(1_001 * WEI) == (1_000 * USD, 850 * USD, WEI)
    assert _sale(0) == (0, 1_850 * USD, 0)


def test_a_pool_of_exactly_min_bold_in_sp_offsets_nothing() -> None:
    assert _sale(MIN_BOLD_IN_SP) == (0, 1_850 * USD, MIN_BOLD_IN_SP)


def test_the_pool_is_used_up_across_liquidations() -> None:
    """2,851 BOLD: A's 1,850 is offset whole, D finds 1,000 left (1 BOLD stays), the rest of
    D is redistributed to C; the pool ends at 1 BOLD."""
    on = branch(4 * WEI, 3, 2_851 * WEI)
    a, d = trove("0xA", WEI, 1_850, on), trove("0xD", WEI, 1_850, on)
    c = trove("0xC", 2 * WEI, 1_000, on)
    result = run_cascade("ETH", NOW, 2_000 * USD, [a, d, c], LinearDepth(0.0), {})
    liqs = [liq for r in result.rounds for liq in r.liquidations]
    assert [(liq.account, liq.debt_repaid_usd_8dec) for liq in liqs] == [
        ("0xA", 1_850 * USD), ("0xD", 1_000 * USD)]
    assert sum(r.debt_redistributed_usd_8dec for r in result.rounds) == 850 * USD
    assert result.sold_usd_8dec == 0 and result.bad_debt_usd_8dec == 0


def test_the_pool_decides_whether_a_redistribution_pushes_a_trove_under() -> None:
    """B (1 ETH, 1,815 BOLD: ICR 110.2% at $2,000) and C (2 ETH, 1,000 BOLD) share what A
    leaves. Empty pool: A's 1 ETH and 1,850 BOLD, a third to B -- 1.3333 ETH against 2,431.67
    BOLD, ICR 109.7%: B is liquidated too. 1,001 BOLD: only 0.4675 ETH and 850 BOLD move, a
    third to B -- 1.1558 ETH against 2,098.33 BOLD, ICR 110.2%: B stays. A full pool: B is
    untouched."""
    def liquidated(bold_in_sp: int) -> list[str]:
        on = branch(4 * WEI, 3, bold_in_sp)
        troves = [trove("0xA", WEI, 1_850, on), trove("0xB", WEI, 1_815, on),
                  trove("0xC", 2 * WEI, 1_000, on)]
        result = run_cascade("ETH", NOW, 2_000 * USD, troves, LinearDepth(0.0), {})
        return sorted(liq.account for r in result.rounds for liq in r.liquidations)

    assert liquidated(0) == ["0xA", "0xB"]
    assert liquidated(1_001 * WEI) == ["0xA"]
    assert liquidated(100_000 * WEI) == ["0xA"]

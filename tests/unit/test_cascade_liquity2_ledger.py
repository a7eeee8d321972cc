"""The cascade engine follows a Liquity v2 branch's redistributions
(scanner.protocols.liquity_v2.liquidation_sale.LEDGER): the liquidated trove's debt and
collateral go to the branch's other troves by stake, and a trove pushed under the MCR is
liquidated in the next round."""

from __future__ import annotations

from scanner.cascade.engine import Exposure, run_cascade
from scanner.domain import Direction
from scanner.protocols.liquity_v2.curve import Liquity2Curve
from scanner.protocols.liquity_v2.liquidation_sale import LEDGER, liquidation_sale
from scanner.protocols.liquity_v2.rule import TroveDebt, collateral_ratio
from scanner.protocols.liquity_v2.state import Liquity2Branch, Liquity2BranchAddresses
from tests.unit.cascade_fixtures import LinearDepth

WEI = 10**18
PCT = 10**16
USD = 10**8
NOW = 2_200 * USD
WETH = "0x" + "aa" * 20


def branch(index: int, total_stakes: int, troves: int) -> Liquity2Branch:
    addresses = Liquity2BranchAddresses(index, WETH, "0x" + "01" * 20, "0x" + "02" * 20,
                                        "0x" + "03" * 20, "0x" + "04" * 20)
    return Liquity2Branch(addresses, "WETH", 110 * PCT, 150 * PCT, 110 * PCT, 2_200 * WEI,
                          2_200 * WEI, 0, False, 0, 0, total_stakes, troves)


def trove(account: str, coll_eth: int, debt_bold: int, on: Liquity2Branch) -> Exposure:
    """`coll_eth` ETH (stake the same) against `debt_bold`, the feed at $2,200."""
    debt = TroveDebt(debt_bold * WEI, coll_eth * WEI, debt_bold * WEI, 0, 0)
    curve = Liquity2Curve(debt, on, True, 2_200 * WEI, coll_eth * WEI)
    level = curve.closed_form()
    assert level is not None
    return Exposure("bold", "liquity-v2", account, curve, liquidation_sale, Direction.DOWN,
                    level // 10**10, NOW, {WETH: "WETH"}, ledger=LEDGER)


def test_a_redistribution_pushes_a_trove_under_in_the_next_round() -> None:
    """At $2,000 A (1 ETH, 1,900 BOLD, ICR 105.3%) is liquidated; no pool: its 1 ETH and 1,900
    BOLD go to B (stake 1) and C (stake 2), a third to B: 1.3333 ETH against 2,433.33 BOLD,
    ICR 109.6% (111.1% before) -- liquidated after A, in the same round. C (4.6667 ETH
    against 2,266.67 BOLD after both) stays: a branch's last trove cannot be liquidated."""
    on = branch(0, 4 * WEI, 3)
    a, b, c = trove("0xA", 1, 1_900, on), trove("0xB", 1, 1_800, on), trove("0xC", 2, 1_000, on)
    result = run_cascade("ETH", NOW, 2_000 * USD, [a, b, c], LinearDepth(0.0), {})
    assert [[liq.account for liq in r.liquidations] for r in result.rounds] == [["0xA", "0xB"]]
    assert result.sold_usd_8dec == 0 and result.bad_debt_usd_8dec == 0
    assert [liq.debt_repaid_usd_8dec for r in result.rounds for liq in r.liquidations] == [0, 0]
    # B by hand: the reward per unit staked is amount x 1e18 / 3 ETH of stakes left
    b_coll = WEI + WEI * WEI // (3 * WEI) * WEI // WEI
    b_debt = 1_800 * WEI + 1_900 * WEI * WEI // (3 * WEI)
    assert collateral_ratio(b_coll, b_debt, 2_000 * WEI) < 110 * PCT <= collateral_ratio(
        WEI, 1_800 * WEI, 2_000 * WEI)
    assert [r.debt_redistributed_usd_8dec for r in result.rounds] == [
        1_900 * USD + b_debt // 10**10]


def test_a_trove_asked_before_the_redistribution_is_liquidated_in_the_next_round() -> None:
    """B asked first is healthy (111.1%); A's redistribution then pushes it under: round 2."""
    on = branch(0, 4 * WEI, 3)
    a, b, c = trove("0xA", 1, 1_900, on), trove("0xB", 1, 1_800, on), trove("0xC", 2, 1_000, on)
    result = run_cascade("ETH", NOW, 2_000 * USD, [b, c, a], LinearDepth(0.0), {})
    rounds = [sorted(liq.account for liq in r.liquidations) for r in result.rounds]
    assert rounds in ([["0xA", "0xB"]], [["0xA"], ["0xB"]])
    assert sum(len(r) for r in rounds) == 2


def test_each_branch_keeps_its_own_redistribution() -> None:
    """The same A and B, each on a branch of its own (with a healthy trove holding the rest of
    the stakes): A's debt stays on A's branch, B is never pushed under."""
    a = trove("0xA", 1, 1_900, branch(0, 3 * WEI, 2))
    b = trove("0xB", 1, 1_800, branch(1, 3 * WEI, 2))
    result = run_cascade("ETH", NOW, 2_000 * USD, [a, b], LinearDepth(0.0), {})
    assert [[liq.account for liq in r.liquidations] for r in result.rounds] == [["0xA"]]


def test_the_last_trove_of_a_branch_is_not_liquidated() -> None:
    """OnlyOneTroveLeft: the contract refuses it, whatever its ICR."""
    alone = trove("0xA", 1, 1_900, branch(0, WEI, 1))
    assert liquidation_sale(alone.curve, 2_000 * WEI) is None
    assert liquidation_sale(trove("0xA", 1, 1_900, branch(0, 2 * WEI, 2)).curve,
                            2_000 * WEI) is not None

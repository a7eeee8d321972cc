"""A Liquity v2 trove on a price axis (scanner.protocols.liquity_v2.curve): the boundary is
the exact ICR < MCR test, other branches move with the axis, a frozen feed does not."""

from __future__ import annotations

from scanner.domain import Axis, Position, PositionStatus
from scanner.pipeline.liquidation import liquidation_result
from scanner.protocols.liquity_v2.curve import Liquity2Position
from scanner.protocols.liquity_v2.rule import latest_trove_debt, liquidatable
from scanner.protocols.liquity_v2.state import (
    Liquity2Branch,
    Liquity2BranchAddresses,
    Liquity2Trove,
)

E18 = 10**18
PCT = 10**16
WETH = "0x" + "aa" * 20
WSTETH = "0x" + "bb" * 20
T0 = 1_700_000_000


def _branch(token: str, price: int, mcr: int, source: int = 0, shutdown: int = 0
            ) -> Liquity2Branch:
    addresses = Liquity2BranchAddresses(0 if token == WETH else 1, token, "0x" + "01" * 20,
                                        "0x" + "02" * 20, "0x" + "03" * 20, "0x" + "04" * 20)
    return Liquity2Branch(addresses, "WETH" if token == WETH else "wstETH", mcr, 150 * PCT,
                          mcr, price, price, source, False, shutdown, T0 + 86_400)


def _position(branch: Liquity2Branch, coll: int, debt: int) -> Liquity2Position:
    trove = Liquity2Trove(7, "0x" + "11" * 20, 1, debt, coll, T0, 5 * PCT, None, 0, 0, 0, 0, 0)
    prices = ((WETH, 3_000 * E18), (WSTETH, 3_600 * E18))
    return Liquity2Position(trove, latest_trove_debt(trove, None, branch.timestamp,
                                                     branch.shutdown_time), branch, prices)


AXIS = Axis("ETH", frozenset({WETH, WSTETH}), WETH, 3_000 * 10**8)


def test_the_boundary_is_the_last_price_the_contract_spares() -> None:
    state = _position(_branch(WETH, 3_000 * E18, 110 * PCT), 10 * E18, 20_000 * E18)
    curve = state.curve(AXIS)
    result = liquidation_result(Position("m", "liquity-v2", "0:WETH", "0x" + "11" * 20, state),
                                AXIS)
    assert result is not None and result.status is PositionStatus.AT_RISK
    x = result.liquidation_price_native
    assert x is not None
    debt = state.debt
    # healthy at the boundary, liquidatable one wei below (on the branch's own price)
    assert not liquidatable(debt.entire_coll, debt.entire_debt, curve.price(x), 110 * PCT)
    assert liquidatable(debt.entire_coll, debt.entire_debt, curve.price(x - 1), 110 * PCT)


def test_another_branch_moves_with_the_reference() -> None:
    state = _position(_branch(WSTETH, 3_600 * E18, 120 * PCT), 10 * E18, 20_000 * E18)
    curve = state.curve(AXIS)
    assert curve.price_now == 3_000 * E18
    assert curve.price(1_500 * E18) == 1_800 * E18  # half the reference: half its price


def test_a_frozen_feed_is_not_moved_by_the_axis() -> None:
    frozen = _branch(WSTETH, 3_600 * E18, 120 * PCT, source=2, shutdown=T0 + 10)
    state = _position(frozen, 10 * E18, 20_000 * E18)
    assert state.shut_down and frozen.submarket == "1:wstETH:shutdown"
    result = liquidation_result(Position("m", "liquity-v2", frozen.submarket,
                                         "0x" + "11" * 20, state), AXIS)
    assert result is not None and result.status is PositionStatus.NOT_SENSITIVE
    assert result.liquidation_price_native is None
    # the same trove, too indebted at the frozen price, is liquidatable now
    deep = _position(frozen, 10 * E18, 31_000 * E18)
    now = liquidation_result(Position("m", "liquity-v2", frozen.submarket, "0x" + "11" * 20,
                                      deep), AXIS)
    assert now is not None and now.status is PositionStatus.LIQUIDATABLE_NOW


def test_a_liquidation_sells_nothing_on_the_market() -> None:
    from dataclasses import replace

    from scanner.protocols.liquity_v2.liquidation_sale import liquidation_sale

    # two troves of 10 ETH stake each: the other one takes the redistribution
    branch = replace(_branch(WETH, 3_000 * E18, 110 * PCT), total_stakes=20 * E18, trove_count=2)
    position = _position(branch, 10 * E18, 20_000 * E18)
    curve = replace(position, trove=replace(position.trove, stake=10 * E18)).curve(AXIS)
    assert liquidation_sale(curve, 3_000 * E18) is None  # ICR 150%: healthy
    sale = liquidation_sale(curve, 2_000 * E18)  # ICR 100% < 110%
    assert sale is not None and sale.sold == () and sale.after is None
    assert sale.bad_debt_usd_8dec == 0 and sale.debt_repaid_usd_8dec == 0
    assert sale.debt_redistributed_usd_8dec == curve.debt.entire_debt // 10**10  # all of it

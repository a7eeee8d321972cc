"""State that liquidations use up within a cascade, by hand: Maker's Hole/hole room,
Liquity's Stability Pool and redistributions."""

from __future__ import annotations

from scanner.cascade.engine import Exposure, run_cascade
from scanner.domain import Direction
from scanner.protocols.liquity_v1.curve import ETH_ADDRESS, LiquityCurve
from scanner.protocols.liquity_v1.liquidation_sale import LEDGER as LIQUITY_LEDGER
from scanner.protocols.liquity_v1.liquidation_sale import liquidation_sale as liquity_sale
from scanner.protocols.liquity_v1.rule import MCR, compute_cr
from scanner.protocols.liquity_v1.state import LiquitySystem, LiquityTrove
from scanner.protocols.maker.curve import MakerCurve
from scanner.protocols.maker.liquidation_sale import LEDGER as MAKER_LEDGER
from scanner.protocols.maker.liquidation_sale import liquidation_sale as maker_sale
from scanner.protocols.maker.rule import RAY, WAD, DogIlk
from scanner.protocols.maker.state import MakerIlk, MakerUrn, PipValue
from tests.unit.cascade_fixtures import LinearDepth

GEM = "0x00000000000000000000000000000000000000E1"
USD = 10**8
RAD = 10**45
NOW = 2_000 * USD
CHOP_WAD = 113 * 10**16  # 13% penalty


def maker_ilk(name: str, hole_dai: int, hole_total_dai: int) -> MakerIlk:
    """A WETH ilk at $2,000, rate 1, mat 150%, no dust, `hole_dai` of room of its own and
    `hole_total_dai` in the Dog's Hole, nothing in auction at the scan block."""
    dog = DogIlk(CHOP_WAD, hole_dai * RAD, 0, hole_total_dai * RAD, 0)
    price = PipValue(2_000 * WAD, True)
    return MakerIlk(name, GEM, "WETH", 0, RAY, 0, 10**12 * RAD, 0, 0, 0, 0, 15 * RAY // 10, RAY,
                    "0xPIP", price, None, 0, 0, RAY, RAY, 0, dog)


def urn(account: str, ilk: MakerIlk) -> Exposure:
    """10 WETH against 10,000 DAI: unsafe below 10,000 x 1.5 / 10 = $1,500."""
    curve = MakerCurve(MakerUrn(account, 10 * WAD, 10_000 * WAD, None, None), ilk, True,
                       2_000 * WAD)
    return Exposure("maker", "maker", account, curve, maker_sale, Direction.DOWN, 1_500 * USD,
                    NOW, {GEM: "WETH"}, ledger=MAKER_LEDGER)


def test_the_ilk_hole_is_used_up_by_the_barks_of_a_round_and_given_back_after() -> None:
    """hole 20,000 DAI: A's tab is 10,000 x 1.13 = 11,300; B gets the 8,700 left (dart =
    8,700 / 1.13, dink the same share of its 10 WETH); C gets nothing: bark reverts
    (liquidation-limit-hit) and C waits. The round's auctions are taken before the next round
    (here at the feed price: no Clipper read), which gives their whole tab back (Dog.digs):
    round 1 barks B's rest and C. A take pays at most the tab: of A's 10 WETH at $1,400
    (14,000 DAI) only 11,300 / 1,400 = 8.0714... WETH is bought, and sold on the market."""
    ilk = maker_ilk("ETH-A", 20_000, 10**9)
    result = run_cascade("ETH", NOW, 1_400 * USD, [urn("0xA", ilk), urn("0xB", ilk),
                                                   urn("0xC", ilk)], LinearDepth(0.0),
                         {GEM: NOW})
    assert [[liq.account for liq in r.liquidations] for r in result.rounds] == [
        ["0xA", "0xB"], ["0xB", "0xC"]]
    dart_b_wad = 8_700 * RAD * WAD // RAY // CHOP_WAD
    tab_b_rad = dart_b_wad * RAY * CHOP_WAD // WAD
    (sold,) = result.rounds[0].sold
    assert sold.amount_raw == 8_071_428_571_428_571_428 + tab_b_rad // (1_400 * RAY)
    assert result.rounds[0].debt_repaid_usd_8dec == (10_000 * WAD + dart_b_wad) // 10**10
    assert not result.rounds[0].liquidations[1].closed  # B's rest waits for the room
    # every urn barked whole in the end (B's two parts each floored to 8 decimals)
    assert result.debt_repaid_usd_8dec == 30_000 * USD - 1
    assert all(r.bad_debt_usd_8dec == 0 for r in result.rounds)  # each tab raised in full


def test_the_dogs_hole_is_shared_by_every_ilk() -> None:
    """Each ilk has room for 20,000, but the Dog's Hole is 15,000: after ETH-A's 11,300 tab,
    ETH-B's urn gets 3,700 of room in round 0, and the rest once the takes give it back."""
    a, b = maker_ilk("ETH-A", 20_000, 15_000), maker_ilk("ETH-B", 20_000, 15_000)
    result = run_cascade("ETH", NOW, 1_400 * USD, [urn("0xA", a), urn("0xB", b)],
                         LinearDepth(0.0), {GEM: NOW})
    dart_b_wad = 3_700 * RAD * WAD // RAY // CHOP_WAD
    assert result.rounds[0].debt_repaid_usd_8dec == (10_000 * WAD + dart_b_wad) // 10**10
    assert len(result.rounds) == 2 and result.debt_repaid_usd_8dec == 20_000 * USD - 1  # floors


def test_an_auction_the_gem_cannot_pay_leaves_bad_debt() -> None:
    """At $900 the 10 WETH raise 9,000 DAI of the 11,300 tab: the whole lot is sold and
    10,000 - 9,000 = 1,000 of the debt is bad."""
    ilk = maker_ilk("ETH-A", 10**9, 10**9)
    result = run_cascade("ETH", NOW, 900 * USD, [urn("0xA", ilk)], LinearDepth(0.0),
                         {GEM: NOW})
    (only,) = result.rounds
    assert only.sold[0].amount_raw == 10 * WAD
    assert (only.debt_repaid_usd_8dec, only.bad_debt_usd_8dec) == (10_000 * USD, 1_000 * USD)


# --- Liquity v1: the Stability Pool used up, the rest redistributed ------------------------

WEI = 10**18
SYSTEM = LiquitySystem("0xTM", 2_000 * WEI, 100 * WEI, 25_000 * WEI, 2_000 * WEI, 100, 0, 0,
                       100 * WEI)  # TCR at $1,800: 720% (normal mode); stakes = coll


def trove(account: str, debt_lusd: int) -> Exposure:
    """1 ETH against `debt_lusd`, stake 1 ETH, no pending reward; liquidated below 1.1 x debt."""
    stored = LiquityTrove(account, debt_lusd * WEI, WEI, WEI, 1, 0, 0, debt_lusd * WEI, WEI)
    curve = LiquityCurve(debt_lusd * WEI, WEI, SYSTEM, True, stored)
    return Exposure("liquity", "liquity-v1", account, curve, liquity_sale, Direction.DOWN,
                    debt_lusd * 11 * USD // 10, NOW, {ETH_ADDRESS: "ETH"}, ledger=LIQUITY_LEDGER)


def test_the_stability_pool_is_used_up_and_the_rest_redistributed() -> None:
    """The pool holds 2,000 LUSD. At $1,800, A (1,700 LUSD, ICR 105.9%) is offset whole: the
    pool keeps 300. B (the same) is offset 300 and its other 1,400 LUSD, with 1,400/1,700 of
    its 0.995 ETH, is redistributed over the 98 ETH of stakes left. C (1,636 LUSD, ICR 110.02%,
    healthy at the shock) gets 1/98 of it: 1,650.29 LUSD against 1.00836 ETH, ICR 109.98% --
    liquidated in the next round, all redistributed (the pool is empty)."""
    result = run_cascade("ETH", NOW, 1_800 * USD, [trove("0xC", 1_636), trove("0xA", 1_700),
                                                   trove("0xB", 1_700)], LinearDepth(0.0), {})
    assert [[liq.account for liq in r.liquidations] for r in result.rounds] == [
        ["0xA", "0xB"], ["0xC"]]
    assert [liq.debt_repaid_usd_8dec for r in result.rounds for liq in r.liquidations] == [
        1_700 * USD, 300 * USD, 0]
    assert result.sold_usd_8dec == 0 and result.bad_debt_usd_8dec == 0
    # B's redistribution, by hand: L grows by amount x 1e18 / 98 ETH of stakes
    b_coll_redistributed = (WEI - WEI // 200) - (WEI - WEI // 200) * 300 // 1_700
    l_eth = b_coll_redistributed * WEI // (98 * WEI)
    l_debt = 1_400 * WEI * WEI // (98 * WEI)
    c_debt, c_coll = 1_636 * WEI + l_debt, WEI + l_eth  # stake 1 ETH
    assert compute_cr(c_coll, c_debt, 1_800 * WEI) < MCR <= compute_cr(WEI, 1_636 * WEI,
                                                                        1_800 * WEI)
    # the split, as reported: B's 1,400 and all of C's debt are redistributed, not repaid
    assert [r.debt_redistributed_usd_8dec for r in result.rounds] == [1_400 * USD,
                                                                       c_debt // 10**10]


def test_liquity_split_without_the_ledger_would_offset_twice() -> None:
    """The pool is taken as the ledger leaves it: B alone, on the scan-block pool, would be
    offset whole -- after A only 300 is left."""
    b = trove("0xB", 1_700)
    alone = liquity_sale(b.curve, 1_800 * WEI)
    assert alone is not None and alone.debt_repaid_usd_8dec == 1_700 * USD
    assert alone.ledger_after is not None and alone.ledger_after.lusd_in_sp_wad == 300 * WEI


def test_recovery_mode_underwater_trove_is_redistributed_whole() -> None:
    """TCR < 150% and ICR <= 100%: no offset even with a full pool."""
    system = LiquitySystem("0xTM", 2_000 * WEI, 10 * WEI, 15_000 * WEI, 10_000 * WEI, 10, 0, 0,
                           10 * WEI)  # TCR at $1,000: 66.7%
    curve = LiquityCurve(1_200 * WEI, WEI, system, True)
    sale = liquity_sale(curve, 1_000 * WEI)
    assert sale is not None and sale.debt_repaid_usd_8dec == 0
    after = sale.ledger_after
    assert after.lusd_in_sp_wad == 10_000 * WEI and after.system_debt_wad == 15_000 * WEI
    assert after.system_coll_wei == 10 * WEI - WEI // 200  # only the gas compensation leaves


def test_the_text_output_names_the_now_positions_and_the_redistribution() -> None:
    from scanner.cascade.report import curve_lines, path_lines
    from scanner.cascade.run import CurvePoint

    result = run_cascade("ETH", NOW, 1_800 * USD, [trove("0xC", 1_636), trove("0xA", 1_700),
                                                   trove("0xB", 1_700)], LinearDepth(0.0), {})
    lines = path_lines(result, "header")
    assert lines[2].startswith("liquidatable now, before any shock: 0 positions")
    assert "left out of the spiral" in lines[2]
    assert any(line.endswith("moved, not repaid") and line.startswith("$3.1K of debt")
               for line in lines), lines
    curve = curve_lines([CurvePoint(-1_000, result)], "header")
    assert curve[0] == "header\nliquidatable now, before any shock: 0 positions, $0.00 " \
                       "collateral sold, $0.00 debt repaid, $0.00 bad debt; left out of the " \
                       "spiral (--include-now puts them in round 0)"

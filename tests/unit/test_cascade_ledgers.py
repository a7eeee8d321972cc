"""State that liquidations use up within a cascade, by hand: Maker's Hole/hole room."""

from __future__ import annotations

from scanner.cascade.engine import Exposure, run_cascade
from scanner.domain import Direction
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


def test_the_ilk_hole_is_used_up_by_the_barks_of_a_cascade() -> None:
    """hole 20,000 DAI: A's tab is 10,000 x 1.13 = 11,300; B gets the 8,700 left (dart =
    8,700 / 1.13, dink the same share of its 10 WETH); C gets nothing: bark reverts
    (liquidation-limit-hit) and C waits, in this round and the next."""
    ilk = maker_ilk("ETH-A", 20_000, 10**9)
    result = run_cascade("ETH", NOW, 1_400 * USD, [urn("0xA", ilk), urn("0xB", ilk),
                                                   urn("0xC", ilk)], LinearDepth(0.0),
                         {GEM: NOW})
    assert [[liq.account for liq in r.liquidations] for r in result.rounds] == [["0xA", "0xB"]]
    dart_b_wad = 8_700 * RAD * WAD // RAY // CHOP_WAD
    dink_b_wad = 10 * WAD * dart_b_wad // (10_000 * WAD)
    (sold,) = result.rounds[0].sold
    assert sold.amount_raw == 10 * WAD + dink_b_wad
    assert result.debt_repaid_usd_8dec == (10_000 * WAD + dart_b_wad) // 10**10
    assert not result.rounds[0].liquidations[1].closed  # B's rest stays in play, unbarkable


def test_the_dogs_hole_is_shared_by_every_ilk() -> None:
    """Each ilk has room for 20,000, but the Dog's Hole is 15,000: after ETH-A's 11,300 tab,
    ETH-B's urn gets 3,700 of room."""
    a, b = maker_ilk("ETH-A", 20_000, 15_000), maker_ilk("ETH-B", 20_000, 15_000)
    result = run_cascade("ETH", NOW, 1_400 * USD, [urn("0xA", a), urn("0xB", b)],
                         LinearDepth(0.0), {GEM: NOW})
    dart_b_wad = 3_700 * RAD * WAD // RAY // CHOP_WAD
    assert result.debt_repaid_usd_8dec == (10_000 * WAD + dart_b_wad) // 10**10

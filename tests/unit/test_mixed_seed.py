"""The seed of a curve whose floored average LT moves with the axis (WETH at LT 82.5% moving on
the ETH axis, WBTC at 75% fixed): re-solving at the average LT of the last answer can cycle
between two LTs when the boundary sits where the floored average steps between them. The
seed is then the first x whose average LT reaches the higher one (axis_monotone.py), exactly
the boundary here; the last answer of the cycle it replaced was tens of millions of units
off, and each such curve took ~55 rule evaluations instead of ~3. Slow to settle: re-solved
for up to MIXED_SEED_ROUNDS rounds, not 4."""

from __future__ import annotations

import pytest

from scanner.domain import Direction
from scanner.pipeline.liquidation import find_boundary
from scanner.protocols.aave_v3.rule import AavePosition
from tests.unit.test_liquidation import DAI, ETH_AXIS, WBTC, WETH, make_account, make_market

# (WETH raw, WBTC raw, DAI debt in whole DAI): accounts whose seed was off before
CYCLING = [
    (99909325513900265004, 521791363, 302606),  # was 48,116,403 units above the boundary
    (73096256997843768993, 786705562, 476025),  # was 39,264,340 below
    (13994563279022505841, 147086034, 89504),  # was 46,103,881 below
    # not settled within 4 rounds (2% of random accounts): stopped there, 2,071,686 and
    # 41,199,428 units above
    (73161456573575720219, 136525052, 70753),
    (34696926573391784509, 150387562, 84601),
]


@pytest.mark.parametrize(("weth_raw", "wbtc_raw", "debt_dai"), CYCLING)
def test_a_cycling_seed_is_the_boundary(weth_raw: int, wbtc_raw: int, debt_dai: int) -> None:
    account = make_account((WETH, weth_raw, 0, True), (WBTC, wbtc_raw, 0, True),
                           (DAI, 0, debt_dai * 10**18, False))
    curve = AavePosition(account, make_market(1)).curve(ETH_AXIS)
    assert curve.monotone_sign() == 1 and len(curve._collateral_lts) == 2
    direction, boundary = find_boundary(curve)
    assert direction is Direction.DOWN and boundary is not None
    assert curve.boundary_seed() == boundary
    # the boundary itself, checked against the rule: healthy there, unhealthy one unit below
    assert curve.healthy(boundary) and not curve.healthy(boundary - 1)

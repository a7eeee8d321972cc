"""Liquity v2 liquidation prices judged by the TroveManager itself (the devnet's own
DevnetBoldTroveManager, see its header: the real ICR < MCR test on getLatestTroveData).

For every trove: with its branch's feed answering the reported price x (1 + 1e-4),
`batchLiquidateTroves([id])` reverts NothingToLiquidate; at x (1 - 1e-4) it liquidates. Every
call is an eth_call pinned to the scan block (the feed's lastGoodPrice overridden in the call),
so interest is the one accrued to that block's timestamp. A trove reported liquidatable now is
liquidated at today's price, and a trove of the shut-down branch (frozen feed) is judged at
its frozen price. Then real transactions: the feeds fall and a liquidator takes every trove
whose reported price is above the new one.
"""

from __future__ import annotations

import pytest

from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.domain import Axis, PositionResult, PositionStatus
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.liquidation import liquidation_result
from scanner.protocols.liquity_v2.curve import Liquity2Position
from tests.integration.adapter_contract import read_all, run
from tests.integration.liquity2_helpers import (
    LIQUITY2_AXES,
    liquidates,
    liquity2_env,
    liquity2_of,
    move_feeds,
)
from tests.integration.maker_helpers import uint

pytestmark = pytest.mark.integration
STEP_BPS = 1  # 1e-4
CLOSED_BY_LIQUIDATION = 3


def _results(devnet: Devnet) -> list[tuple[Liquity2Position, PositionResult, Axis]]:
    env = liquity2_env(devnet)
    read = run(env, lambda a: read_all(a, sorted(env.borrowers), env.head_block))
    assert read.mirror_mismatches == ()
    (axis,) = resolve_axes(LIQUITY2_AXES, read.assets)
    out = []
    for p in read.positions:
        assert isinstance(p.state, Liquity2Position)
        result = liquidation_result(p, axis)
        assert result is not None
        out.append((p.state, result, axis))
    return out


def test_liquidate_judges_every_reported_liquidation_price(devnet: Devnet,
                                                           devnet_rpc: DevnetRpc) -> None:
    net = liquity2_of(devnet)
    found = [f for f in _results(devnet) if f[1].status is PositionStatus.AT_RISK]
    assert len(found) >= 200
    cases, expected = [], []
    for state, result, axis in found:
        native = result.liquidation_price_native
        assert native is not None
        curve = state.curve(axis)
        for x, taken in ((native * (10_000 + STEP_BPS) // 10_000, False),
                         (native * (10_000 - STEP_BPS) // 10_000, True)):
            cases.append((state.branch.symbol, state.trove.trove_id, curve.price(x)))
            expected.append(taken)
    assert liquidates(devnet_rpc, net, cases, devnet.head_block) == expected
    assert {s.branch.symbol for s, _, _ in found} == {"WETH", "wstETH"}
    assert any(s.trove.batch_manager for s, _, _ in found)
    assert any(s.trove.redist_debt_gain for s, _, _ in found)


def test_every_trove_is_judged_at_todays_price(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    found = _results(devnet)
    cases = [(s.branch.symbol, s.trove.trove_id, None) for s, _, _ in found]
    verdicts = liquidates(devnet_rpc, liquity2_of(devnet), cases, devnet.head_block)
    now = [r.status is PositionStatus.LIQUIDATABLE_NOW for _, r, _ in found]
    assert verdicts == now
    assert any(now) and not all(now)
    shut = [r for s, r, _ in found if s.shut_down]
    assert shut and all(r.status is not PositionStatus.AT_RISK for r in shut)
    assert all(r.liquidation_price_8dec is None for r in shut)


def test_a_real_liquidator_takes_the_troves_above_the_new_price(
        devnet: Devnet, devnet_snapshot: DevnetRpc) -> None:
    """No override: the live feeds fall 12%, and real transactions liquidate every trove
    whose reported price is above the new one (well clear of the 1e-4 edge)."""
    net = liquity2_of(devnet)
    found = _results(devnet)
    move_feeds(devnet_snapshot, net, factor_bps=8_800)
    doomed: dict[str, list[int]] = {}
    spared = []
    for state, result, axis in found:
        if result.status is not PositionStatus.AT_RISK:
            continue
        assert result.liquidation_price_native is not None
        boundary = state.curve(axis).price(result.liquidation_price_native)
        new = uint(devnet_snapshot, net.branch(state.branch.symbol).price_feed,
                   "lastGoodPrice()")
        if new < boundary * 9_999 // 10_000:
            doomed.setdefault(state.branch.symbol, []).append(state.trove.trove_id)
        elif new > boundary * 10_001 // 10_000:
            spared.append(state)
    assert doomed and spared
    devnet_snapshot.send_many([
        Tx(net.deployer, net.branch(symbol).trove_manager,
           calldata("batchLiquidateTroves(uint256[])", ids)) for symbol, ids in doomed.items()])
    for symbol, ids in doomed.items():
        for trove_id in ids:
            assert uint(devnet_snapshot, net.branch(symbol).trove_manager,
                        "getTroveStatus(uint256)", trove_id) == CLOSED_BY_LIQUIDATION

"""Liquity v1's liquidation prices judged by the TroveManager itself (the devnet's own
DevnetLiquityTroveManager, see its header).

For every trove: with the PriceFeed answering the reported price x (1 + 1e-4), a real
`liquidate(borrower)` reverts ("TroveManager: nothing to liquidate"); at x (1 - 1e-4) it
liquidates. Troves the Stability Pool covers whose ICR is below the TCR are first taken in
recovery mode at ICR >= 110%: those cases are checked to be recovery-mode liquidations. Every
call is an eth_call pinned to the block (the feed's price overridden in the call), so the
devnet is unchanged.
"""

from __future__ import annotations

import pytest
from eth_abi.abi import decode

from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.domain import Axis, PositionResult, PositionStatus
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.liquidation import liquidation_result
from scanner.protocols.liquity_v1.curve import LiquityPosition
from scanner.protocols.liquity_v1.rule import MCR, LiquidationMode, compute_cr
from tests.integration.adapter_contract import read_all, run
from tests.integration.liquity1_helpers import (
    LIQUITY1_AXES,
    liquidate_outcomes,
    liquity1_env,
    liquity_of,
    move_price,
    revert_reason,
)

pytestmark = pytest.mark.integration
STEP_BPS = 1  # 1e-4
NOTHING = "TroveManager: nothing to liquidate"


def _results(devnet: Devnet, block: int | None = None
             ) -> list[tuple[LiquityPosition, PositionResult, Axis]]:
    env = liquity1_env(devnet)
    at = env.head_block if block is None else block
    read = run(env, lambda a: read_all(a, sorted(env.borrowers), at))
    assert read.mirror_mismatches == ()
    (axis,) = resolve_axes(LIQUITY1_AXES, read.assets)
    out = []
    for p in read.positions:
        assert isinstance(p.state, LiquityPosition)
        result = liquidation_result(p, axis)
        assert result is not None
        out.append((p.state, result, axis))
    return out


def _view(rpc: DevnetRpc, to: str, signature: str, out_type: str, *args: object,
          block: int) -> int:
    (value,) = decode([out_type], rpc.eth_call(to, calldata(signature, *args), block))
    return int(value)


def test_liquidate_judges_every_reported_liquidation_price(devnet: Devnet,
                                                           devnet_rpc: DevnetRpc) -> None:
    liquity = liquity_of(devnet)
    found = _results(devnet)
    at_risk = [(s, r) for s, r, _ in found if r.status is PositionStatus.AT_RISK]
    assert len(found) == len(liquity.borrowers) >= 200
    assert len(at_risk) >= 180
    cases, expected = [], []
    for state, result in at_risk:
        native = result.liquidation_price_native
        assert native is not None
        for x, liquidates in ((native * (10_000 + STEP_BPS) // 10_000, False),
                              (native * (10_000 - STEP_BPS) // 10_000, True)):
            cases.append((state.trove.owner, x))
            expected.append(liquidates)
    outcomes = liquidate_outcomes(devnet_rpc, liquity, cases, devnet.head_block)
    for (owner, x), liquidates, outcome in zip(cases, expected, outcomes, strict=True):
        if liquidates:
            assert outcome == "ok", (owner, x, revert_reason(outcome))
        else:
            assert revert_reason(outcome) == NOTHING, (owner, x)


def test_recovery_mode_takes_troves_above_mcr(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    """Where the rule says recovery mode takes a trove at ICR >= 110%, the TroveManager is in
    recovery mode at that price, the trove's ICR is >= MCR, and liquidate succeeds."""
    liquity = liquity_of(devnet)
    block = devnet.head_block
    capped, normal = [], []
    for state, result, axis in _results(devnet):
        if result.status is not PositionStatus.AT_RISK or result.liquidation_price_native is None:
            continue
        below = result.liquidation_price_native * (10_000 - STEP_BPS) // 10_000
        mode = state.curve(axis).mode(below)
        (capped if mode is LiquidationMode.RECOVERY_CAPPED else normal).append(
            (state.trove.owner, below))
    assert len(capped) >= 20 and len(normal) >= 20
    tm = liquity.trove_manager
    for owner, price in capped:
        assert _view(devnet_rpc, tm, "checkRecoveryMode(uint256)", "bool", price, block=block)
        assert _view(devnet_rpc, tm, "getCurrentICR(address,uint256)", "uint256", owner, price,
                     block=block) >= MCR
    assert set(liquidate_outcomes(devnet_rpc, liquity, capped, block)) == {"ok"}


def test_liquidatable_now_is_liquidated_at_todays_price(devnet: Devnet,
                                                        devnet_rpc: DevnetRpc) -> None:
    liquity = liquity_of(devnet)
    found = _results(devnet)
    price = found[0][0].system.price_wad
    outcomes = liquidate_outcomes(devnet_rpc, liquity,
                                  [(s.trove.owner, price) for s, _, _ in found],
                                  devnet.head_block)
    now = [r.status is PositionStatus.LIQUIDATABLE_NOW for _, r, _ in found]
    assert [o == "ok" for o in outcomes] == now
    assert any(now)


def test_a_real_liquidator_takes_troves_below_the_reported_price(
        devnet: Devnet, devnet_snapshot: DevnetRpc) -> None:
    """No override: the feed falls 15% (recovery mode), a liquidator sends real liquidate
    transactions for troves whose reported price is above the new one and whose ICR is below
    105% there (so no earlier liquidation of the batch can rescue them): they close."""
    liquity = liquity_of(devnet)
    found = _results(devnet)
    block = move_price(devnet_snapshot, liquity, factor_bps=8_500)
    new_price = found[0][0].system.price_wad * 8_500 // 10_000
    tm = liquity.trove_manager
    assert _view(devnet_snapshot, tm, "checkRecoveryMode(uint256)", "bool", new_price,
                 block=block)
    doomed = [s.trove.owner for s, r, _ in found if r.liquidation_price_native is not None
              and r.status is PositionStatus.AT_RISK
              and new_price < r.liquidation_price_native * 9_999 // 10_000
              and compute_cr(s.entire()[1], s.entire()[0], new_price) < 105 * 10**16]
    assert len(doomed) >= 10
    for owner in doomed:  # one at a time: each liquidation changes the system
        devnet_snapshot.send(Tx(liquity.deployer, tm, calldata("liquidate(address)", owner),
                                gas=30_000_000))
    for owner in doomed:
        status = decode(["uint256"] * 5, devnet_snapshot.eth_call(
            tm, calldata("Troves(address)", owner)))[3]
        assert status == 3  # closedByLiquidation


def test_total_stakes_is_the_sum_of_the_troves_stakes(devnet: Devnet) -> None:
    """What a cascade shares a redistribution over: the TroveManager's totalStakes, which is
    the sum of every active trove's stake (the devnet reads all of them)."""
    found = _results(devnet)
    system = found[0][0].system
    assert system.total_stakes > 0
    assert system.total_stakes == sum(p.trove.stake for p, _, _ in found
                                       if p.trove.status == 1)

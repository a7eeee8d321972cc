"""Aave v2 liquidation prices judged by the real LendingPool (npm @aave/protocol-v2), for every
position of the devnet's v2 market on the ETH and BTC axes.

The scan runs at one block; then, for each reported price x, the shared USD feeds (which the v2
AaveOracle reads through DevnetEthPriceFeed) are overridden in `eth_call` so the axis stands
at x(1 +/- 1e-4): on the healthy side the pool's getUserAccountData health factor must be
>= 1 and a real liquidationCall must revert with '42' (health factor not below threshold); on
the other side the health factor must be < 1 and the same liquidationCall must go through.
A sample is also liquidated in real transactions, and the LiquidationCall event must carry
exactly the debt and collateral the integer model predicts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi.abi import decode
from eth_utils.crypto import keccak

from scanner.devnet.aave2 import AaveV2Deployment
from scanner.devnet.network import Devnet
from scanner.devnet.prices import set_prices
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.domain import WAD, Axis, Direction, MarketRead, PositionResult, PositionStatus
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.liquidation import liquidation_result
from scanner.protocols.aave_v2.rule import V2Position
from tests.integration.aave_v2_env import V2_AXES, deployment, v2_env
from tests.integration.adapter_contract import read_all, run

pytestmark = pytest.mark.integration

LIQUIDATOR = "0x00000000000000000000000000000000000Ba5e2"
TOLERANCE_PPM = 100  # 1e-4
ANSWER_SLOT = "0x" + "00" * 32  # MockAggregator._latestAnswer
NOT_BELOW_THRESHOLD = "42"  # Errors.LPCM_HEALTH_FACTOR_NOT_BELOW_THRESHOLD
LIQUIDATION_CALL_TOPIC = "0x" + keccak(
    text="LiquidationCall(address,address,address,uint256,uint256,address,bool)").hex()
REAL_SAMPLE = 6


@dataclass(frozen=True)
class Scanned:
    block: int
    read: MarketRead
    axes: dict[str, Axis]
    results: list[PositionResult]

    def position(self, account: str) -> V2Position:
        (p,) = [p for p in self.read.positions if p.account == account]
        assert isinstance(p.state, V2Position)
        return p.state


def _fund_liquidator(rpc: DevnetRpc, v2: AaveV2Deployment) -> None:
    amount_raw = 10**40
    rpc.send_many([tx for token in v2.tokens.values() for tx in (
        Tx(LIQUIDATOR, token, calldata("mint(uint256)", amount_raw)),
        Tx(LIQUIDATOR, token, calldata("approve(address,uint256)", v2.pool, amount_raw)))])


@pytest.fixture(scope="module")
def scanned(devnet: Devnet) -> Iterator[Scanned]:
    rpc = DevnetRpc(devnet.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    try:
        _fund_liquidator(rpc, deployment(devnet))
        block = rpc.block_number()
        env = v2_env(devnet)
        read = run(env, lambda a: read_all(a, sorted(env.borrowers), block))
        axes = {a.name: a for a in resolve_axes(V2_AXES, read.assets)}
        results = [r for axis in axes.values() for p in read.positions
                   if (r := liquidation_result(p, axis)) is not None]
        yield Scanned(block, read, axes, results)
    finally:
        rpc.call("evm_revert", [snapshot])


def _feed_answers(devnet: Devnet, scanned: Scanned, axis: str) -> dict[str, int]:
    """USD answer (8 dec) of each member's shared feed at the scan block."""
    rpc = DevnetRpc(devnet.rpc_url)
    answers = {}
    for symbol in V2_AXES[axis].members:
        raw = rpc.eth_call(devnet.aave.aggregators[symbol], calldata("latestAnswer()"),
                           scanned.block)
        answers[symbol] = int(decode(["int256"], raw)[0])
    return answers


def _overrides(answers: dict[str, int], devnet: Devnet, reference_8dec: int, x_8dec: int
               ) -> dict[str, Any]:
    """Every member's USD feed moved together by x / reference (what the scanner assumes)."""
    return {devnet.aave.aggregators[s]: {"stateDiff": {
        ANSWER_SLOT: "0x" + (p * x_8dec // reference_8dec).to_bytes(32, "big").hex()}}
        for s, p in answers.items()}


def _shifted(x_8dec: int, ppm: int) -> int:
    return x_8dec * (1_000_000 + ppm) // 1_000_000


def _probes(r: PositionResult) -> tuple[int, int]:
    """(healthy side, liquidatable side) at 1e-4 from the reported price."""
    assert r.liquidation_price_8dec is not None
    toward_now = 1 if r.direction == Direction.DOWN else -1
    x = r.liquidation_price_8dec
    return _shifted(x, toward_now * TOLERANCE_PPM), _shifted(x, -toward_now * TOLERANCE_PPM)


def _health_factors(rpc: DevnetRpc, v2: AaveV2Deployment, block: int,
                    checks: list[tuple[str, dict[str, Any]]]) -> list[int]:
    requests = [("eth_call", [{"to": v2.pool, "data": calldata("getUserAccountData(address)",
                                                              account)}, hex(block), overrides])
                for account, overrides in checks]
    return [int(decode(["uint256"] * 6, bytes.fromhex(r[2:]))[5]) for r in rpc.batch(requests)]


def _liquidation_call(rpc: DevnetRpc, v2: AaveV2Deployment, block: int, account: str,
                      collateral: str, debt: str, overrides: dict[str, Any]) -> str | None:
    """None when liquidationCall(collateral, debt, account, max) succeeds in eth_call, else
    the error."""
    call = {"from": LIQUIDATOR, "to": v2.pool, "data": calldata(
        "liquidationCall(address,address,address,uint256,bool)",
        collateral, debt, account, 2**256 - 1, False)}
    try:
        rpc.call("eth_call", [call, hex(block), overrides])
    except RpcCallError as exc:
        return str(exc)
    return None


def _at_risk(scanned: Scanned, axis: str) -> list[PositionResult]:
    return [r for r in scanned.results if r.axis == axis and r.status == PositionStatus.AT_RISK]


def test_every_position_is_checked(scanned: Scanned) -> None:
    """Each position has a level on some axis (checked below), or none on either: those are
    checked to stay healthy across the whole range (test_not_sensitive_positions_stay_healthy)."""
    assert len(scanned.read.positions) >= 200
    assert scanned.read.mirror_mismatches == ()
    by_account: dict[str, set[PositionStatus]] = {}
    for r in scanned.results:
        by_account.setdefault(r.account, set()).add(r.status)
    assert set(by_account) == {p.account for p in scanned.read.positions}
    for statuses in by_account.values():
        assert statuses & {PositionStatus.AT_RISK, PositionStatus.LIQUIDATABLE_NOW} or (
            statuses == {PositionStatus.NOT_SENSITIVE})
    assert PositionStatus.UNVERIFIED not in {r.status for r in scanned.results}
    assert {r.direction for r in _at_risk(scanned, "ETH")} == {Direction.DOWN, Direction.UP}


@pytest.mark.parametrize("axis", ["ETH", "BTC"])
def test_not_sensitive_positions_stay_healthy(devnet: Devnet, scanned: Scanned,
                                              axis: str) -> None:
    """At 1/100 and 100x the axis price (the solver's range) the pool still says healthy."""
    answers = _feed_answers(devnet, scanned, axis)
    reference = scanned.axes[axis].reference_price_8dec
    hedged = [r for r in scanned.results
              if r.axis == axis and r.status == PositionStatus.NOT_SENSITIVE]
    assert hedged
    checks = [(r.account, _overrides(answers, devnet, reference, x))
              for r in hedged for x in (reference // 100, reference * 100)]
    hfs = _health_factors(DevnetRpc(devnet.rpc_url), deployment(devnet), scanned.block, checks)
    assert all(hf >= WAD for hf in hfs)


@pytest.mark.parametrize("axis", ["ETH", "BTC"])
def test_pool_health_factor_agrees_with_every_price(devnet: Devnet, scanned: Scanned,
                                                    axis: str) -> None:
    v2, rpc = deployment(devnet), DevnetRpc(devnet.rpc_url)
    answers = _feed_answers(devnet, scanned, axis)
    reference = scanned.axes[axis].reference_price_8dec
    positions = _at_risk(scanned, axis)
    assert positions
    checks = [(r.account, _overrides(answers, devnet, reference, x))
              for r in positions for x in _probes(r)]
    hfs = _health_factors(rpc, v2, scanned.block, checks)
    wrong, dips = [], []
    for k, r in enumerate(positions):
        healthy_side, liquidatable_side = hfs[2 * k], hfs[2 * k + 1]
        if healthy_side < WAD:
            wrong.append((r.account, r.direction, r.liquidation_price_8dec))
        elif liquidatable_side >= WAD:
            dips.append(r.account)
    assert wrong == []
    # a floored average LT over mixed-LT collateral can dip for less than 1e-4 (see rule.py)
    assert all(scanned.position(a).curve(scanned.axes[axis]).can_dip for a in dips), dips
    assert len(dips) <= len(positions) // 50


@pytest.mark.parametrize("axis", ["ETH", "BTC"])
def test_real_liquidation_call_agrees_with_every_price(devnet: Devnet, scanned: Scanned,
                                                       axis: str) -> None:
    v2, rpc = deployment(devnet), DevnetRpc(devnet.rpc_url)
    answers = _feed_answers(devnet, scanned, axis)
    reference = scanned.axes[axis].reference_price_8dec
    checked = 0
    for r in _at_risk(scanned, axis):
        healthy_side, liquidatable_side = _probes(r)
        curve = scanned.position(r.account).curve(scanned.axes[axis])
        if not curve.healthy(liquidatable_side):
            model = curve.liquidation_call_at(liquidatable_side)
            assert model is not None
            refused = _liquidation_call(rpc, v2, scanned.block, r.account, model.collateral_asset,
                                        model.debt_asset,
                                        _overrides(answers, devnet, reference, healthy_side))
            assert refused is not None and NOT_BELOW_THRESHOLD in refused, (r.account, refused)
            assert _liquidation_call(rpc, v2, scanned.block, r.account, model.collateral_asset,
                                     model.debt_asset, _overrides(
                                         answers, devnet, reference, liquidatable_side)) is None
            checked += 1
    assert checked >= len(_at_risk(scanned, axis)) * 49 // 50


def _liquidation_event(receipt: dict[str, Any]) -> tuple[int, int]:
    (log,) = [log for log in receipt["logs"] if log["topics"][0] == LIQUIDATION_CALL_TOPIC]
    debt_raw, collateral_raw, _liquidator, _receive = decode(
        ["uint256", "uint256", "address", "bool"], bytes.fromhex(log["data"][2:]))
    return int(debt_raw), int(collateral_raw)


def test_real_liquidations_move_what_the_model_says(devnet: Devnet, scanned: Scanned) -> None:
    """Past the reported price, the read at that block and the model of one liquidationCall
    (largest collateral, largest debt, max) against the executed call's event."""
    v2, rpc, axis = deployment(devnet), DevnetRpc(devnet.rpc_url), scanned.axes["ETH"]
    answers = _feed_answers(devnet, scanned, "ETH")
    sample = [r for r in _at_risk(scanned, "ETH")
              if not scanned.position(r.account).curve(axis).can_dip]
    sample = sample[:: max(1, len(sample) // REAL_SAMPLE)][:REAL_SAMPLE]
    env = v2_env(devnet)
    symbols = {address: symbol for symbol, address in devnet.aave.tokens.items()}
    for r in sample:
        snapshot = rpc.call("evm_snapshot")
        try:
            _, past = _probes(r)
            block = set_prices(rpc, devnet.aave, {
                s: p * past // axis.reference_price_8dec for s, p in answers.items()})
            read = run(env, lambda a, b=block, acc=r.account: read_all(a, [acc], b))
            (moved,) = [a for a in resolve_axes(V2_AXES, read.assets) if a.name == "ETH"]
            (position,) = read.positions
            model = position.state.curve(moved).liquidation_call_at(moved.reference_price_8dec)
            assert model is not None, r.account
            timestamp = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
            rpc.call("evm_setNextBlockTimestamp", [timestamp])  # no interest since the read
            receipt = rpc.send(Tx(LIQUIDATOR, v2.pool, calldata(
                "liquidationCall(address,address,address,uint256,bool)", model.collateral_asset,
                model.debt_asset, r.account, 2**256 - 1, False)))
            assert _liquidation_event(receipt) == (
                model.debt_repaid_raw, model.collateral_seized_raw), (
                r.account, symbols[model.collateral_asset], symbols[model.debt_asset])
        finally:
            rpc.call("evm_revert", [snapshot])

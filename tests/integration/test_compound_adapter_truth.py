"""The scanner's Compound v3 liquidation prices judged by the Comet itself.

Both devnet Comets, 31 days after anyone touched them (stale stored indices). The adapter
reads every seeded borrower at that block and the solver prices each on the ETH and BTC
axes. For every at-risk level x the axis members' oracle answers are set (in place, at the
same block and timestamp) to x(1+1e-4) and x(1-1e-4) of today's: a real `absorb` in eth_call
reverts NotLiquidatable on the healthy side and succeeds on the other. Positions the solver
calls liquidatable now are absorbed at today's prices; every borrower is covered.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_abi.abi import decode

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.network import Devnet
from scanner.devnet.prices import ANSWER_SLOT
from scanner.devnet.rpc import DevnetRpc, calldata
from scanner.domain import Axis, Direction, PositionResult, PositionStatus
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.liquidation import liquidation_result
from tests.integration.adapter_contract import read_all, run
from tests.integration.compound_reads import NOT_LIQUIDATABLE, absorb_outcomes
from tests.integration.test_compound_v3 import COMET_AXES, comet_env

pytestmark = pytest.mark.integration

STALE_SECONDS = 31 * 86_400
ABSORBER = "0x00000000000000000000000000000000000Ab50b"
TOLERANCE_PER_10K = 1  # 1e-4


@pytest.fixture
def stale(devnet: Devnet, devnet_snapshot: DevnetRpc) -> Iterator[DevnetRpc]:
    devnet_snapshot.call("evm_increaseTime", [STALE_SECONDS])
    devnet_snapshot.mine()
    yield devnet_snapshot


def _answers(rpc: DevnetRpc, aave: AaveDeployment) -> dict[str, int]:
    out = {}
    for symbol, aggregator in aave.aggregators.items():
        (value,) = decode(["int256"], rpc.eth_call(aggregator, calldata("latestAnswer()")))
        out[symbol] = int(value)
    return out


def _write(rpc: DevnetRpc, aave: AaveDeployment, answers: dict[str, int]) -> None:
    rpc.batch([("anvil_setStorageAt", [aave.aggregators[s], ANSWER_SLOT,
                                       "0x" + a.to_bytes(32, "big").hex()])
               for s, a in answers.items()])


def _at(today: dict[str, int], axis: Axis, symbols: dict[str, str], x: int, now: int
        ) -> dict[str, int]:
    """Today's answers with every axis member scaled by x / now."""
    members = {symbols[a] for a in axis.members if a in symbols}
    return {s: (p * x // now if s in members else p) for s, p in today.items()}


@pytest.mark.parametrize("key", ["usdc", "weth"])
def test_absorb_flips_at_the_reported_price(devnet: Devnet, stale: DevnetRpc, key: str) -> None:
    env = comet_env(devnet, key)
    block = stale.block_number()
    read = run(env, lambda a: read_all(a, sorted(env.borrowers), block))
    assert {p.account for p in read.positions} == set(env.borrowers)
    # debt = borrowBalanceOf (accrued), the stored-index rule = the isLiquidatable view
    assert read.mirror_mismatches == ()
    assert read.block_timestamp - devnet_head_timestamp(stale, devnet) >= STALE_SECONDS
    axes = resolve_axes(COMET_AXES, read.assets)
    symbols = {a.address: a.symbol for a in read.assets}
    today = _answers(stale, devnet.aave)
    comet = env.market.address("comet")
    covered: dict[str, set[PositionStatus]] = {p.account: set() for p in read.positions}
    checked = 0
    for position in read.positions:
        for axis in axes:
            result = liquidation_result(position, axis)
            assert result is not None
            covered[position.account].add(result.status)
            checked += _judge(stale, devnet.aave, comet, axis, symbols, today, result, block)
    _write(stale, devnet.aave, today)
    statuses = set().union(*covered.values())
    assert PositionStatus.AT_RISK in statuses and PositionStatus.LIQUIDATABLE_NOW in statuses
    assert all(covered.values())
    assert checked >= len(read.positions)


def _judge(rpc: DevnetRpc, aave: AaveDeployment, comet: str, axis: Axis,
           symbols: dict[str, str], today: dict[str, int], result: PositionResult,
           block: int) -> int:
    """Check one result against absorb; the number of absorb pairs checked (0 or 1)."""
    if result.status is PositionStatus.LIQUIDATABLE_NOW:
        _write(rpc, aave, today)
        assert absorb_outcomes(rpc, comet, ABSORBER, [result.account], block) == ["ok"]
        return 0
    if result.status is PositionStatus.NOT_SENSITIVE:
        _write(rpc, aave, today)
        assert absorb_outcomes(rpc, comet, ABSORBER, [result.account], block) == [
            NOT_LIQUIDATABLE]
        return 0
    assert result.liquidation_price_native is not None and result.direction is not None
    x, now = result.liquidation_price_native, axis.reference_price_8dec
    above = x * (10_000 + TOLERANCE_PER_10K) // 10_000
    below = x * (10_000 - TOLERANCE_PER_10K) // 10_000
    healthy_side, liquid_side = ((above, below) if result.direction is Direction.DOWN
                                 else (below, above))
    for price, expected in ((healthy_side, NOT_LIQUIDATABLE), (liquid_side, "ok")):
        _write(rpc, aave, _at(today, axis, symbols, price, now))
        outcome = absorb_outcomes(rpc, comet, ABSORBER, [result.account], block)
        assert outcome == [expected], (result, price)
    return 1


def devnet_head_timestamp(rpc: DevnetRpc, devnet: Devnet) -> int:
    block = rpc.call("eth_getBlockByNumber", [hex(devnet.head_block), False])
    return int(block["timestamp"], 16)

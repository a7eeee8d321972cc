"""The Morpho Blue adapter against the real Morpho Blue on the devnet (shared adapter tests),
and its reported liquidation prices judged by a real `liquidate` after 31 days of interest.

Truth: for every at-risk Morpho position of a scan, the AaveOracle answers the market oracles
read are overridden (eth_call state overrides) to put the axis at x(1+1e-4) and x(1-1e-4):
a real `liquidate` must revert "position is healthy" at the first and succeed at the second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scanner.config import AxisConfig, ChainConfig, Config, MarketConfig
from scanner.devnet.morpho import MARKET_PARAMS, MorphoDeployment
from scanner.devnet.network import MORPHO_MARKET_KEY, Devnet, seeded_devnet
from scanner.devnet.prices import ANSWER_SLOT, get_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.domain import Direction, PositionResult, PositionStatus
from scanner.pipeline.scan import SnapshotOutcome, scan_market
from tests.integration.adapter_contract import AdapterContract, AdapterEnv
from tests.integration.scan_helpers import devnet_config, fresh_repo

pytestmark = pytest.mark.integration

DAYS_31 = 31 * 24 * 3600
LIQUIDATOR = "0x000000000000000000000000000000000000b10e"
HEALTHY = "position is healthy"
PPM = 100  # 1e-4


@pytest.fixture(scope="module")
def morpho_devnet() -> Iterator[Devnet]:
    with seeded_devnet(seed=5, aave_positions=100, morpho_positions=240) as net:
        yield net


def _morpho(devnet: Devnet) -> MorphoDeployment:
    assert devnet.morpho is not None
    return devnet.morpho


@pytest.fixture
def adapter_env(morpho_devnet: Devnet) -> AdapterEnv:
    devnet, morpho = morpho_devnet, _morpho(morpho_devnet)
    chain = ChainConfig(name="devnet", rpc_url=devnet.rpc_url, chain_id=31337, confirmations=0)
    market = MarketConfig(key=MORPHO_MARKET_KEY, chain="devnet", protocol="morpho-blue",
                          start_block=morpho.deploy_block,
                          addresses={"morpho": morpho.morpho,
                                     "usd_price_oracle": devnet.aave.oracle})
    borrowers = frozenset(p.borrower for p in devnet.morpho_plans)
    axes = {"ETH": AxisConfig("ETH", ("WETH", "wstETH", "rETH"), "WETH")}
    return AdapterEnv(devnet.rpc_url, chain, market, borrowers, devnet.head_block, axes)


@pytest.fixture
def move_prices(morpho_devnet: Devnet) -> Callable[[], int]:
    def move() -> int:
        rpc = DevnetRpc(morpho_devnet.rpc_url)
        weth_8dec = get_price_usd_8dec(rpc, morpho_devnet.aave, "WETH")
        return set_prices(rpc, morpho_devnet.aave, {"WETH": weth_8dec * 9 // 10})
    return move


class TestMorphoBlueAdapter(AdapterContract):
    pass


# --- truth ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aged(morpho_devnet: Devnet, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Config, SnapshotOutcome, DevnetRpc]]:
    """31 idle days later (stale stored totals), a liquidator funded, one scan of Morpho."""
    rpc = DevnetRpc(morpho_devnet.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    try:
        morpho = _morpho(morpho_devnet)
        txs = []
        for token in {m.loan_token for m in morpho.markets}:
            txs.append(Tx(LIQUIDATOR, token, calldata("mint(address,uint256)", LIQUIDATOR,
                                                      10**40)))
            txs.append(Tx(LIQUIDATOR, token, calldata("approve(address,uint256)",
                                                      morpho.morpho, 2**256 - 1)))
        rpc.send_many(txs)
        rpc.call("evm_increaseTime", [DAYS_31])
        rpc.mine()
        folder = tmp_path_factory.mktemp("morpho-truth")
        config = devnet_config(morpho_devnet, folder, f"sqlite:///{folder / 'm.db'}")
        outcome = asyncio.run(scan_market(config, config.market(MORPHO_MARKET_KEY),
                                          fresh_repo(config)))
        yield config, outcome, rpc
    finally:
        rpc.call("evm_revert", [snapshot])


def _liquidatable(devnet: Devnet, rpc: DevnetRpc, result: PositionResult, axis_8dec: int,
                  reference_8dec: int, block: int) -> bool:
    morpho = _morpho(devnet)
    market = next(m for m in morpho.markets if m.market_id.lower() == result.submarket)
    members = ("WETH", "wstETH", "rETH")
    overrides = {}
    for symbol in members:
        price = get_price_usd_8dec(rpc, devnet.aave, symbol, block)
        moved = price * axis_8dec // reference_8dec
        overrides[devnet.aave.aggregators[symbol]] = {"stateDiff": {
            "0x" + int(ANSWER_SLOT, 16).to_bytes(32, "big").hex(): f"0x{moved:064x}"}}
    call = {"from": LIQUIDATOR, "to": morpho.morpho, "gas": hex(2_000_000), "data": calldata(
        f"liquidate({MARKET_PARAMS},address,uint256,uint256,bytes)",
        market.params, result.account, 1, 0, b"")}
    try:
        rpc.call("eth_call", [call, hex(block), overrides])
    except RpcCallError as exc:
        assert HEALTHY in str(exc), exc
        return False
    return True


def test_every_reported_price_is_where_a_real_liquidate_starts(
    morpho_devnet: Devnet, aged: tuple[Config, SnapshotOutcome, DevnetRpc], tmp_path: Path
) -> None:
    _config, outcome, rpc = aged
    block = outcome.record.block
    at_risk = [r for r in outcome.results
               if r.status is PositionStatus.AT_RISK and r.axis == "ETH"]
    assert len(at_risk) >= 100, len(at_risk)
    assert {r.direction for r in at_risk} == {Direction.DOWN}  # collateral on ETH, USDC loans
    for r in at_risk:
        assert r.liquidation_price_8dec is not None and r.liquidation_price_native is not None
        reference = r.axis_price_now_8dec
        safe = r.liquidation_price_8dec * (1_000_000 + PPM) // 1_000_000
        past = r.liquidation_price_8dec * (1_000_000 - PPM) // 1_000_000
        assert not _liquidatable(morpho_devnet, rpc, r, safe, reference, block), r.account
        assert _liquidatable(morpho_devnet, rpc, r, past, reference, block), r.account
    hedged = [r for r in outcome.results if r.status is PositionStatus.NOT_SENSITIVE]
    assert hedged, "wstETH/WETH loops are not sensitive to ETH/USD"

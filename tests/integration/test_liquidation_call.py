"""The seizable amount is what a real `liquidationCall` takes, to the token base unit.

For a sample of positions the axis is moved just past the reported liquidation price; the
position is read at that block exactly as a scan reads it, liqscan's integer model of one
liquidationCall(largest collateral, largest debt, max) is evaluated, and then the real Pool
executes that call in the next block at the same timestamp (so no interest accrues between the
read and the call). The LiquidationCall event's debt repaid and collateral to the liquidator,
and the aTokens moved to the treasury, must equal the model's; a call the model says leaves
dust must revert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from eth_abi.abi import decode

from scanner.chain.rpc import RpcClient
from scanner.config import Config
from scanner.devnet.aave import AaveDeployment
from scanner.devnet.network import Devnet
from scanner.devnet.prices import set_prices
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.domain import AaveAccount, AaveMarketState, Axis, Direction, PositionStatus
from scanner.pipeline.aave_liquidation_call import LiquidationCallOutcome
from scanner.pipeline.aave_math import account_totals
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.liquidation import liquidation_call_at
from scanner.pipeline.scan import ScanOutcome
from scanner.protocols.aave_v3 import AaveV3Adapter
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan

pytestmark = pytest.mark.integration

LIQUIDATOR = "0x00000000000000000000000000000000000Ba5ed"
LIQUIDATION_CALL_TOPIC = "0xe413a321e8681d831f4dbccbca790d2952b56f977908e45be37335533e005286"
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
PAST_PPM = 100  # 1e-4 past the reported price
SAMPLE = 10


@pytest.fixture(scope="module")
def scanned(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Config, ScanOutcome]:
    folder = tmp_path_factory.mktemp("liquidation-call")
    config = devnet_config(devnet, folder, f"sqlite:///{folder / 'scan.db'}")
    return config, scan(config, fresh_repo(config))


async def _read(config: Config, block: int, accounts: Sequence[str]
                ) -> tuple[AaveMarketState, list[AaveAccount]]:
    market = config.markets[0]
    chain = config.chains[market.chain]
    async with RpcClient(chain.require_rpc_url()) as rpc:
        adapter = AaveV3Adapter(rpc, market, chain)
        addresses = await adapter.resolve(block)
        state = await adapter.read_market(addresses, block)
        return state, await adapter.read_accounts(addresses, state, accounts, block)


def _sample(outcome: ScanOutcome) -> list[tuple[str, int | None]]:
    """(account, price past its level) for at-risk longs and shorts, and liquidatable-now."""
    on_eth = sorted((r for r in outcome.results if r.axis == "ETH"), key=lambda r: r.account)
    picks: list[tuple[str, int | None]] = []
    for direction in (Direction.DOWN, Direction.UP):
        at_risk = [r for r in on_eth
                   if r.status is PositionStatus.AT_RISK and r.direction is direction]
        for r in at_risk[:: max(1, len(at_risk) // SAMPLE)][:SAMPLE]:
            assert r.liquidation_price_8dec is not None
            sign = -1 if direction is Direction.DOWN else 1
            picks.append((r.account,
                          r.liquidation_price_8dec * (1_000_000 + sign * PAST_PPM) // 1_000_000))
    now = [r for r in on_eth if r.status is PositionStatus.LIQUIDATABLE_NOW]
    picks += [(r.account, None) for r in now[:3]]
    return picks


def _fund_liquidator(rpc: DevnetRpc, aave: AaveDeployment) -> None:
    amount_raw = 10**32
    txs = []
    for token in aave.tokens.values():
        txs.append(Tx(LIQUIDATOR, token, calldata("mint(uint256)", amount_raw)))
        txs.append(Tx(LIQUIDATOR, token, calldata("approve(address,uint256)", aave.pool,
                                                  amount_raw)))
    rpc.send_many(txs)


def _move_axis(rpc: DevnetRpc, aave: AaveDeployment, axis: Axis, state: AaveMarketState,
               x_8dec: int) -> int:
    symbols = {address: symbol for symbol, address in aave.tokens.items()}
    prices = {symbols[a]: state.reserves[a].price_8dec * x_8dec // axis.reference_price_8dec
              for a in axis.members}
    return set_prices(rpc, aave, prices)


def _executed(receipt: dict[str, object], aave: AaveDeployment, model: LiquidationCallOutcome,
              borrower: str) -> tuple[int, int, int]:
    """(debt repaid, collateral to the liquidator, aTokens to the treasury) from the logs."""
    logs = receipt["logs"]
    assert isinstance(logs, list)
    (event,) = [log for log in logs if log["topics"][0] == LIQUIDATION_CALL_TOPIC]
    debt_raw, collateral_raw, _liquidator, _receive = decode(
        ["uint256", "uint256", "address", "bool"], bytes.fromhex(event["data"][2:]))
    symbol = next(s for s, a in aave.tokens.items() if a == model.collateral_asset)
    a_token = aave.a_tokens[symbol].lower()
    fee_raw = 0
    for log in logs:
        topics = log["topics"]
        if (log["address"].lower() == a_token and topics[0] == TRANSFER_TOPIC
                and int(topics[1], 16) == int(borrower, 16) and int(topics[2], 16) != 0
                and int(topics[2], 16) != int(LIQUIDATOR, 16)):
            fee_raw += int(log["data"], 16)
    return int(debt_raw), int(collateral_raw), fee_raw


def _check_one(rpc: DevnetRpc, config: Config, aave: AaveDeployment, outcome: ScanOutcome,
               account: str, past_8dec: int | None) -> str:
    base_state, _ = asyncio.run(_read(config, outcome.record.block, []))
    (axis,) = [a for a in resolve_axes(config.axes, base_state) if a.name == "ETH"]
    if past_8dec is not None:
        _move_axis(rpc, aave, axis, base_state, past_8dec)
    block = rpc.block_number()
    state, (position,) = asyncio.run(_read(config, block, [account]))
    if account_totals(position, state).health_factor_wad >= 10**18:
        return "healthy"  # a mixed-threshold dip window narrower than 1e-4 (see the truth test)
    (moved_axis,) = [a for a in resolve_axes(config.axes, state) if a.name == "ETH"]
    model = liquidation_call_at(position, state, moved_axis, moved_axis.reference_price_8dec)
    assert model is not None or state.pool_revision >= 7, "only v3.3+ refuses to leave dust"
    timestamp = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    rpc.call("evm_setNextBlockTimestamp", [timestamp])  # no interest between read and call
    collateral, debt = _call_assets(position, state, model)
    tx = Tx(LIQUIDATOR, aave.pool, calldata(
        "liquidationCall(address,address,address,uint256,bool)",
        collateral, debt, account, 2**256 - 1, False))
    if model is None:
        with pytest.raises(RpcCallError, match="reverted"):
            rpc.send(tx)
        return "dust"
    receipt = rpc.send(tx)
    assert _executed(receipt, aave, model, account) == (
        model.debt_repaid_raw, model.collateral_to_liquidator_raw, model.protocol_fee_raw
    ), account
    return "liquidated"


def _call_assets(position: AaveAccount, state: AaveMarketState,
                 model: LiquidationCallOutcome | None) -> tuple[str, str]:
    if model is not None:
        return model.collateral_asset, model.debt_asset
    # the same choice the model made: largest collateral and debt by value now
    def value(amount: int, asset: str) -> int:
        reserve = state.reserves[asset]
        return amount * reserve.price_8dec // 10**reserve.decimals
    collateral = max((r for r in position.reserves if r.supplied_raw and r.used_as_collateral),
                     key=lambda r: value(r.supplied_raw, r.asset))
    debt = max((r for r in position.reserves if r.debt_raw),
               key=lambda r: value(r.debt_raw, r.asset))
    return collateral.asset, debt.asset


def test_seizable_matches_a_real_liquidation_call(
    devnet: Devnet, devnet_snapshot: DevnetRpc, scanned: tuple[Config, ScanOutcome],
) -> None:
    config, outcome = scanned
    rpc = devnet_snapshot
    _fund_liquidator(rpc, devnet.aave)
    results: dict[str, int] = {}
    for account, past in _sample(outcome):
        snapshot = rpc.call("evm_snapshot")
        try:
            kind = _check_one(rpc, config, devnet.aave, outcome, account, past)
        finally:
            assert rpc.call("evm_revert", [snapshot]) is True
        results[kind] = results.get(kind, 0) + 1
    assert results.get("liquidated", 0) >= SAMPLE, results

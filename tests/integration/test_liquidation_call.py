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
from scanner.devnet.network import AAVE36_MARKET_KEY, AAVE_MARKET_KEY, Devnet
from scanner.devnet.prices import set_prices
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.devnet.seed_aave import supply_txs
from scanner.domain import Asset, Axis, Direction, PositionStatus
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.scan import SnapshotOutcome as ScanOutcome
from scanner.pipeline.scan import scan_market
from scanner.protocols.aave_v3.generic_logic import account_totals
from scanner.protocols.aave_v3.liquidation_call import LiquidationCallOutcome
from scanner.protocols.aave_v3.read import AaveV3Adapter
from scanner.protocols.aave_v3.rule import liquidation_call_at
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState
from tests.integration.scan_helpers import devnet_config, fresh_repo

pytestmark = pytest.mark.integration

LIQUIDATOR = "0x00000000000000000000000000000000000Ba5ed"
LIQUIDATION_CALL_TOPIC = "0xe413a321e8681d831f4dbccbca790d2952b56f977908e45be37335533e005286"
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
MUST_NOT_LEAVE_DUST = "0xb629b0e4"  # Errors.MustNotLeaveDust() of v3.6
PAST_PPM = 100  # 1e-4 past the reported price
SAMPLE = 10


MARKETS = (AAVE_MARKET_KEY, AAVE36_MARKET_KEY)
PROTOCOL_FEE_BPS = 1_000  # 10% of the bonus to the treasury, set on every reserve for the test


@pytest.fixture(scope="module")
def config(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Config:
    folder = tmp_path_factory.mktemp("liquidation-call")
    return devnet_config(devnet, folder, f"sqlite:///{folder / 'scan.db'}")


def _deployment(devnet: Devnet, key: str) -> AaveDeployment:
    deployment = devnet.aave if key == AAVE_MARKET_KEY else devnet.aave36
    assert deployment is not None, f"the session devnet has market {key}"
    return deployment


def _scan(config: Config, key: str) -> ScanOutcome:
    return asyncio.run(scan_market(config, config.market(key), fresh_repo(config)))


def _set_protocol_fees(rpc: DevnetRpc, aave: AaveDeployment) -> None:
    rpc.send_many([
        Tx(aave.deployer, aave.configurator, calldata(
            "setLiquidationProtocolFee(address,uint256)", token, PROTOCOL_FEE_BPS))
        for token in (aave.tokens[symbol] for symbol in aave.a_tokens)
    ])


async def _read(config: Config, key: str, block: int, accounts: Sequence[str]
                ) -> tuple[AaveMarketState, list[AaveAccount]]:
    market = config.market(key)
    chain = config.chains[market.chain]
    async with RpcClient(chain.require_rpc_url()) as rpc:
        adapter = AaveV3Adapter(rpc, market, chain)
        addresses = await adapter.resolve(block)
        state = await adapter.read_market(addresses, block)
        return state, await adapter.read_accounts(addresses, state, accounts, block)


def _assets(state: AaveMarketState) -> list[Asset]:
    return [Asset(r.asset, r.symbol, r.price_8dec) for r in state.reserves.values()]


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
    # eMode positions too, where the eMode bonus applies
    emode = [r for r in on_eth if r.status is PositionStatus.AT_RISK and r.emode_category
             and r.direction is Direction.DOWN and r.account not in {a for a, _ in picks}]
    for r in emode[:3]:
        assert r.liquidation_price_8dec is not None
        picks.append((r.account, r.liquidation_price_8dec * (1_000_000 - PAST_PPM) // 1_000_000))
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


def _check_one(rpc: DevnetRpc, config: Config, key: str, aave: AaveDeployment,
               outcome: ScanOutcome, account: str, past_8dec: int | None) -> str:
    base_state, _ = asyncio.run(_read(config, key, outcome.record.block, []))
    (axis,) = [a for a in resolve_axes(config.axes, _assets(base_state)) if a.name == "ETH"]
    if past_8dec is not None:
        _move_axis(rpc, aave, axis, base_state, past_8dec)
    block = rpc.block_number()
    state, (position,) = asyncio.run(_read(config, key, block, [account]))
    if account_totals(position, state).health_factor_wad >= 10**18:
        return "healthy"  # a mixed-threshold dip window narrower than 1e-4 (see the truth test)
    (moved_axis,) = [a for a in resolve_axes(config.axes, _assets(state)) if a.name == "ETH"]
    model = liquidation_call_at(position, state, moved_axis, moved_axis.reference_price_8dec)
    assert model is not None or state.pool_revision >= 7, "only v3.3+ refuses to leave dust"
    timestamp = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    rpc.call("evm_setNextBlockTimestamp", [timestamp])  # no interest between read and call
    collateral, debt = _call_assets(position, state, model)
    tx = Tx(LIQUIDATOR, aave.pool, calldata(
        "liquidationCall(address,address,address,uint256,bool)",
        collateral, debt, account, 2**256 - 1, False))
    if model is None:
        call = {"from": tx.sender, "to": tx.to, "data": tx.data}
        with pytest.raises(RpcCallError, match=MUST_NOT_LEAVE_DUST):
            rpc.call("eth_call", [call])
        return "dust"
    receipt = rpc.send(tx)
    assert _executed(receipt, aave, model, account) == (
        model.debt_repaid_raw, model.collateral_to_liquidator_raw, model.protocol_fee_raw
    ), account
    assert model.protocol_fee_raw > 0, "every reserve has a protocol fee in this test"
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


@pytest.mark.parametrize("key", MARKETS)
def test_seizable_matches_a_real_liquidation_call(
    devnet: Devnet, devnet_snapshot: DevnetRpc, config: Config, key: str
) -> None:
    rpc, aave = devnet_snapshot, _deployment(devnet, key)
    _set_protocol_fees(rpc, aave)
    _fund_liquidator(rpc, aave)
    outcome = _scan(config, key)
    emode_of = {r.account: r.emode_category for r in outcome.results}
    results: dict[str, int] = {}
    for account, past in _sample(outcome):
        snapshot = rpc.call("evm_snapshot")
        try:
            kind = _check_one(rpc, config, key, aave, outcome, account, past)
        finally:
            assert rpc.call("evm_revert", [snapshot]) is True
        if kind == "liquidated" and emode_of[account]:
            kind = "liquidated in eMode"  # the eMode bonus applied
        results[kind] = results.get(kind, 0) + 1
    assert results.get("liquidated", 0) + results.get("liquidated in eMode", 0) >= SAMPLE
    if key == AAVE36_MARKET_KEY:  # v3.0's eMode positions are LST loops, not at risk on ETH
        assert results.get("liquidated in eMode", 0) >= 1, results



DUST_BORROWER = "0x000000000000000000000000000000000000d057"


@pytest.mark.parametrize(("key", "expected"), [(AAVE_MARKET_KEY, "liquidated"),
                                               (AAVE36_MARKET_KEY, "dust")])
def test_leaving_dust_is_refused_from_v3_3_on(
    devnet: Devnet, devnet_snapshot: DevnetRpc, config: Config, key: str, expected: str
) -> None:
    """$6,000 of WETH against $2,100 of USDC and $1,900 of USDT, moved to HF ~0.97: half the
    total debt leaves $100 of USDC. v3.0 liquidates half the USDC; v3.3+ refuses to leave
    less than $1,000 (`MustNotLeaveDust`), and the model says so."""
    rpc, aave = devnet_snapshot, _deployment(devnet, key)
    _set_protocol_fees(rpc, aave)
    _fund_liquidator(rpc, aave)
    state, _ = asyncio.run(_read(config, key, rpc.block_number(), []))
    price = {r.symbol: r.price_8dec for r in state.reserves.values()}
    weth_raw = 6_000 * 10**8 * 10**18 // price["WETH"]
    txs = supply_txs(aave.pool, aave.tokens["WETH"], DUST_BORROWER, weth_raw)
    for symbol, usd in (("USDC", 2_100), ("USDT", 1_900)):
        txs.append(Tx(DUST_BORROWER, aave.pool, calldata(
            "borrow(address,uint256,uint256,uint16,address)", aave.tokens[symbol],
            usd * 10**8 * 10**6 // price[symbol], 2, 0, DUST_BORROWER)))
    rpc.send_many(txs)
    scanned = _scan(config, key)
    (axis,) = [a for a in scanned.axes if a.name == "ETH"]
    target_8dec = axis.reference_price_8dec * 7_838 // 10_000  # HF ~0.97 at LT 82.5%
    kind = _check_one(rpc, config, key, aave, scanned, DUST_BORROWER, target_8dec)
    assert kind == expected

"""The devnet Comets as seeded: positions as planned, the logs a scanner discovers them by,
feeds that follow `set_prices`, and asset parameters as the spec and the real packing say."""

from __future__ import annotations

import pytest
from eth_abi.abi import decode
from eth_utils.crypto import keccak

from scanner.devnet.compound import CometMarket
from scanner.devnet.compound_spec import load_compound_spec
from scanner.devnet.network import Devnet
from scanner.devnet.prices import set_prices
from scanner.devnet.rpc import DevnetRpc, calldata
from tests.integration.compound_reads import read_accounts, read_comet, views

pytestmark = pytest.mark.integration

COMETS = ("usdc", "weth")


def _topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


def _market(devnet: Devnet, key: str) -> CometMarket:
    assert devnet.compound is not None
    return devnet.compound.comet(key)


@pytest.mark.parametrize("key", COMETS)
def test_positions_are_open_as_planned(devnet: Devnet, devnet_rpc: DevnetRpc, key: str) -> None:
    market = _market(devnet, key)
    plans = [p for p in devnet.compound_plans if p.comet == key]
    accounts = [p.account for p in plans]
    state = read_comet(devnet_rpc, market.comet, devnet.head_block)
    users = read_accounts(devnet_rpc, market.comet, state.assets, accounts, devnet.head_block)
    debts = views(devnet_rpc, market.comet, "borrowBalanceOf(address)", accounts,
                  devnet.head_block)
    liquidatable = views(devnet_rpc, market.comet, "isLiquidatable(address)", accounts,
                         devnet.head_block)
    for plan, user, debt, is_liq in zip(plans, users, debts, liquidatable, strict=True):
        # principal rounds up on borrow, so the debt is never below what was borrowed
        assert plan.borrow_raw <= debt <= plan.borrow_raw * 1_001 // 1_000 + 1
        held = {market.collateral_tokens[s].lower(): amount for s, amount in plan.collateral}
        assert {a: b for a, b in user.collateral_raw.items() if b} == held
        assert is_liq is (plan.kind == "liquidatable"), plan


def _accounts_in_logs(rpc: DevnetRpc, market: CometMarket, event: str,
                      position: int) -> set[str]:
    """Every address at topic `position` of `event` logs of this Comet."""
    logs = rpc.call("eth_getLogs", [{"address": market.comet, "topics": [_topic(event)],
                                     "fromBlock": hex(market.deploy_block), "toBlock": "latest"}])
    return {"0x" + log["topics"][position][-40:] for log in logs}


@pytest.mark.parametrize("key", COMETS)
def test_discovery_logs_of_each_route(devnet: Devnet, devnet_rpc: DevnetRpc, key: str) -> None:
    market = _market(devnet, key)
    plans = [p for p in devnet.compound_plans if p.comet == key and p.borrow_raw]
    withdrawn = _accounts_in_logs(devnet_rpc, market, "Withdraw(address,address,uint256)", 1)
    supplied = _accounts_in_logs(
        devnet_rpc, market, "SupplyCollateral(address,address,address,uint256)", 2)
    transferred = _accounts_in_logs(
        devnet_rpc, market, "TransferCollateral(address,address,address,uint256)", 2)
    for plan in plans:
        account = plan.account.lower()
        # borrowing through transfer emits no Withdraw: only the collateral logs find them
        assert (account in withdrawn) is (plan.borrow_route == "withdraw"), plan
        assert (account in supplied) is (plan.collateral_route != "transfer_asset"), plan
        assert (account in transferred) is (plan.collateral_route == "transfer_asset"), plan
    assert {p.borrow_route for p in plans} == {"withdraw", "transfer"}


def test_comet_feeds_follow_set_prices(devnet: Devnet, devnet_snapshot: DevnetRpc) -> None:
    usdc, weth = _market(devnet, "usdc"), _market(devnet, "weth")
    block = set_prices(devnet_snapshot, devnet.aave, {"WETH": 2_000 * 10**8,
                                                      "wstETH": 2_500 * 10**8})
    state_usdc = read_comet(devnet_snapshot, usdc.comet, block)
    state_weth = read_comet(devnet_snapshot, weth.comet, block)
    weth_token, wsteth_token = (usdc.collateral_tokens["WETH"].lower(),
                                weth.collateral_tokens["wstETH"].lower())
    assert state_usdc.prices.collateral_8dec[weth_token] == 2_000 * 10**8
    assert state_usdc.prices.base_8dec == 10**8
    # the WETH Comet prices in ETH: wstETH = 2500 / 2000, and its base is exactly 1
    assert state_weth.prices.collateral_8dec[wsteth_token] == 125 * 10**6
    assert state_weth.prices.base_8dec == 10**8


@pytest.mark.parametrize("key", COMETS)
def test_asset_info_is_the_spec(devnet: Devnet, devnet_rpc: DevnetRpc, key: str) -> None:
    market = _market(devnet, key)
    spec = next(c for c in load_compound_spec().comets if c.key == key)
    for offset, asset in enumerate(spec.assets):
        raw = devnet_rpc.eth_call(market.comet, calldata("getAssetInfo(uint8)", offset))
        info = decode(["(uint8,address,address,uint64,uint64,uint64,uint64,uint128)"], raw)[0]
        decimals = devnet.aave.decimals[asset.symbol]
        assert info == (offset, market.collateral_tokens[asset.symbol].lower(),
                        market.feeds[asset.symbol].lower(), 10**decimals,
                        asset.borrow_collateral_factor_wad, asset.liquidate_collateral_factor_wad,
                        asset.liquidation_factor_wad, asset.supply_cap_whole * 10**decimals)

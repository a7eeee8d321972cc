"""The devnet's Aave v2 market as the adapter tests see it (shared by test_aave_v2*.py)."""

from __future__ import annotations

from scanner.config import AxisConfig, ChainConfig, MarketConfig
from scanner.devnet.aave2 import AaveV2Deployment
from scanner.devnet.network import AAVE2_MARKET_KEY, Devnet
from tests.integration.adapter_contract import AdapterEnv

V2_AXES = {"ETH": AxisConfig("ETH", ("WETH", "wstETH", "rETH"), "WETH"),
           "BTC": AxisConfig("BTC", ("WBTC",), "WBTC")}


def deployment(devnet: Devnet) -> AaveV2Deployment:
    assert devnet.aave2 is not None, "the session devnet has the Aave v2 market"
    return devnet.aave2


def v2_env(devnet: Devnet) -> AdapterEnv:
    v2 = deployment(devnet)
    chain = ChainConfig(name="devnet", rpc_url=devnet.rpc_url, chain_id=31337, confirmations=0)
    market = MarketConfig(key=AAVE2_MARKET_KEY, chain="devnet", protocol="aave-v2",
                          start_block=v2.deploy_block,
                          addresses={"lending_pool_addresses_provider": v2.provider,
                                     "eth_usd_feed": v2.eth_usd_feed})
    borrowers = frozenset(p.account for p in devnet.aave2_plans if p.borrows)
    return AdapterEnv(devnet.rpc_url, chain, market, borrowers, devnet.head_block, V2_AXES)

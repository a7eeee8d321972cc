"""The Compound v3 adapter against both devnet Comets (our own DevnetComet, see its header):
the shared adapter contract, discovery of every borrower route, and the ETH-priced Comet's
USD mapping."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_utils.address import to_checksum_address

from scanner.config import AxisConfig, ChainConfig, MarketConfig
from scanner.devnet.compound import CometMarket
from scanner.devnet.network import Devnet
from scanner.devnet.prices import get_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc
from scanner.protocols.compound_v3 import discover
from tests.integration.adapter_contract import AdapterContract, AdapterEnv, read_all, run

pytestmark = pytest.mark.integration

COMET_AXES = {"ETH": AxisConfig("ETH", ("WETH", "wstETH", "rETH"), "WETH"),
              "BTC": AxisConfig("BTC", ("WBTC",), "WBTC")}


def comet_market(devnet: Devnet, key: str) -> tuple[CometMarket, MarketConfig]:
    """The devnet Comet `key` as a [[markets]] entry (the WETH Comet prices in ETH: its USD
    feed is the USDC Comet's WETH/USD feed)."""
    assert devnet.compound is not None
    comet = devnet.compound.comet(key)
    addresses = {"comet": comet.comet}
    if comet.quote != "USD":
        addresses["quote_usd_feed"] = devnet.compound.comet("usdc").feeds[comet.quote]
    return comet, MarketConfig(key=f"compound-v3-{key}", chain="devnet", protocol="compound-v3",
                               start_block=comet.deploy_block, addresses=addresses)


def comet_env(devnet: Devnet, key: str) -> AdapterEnv:
    _, market = comet_market(devnet, key)
    chain = ChainConfig(name="devnet", rpc_url=devnet.rpc_url, chain_id=31337, confirmations=0)
    borrowers = frozenset(p.account for p in devnet.compound_plans
                          if p.comet == key and p.borrow_raw > 0)
    return AdapterEnv(devnet.rpc_url, chain, market, borrowers, devnet.head_block, COMET_AXES)


@pytest.fixture(params=["usdc", "weth"])
def adapter_env(request: pytest.FixtureRequest, devnet: Devnet) -> AdapterEnv:
    return comet_env(devnet, str(request.param))


@pytest.fixture
def move_prices(devnet: Devnet, devnet_snapshot: DevnetRpc) -> Callable[[], int]:
    def move() -> int:
        today = {s: get_price_usd_8dec(devnet_snapshot, devnet.aave, s) for s in ("WETH", "WBTC")}
        return set_prices(devnet_snapshot, devnet.aave, {s: p * 9 // 10 for s, p in today.items()})
    return move


class TestCompoundV3Adapter(AdapterContract):
    def test_at_least_200_borrowers_of_every_route(self, adapter_env: AdapterEnv,
                                                   devnet: Devnet) -> None:
        key = adapter_env.market.key.removeprefix("compound-v3-")
        plans = [p for p in devnet.compound_plans if p.comet == key and p.borrow_raw > 0]
        assert len(plans) >= 200
        # borrowing by transfer (no Withdraw log) and collateral by transferAsset (only a
        # TransferCollateral names the borrower) are both seeded, so discovery is tested on them
        assert {p.borrow_route for p in plans} == {"withdraw", "transfer"}
        assert {p.collateral_route for p in plans} == {"supply", "supply_to", "transfer_asset"}
        read = run(adapter_env, lambda a: read_all(a, sorted(adapter_env.borrowers),
                                                   adapter_env.head_block))
        assert {p.account for p in read.positions} == set(adapter_env.borrowers)
        assert read.mirror_mismatches == ()


def test_weth_comet_assets_are_in_usd(devnet: Devnet) -> None:
    """The ETH-priced Comet's assets carry USD prices: its ETH prices times the WETH/USD feed,
    equal (to the feed's rounding) to the Aave oracle's USD prices the feeds derive from."""
    env = comet_env(devnet, "weth")
    read = run(env, lambda a: read_all(a, [], env.head_block))
    rpc = DevnetRpc(devnet.rpc_url)
    by_symbol = {a.symbol: a.price_8dec for a in read.assets}
    assert by_symbol["WETH"] == get_price_usd_8dec(rpc, devnet.aave, "WETH", env.head_block)
    for symbol in ("wstETH", "WBTC"):
        aave = get_price_usd_8dec(rpc, devnet.aave, symbol, env.head_block)
        assert abs(by_symbol[symbol] - aave) <= aave // 10**6 + 1


@pytest.mark.parametrize("key", ["usdc", "weth"])
def test_collateral_logs_alone_catch_every_borrower(devnet: Devnet, key: str) -> None:
    """Withdraw misses the borrowers who borrowed by `transfer`; the collateral receivers of
    SupplyCollateral and TransferCollateral include every borrower (no debt without collateral),
    and SupplyCollateral alone misses those whose collateral came by `transferAsset`."""
    env = comet_env(devnet, key)
    rpc = DevnetRpc(devnet.rpc_url)
    comet = env.market.address("comet")

    def accounts(topic: str) -> set[str]:
        logs = rpc.call("eth_getLogs", [{"address": comet, "topics": [topic],
                                         "fromBlock": hex(env.market.start_block),
                                         "toBlock": hex(env.head_block)}])
        index = discover.ACCOUNT_TOPIC[topic]
        return {to_checksum_address("0x" + log["topics"][index][-40:]) for log in logs}

    supplied = accounts(discover.SUPPLY_COLLATERAL_TOPIC)
    transferred = accounts(discover.TRANSFER_COLLATERAL_TOPIC)
    withdrew = accounts(discover.WITHDRAW_TOPIC)
    plans = [p for p in devnet.compound_plans if p.comet == key and p.borrow_raw > 0]
    by_transfer = {p.account for p in plans if p.borrow_route == "transfer"}
    by_transfer_asset = {p.account for p in plans if p.collateral_route == "transfer_asset"}
    assert by_transfer and not by_transfer & withdrew
    assert by_transfer_asset and not by_transfer_asset & supplied
    assert env.borrowers <= supplied | transferred

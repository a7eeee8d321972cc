"""The Aave v3 adapter against the real Aave V3 Pool on the devnet."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from scanner.config import AxisConfig, ChainConfig, MarketConfig
from scanner.devnet.network import Devnet, seeded_devnet
from scanner.devnet.prices import get_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc
from tests.integration.adapter_contract import AdapterContract, AdapterEnv

pytestmark = pytest.mark.integration


@pytest.fixture
def devnet() -> Iterator[Devnet]:
    with seeded_devnet(seed=5, aave_positions=150) as net:
        yield net


@pytest.fixture
def adapter_env(devnet: Devnet) -> AdapterEnv:
    chain = ChainConfig(name="devnet", rpc_url=devnet.rpc_url, chain_id=31337, confirmations=0)
    market = MarketConfig(key="aave-v3-devnet", chain="devnet", protocol="aave-v3",
                          start_block=devnet.aave.deploy_block,
                          addresses={"pool_addresses_provider": devnet.aave.provider})
    borrowers = frozenset(p.account for p in devnet.aave_plans if p.borrows)
    axes = {"ETH": AxisConfig("ETH", ("WETH", "wstETH", "rETH"), "WETH")}
    return AdapterEnv(devnet.rpc_url, chain, market, borrowers, devnet.head_block, axes)


@pytest.fixture
def move_prices(devnet: Devnet) -> Callable[[], int]:
    def move() -> int:
        rpc = DevnetRpc(devnet.rpc_url)
        weth_8dec = get_price_usd_8dec(rpc, devnet.aave, "WETH")
        return set_prices(rpc, devnet.aave, {"WETH": weth_8dec * 9 // 10})
    return move


class TestAaveV3Adapter(AdapterContract):
    pass

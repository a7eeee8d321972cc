"""An Aave v3 fork (issue 10 item 5): a fork sharing Aave v3's ABI is scanned through the
registry under its own protocol name. The devnet's second Aave market (the real v3.6 bytecode)
is configured as `protocol = "spark"` next to itself as `aave-v3`: the shared adapter contract
holds for it, and one snapshot of both gives the fork's rows the fork's name and otherwise
exactly the same answers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.config import AxisConfig, ChainConfig, MarketConfig
from scanner.devnet.network import AAVE36_MARKET_KEY, Devnet
from scanner.devnet.prices import get_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc
from tests.integration.adapter_contract import AdapterContract, AdapterEnv
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan

pytestmark = pytest.mark.integration

FORK_KEY = "spark-devnet"


def _fork_market(devnet: Devnet) -> MarketConfig:
    assert devnet.aave36 is not None
    return MarketConfig(key=FORK_KEY, chain="devnet", protocol="spark",
                        start_block=devnet.aave36.deploy_block,
                        addresses={"pool_addresses_provider": devnet.aave36.provider})


@pytest.fixture
def adapter_env(devnet: Devnet) -> AdapterEnv:
    chain = ChainConfig(name="devnet", rpc_url=devnet.rpc_url, chain_id=31337, confirmations=0)
    borrowers = frozenset(p.account for p in devnet.aave36_plans if p.borrows)
    axes = {"ETH": AxisConfig("ETH", ("WETH", "wstETH", "rETH"), "WETH")}
    return AdapterEnv(devnet.rpc_url, chain, _fork_market(devnet), borrowers, devnet.head_block,
                      axes)


@pytest.fixture
def move_prices(devnet: Devnet, devnet_snapshot: DevnetRpc) -> Callable[[], int]:
    def move() -> int:
        weth_8dec = get_price_usd_8dec(devnet_snapshot, devnet.aave, "WETH")
        return set_prices(devnet_snapshot, devnet.aave, {"WETH": weth_8dec * 9 // 10})
    return move


class TestForkUnderItsOwnName(AdapterContract):
    pass


def test_fork_and_aave_rows_agree_in_one_snapshot(devnet: Devnet, tmp_path: Path) -> None:
    config = devnet_config(devnet, tmp_path, f"sqlite:///{tmp_path / 'fork.db'}")
    (aave36,) = [m for m in config.markets if m.key == AAVE36_MARKET_KEY]
    config = dataclasses.replace(config, markets=(aave36, _fork_market(devnet)))
    outcome = scan(config, fresh_repo(config))
    assert outcome.record.market_keys == (AAVE36_MARKET_KEY, FORK_KEY)
    rows = {key: {(r.axis, r.account): r for r in outcome.results if r.market_key == key}
            for key in (AAVE36_MARKET_KEY, FORK_KEY)}
    assert rows[FORK_KEY] and rows[FORK_KEY].keys() == rows[AAVE36_MARKET_KEY].keys()
    for key, fork in rows[FORK_KEY].items():
        assert fork.protocol == "spark"
        same = dataclasses.replace(rows[AAVE36_MARKET_KEY][key], market_key=FORK_KEY,
                                   protocol="spark")
        assert fork == same, key

"""Shared devnet fixtures for integration tests (a real anvil; never mocked, never skipped).

- `devnet`           (session) seed 7: 600 Aave v3.0 positions + 100 Morpho positions + one
                     planted WETH cluster, the Aave v3.6 market with 300 positions, and 220
                     borrowers on each of the two Comets, 240 Aave v2 borrowers over
                     51 days of interest, and 80 Maker urns per ilk (ETH-A, WSTETH-A,
                     WBTC-A), 240 Liquity v1 troves, Uniswap v3 pools (WETH/USDC,
                     wstETH/WETH, WBTC/USDC) at the final oracle prices, and 110 Liquity v2
                     troves per live branch (WETH, wstETH) plus a shut-down rETH branch.
                     Built once, then reloaded from the cache (.cache/devnet/ or
                     LIQSCAN_CACHE_DIR) on later runs.
- `devnet_rpc`       (session) a DevnetRpc on it.
- `devnet_snapshot`  (function) the same rpc, with evm_snapshot before the test and evm_revert
                     after it: use it in every test that sends transactions or moves prices.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scanner.devnet.network import Devnet, seeded_devnet
from scanner.devnet.population import ClusterSpec
from scanner.devnet.rpc import DevnetRpc

DEVNET_SEED = 7
DEVNET_AAVE_POSITIONS = 600
DEVNET_MORPHO_POSITIONS = 100
DEVNET_AAVE36_POSITIONS = 300
DEVNET_COMPOUND_POSITIONS_PER_COMET = 220
DEVNET_AAVE2_POSITIONS = 240
DEVNET_MAKER_URNS_PER_ILK = 80
DEVNET_LIQUITY1_TROVES = 240
DEVNET_LIQUITY2_TROVES_PER_BRANCH = 110
DEVNET_CLUSTER = ClusterSpec(asset="WETH", total_usd=3_000_000, low_usd=2_300, high_usd=2_400)


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    with seeded_devnet(seed=DEVNET_SEED, aave_positions=DEVNET_AAVE_POSITIONS,
                       morpho_positions=DEVNET_MORPHO_POSITIONS,
                       clusters=(DEVNET_CLUSTER,),
                       aave36_positions=DEVNET_AAVE36_POSITIONS,
                       compound_positions=DEVNET_COMPOUND_POSITIONS_PER_COMET,
                       aave2_positions=DEVNET_AAVE2_POSITIONS,
                       maker_positions=DEVNET_MAKER_URNS_PER_ILK, uniswap=True,
                       liquity1_troves=DEVNET_LIQUITY1_TROVES,
                       liquity2_positions=DEVNET_LIQUITY2_TROVES_PER_BRANCH) as net:
        yield net


@pytest.fixture(scope="session")
def devnet_rpc(devnet: Devnet) -> DevnetRpc:
    return DevnetRpc(devnet.rpc_url)


@pytest.fixture
def devnet_snapshot(devnet_rpc: DevnetRpc) -> Iterator[DevnetRpc]:
    snapshot_id = devnet_rpc.call("evm_snapshot")
    try:
        yield devnet_rpc
    finally:
        if devnet_rpc.call("evm_revert", [snapshot_id]) is not True:
            raise AssertionError(f"evm_revert({snapshot_id}) failed: later tests see changed state")

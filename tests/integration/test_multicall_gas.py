"""aggregate3 batches whose gas estimates were too low are split, not failed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from scanner.chain.abi import decode_output, encode_call, load_abi
from scanner.chain.multicall import Call, aggregate3
from scanner.chain.rpc import RpcClient
from scanner.devnet.network import Devnet, seeded_devnet

pytestmark = pytest.mark.integration
POOL = load_abi("aave-v3", "Pool")


@pytest.fixture(scope="module")
def devnet() -> Iterator[Devnet]:
    with seeded_devnet(seed=5, aave_positions=150) as net:
        yield net


async def _account_data(devnet: Devnet, gas_estimate: int, gas_limit: int) -> list[tuple[int, ...]]:
    accounts = [plan.account for plan in devnet.aave_plans[:60]]
    calls = [Call(devnet.aave.pool, encode_call(POOL, "getUserAccountData", [a]), False,
                  gas_estimate) for a in accounts]
    async with RpcClient(devnet.rpc_url) as rpc:
        results = await aggregate3(rpc, calls, devnet.head_block, gas_limit_per_batch=gas_limit)
        assert rpc.stats.http_posts >= 1
    return [decode_output(POOL, "getUserAccountData", r.data) for r in results]


def test_underestimated_batch_is_split_until_it_fits(devnet: Devnet) -> None:
    # 60 x getUserAccountData costs several million gas; claiming 1 gas each puts them all in
    # one batch capped at 1.5M gas, which runs out of gas: the halves are retried.
    generous = asyncio.run(_account_data(devnet, 400_000, 15_000_000))
    squeezed = asyncio.run(_account_data(devnet, 1, 1_500_000))
    assert squeezed == generous
    assert all(data[1] > 0 for data in generous)  # every planned account has debt

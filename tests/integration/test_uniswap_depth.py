"""The tick walker against the real Uniswap v3 pools on a small dedicated devnet.

For every pool, in both directions, sizes from a fraction of the nearest range to several
ranges deep: the walker's amountOut, sqrtPriceX96, tick and liquidity after must equal those of a
real swap (SwapRouter.exactInputSingle, sent and reverted) to the unit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi.abi import decode

from scanner.cascade.depth import DepthModel
from scanner.cascade.depth_build import build_depth_model
from scanner.cascade.depth_models import CombinedDepth, human_price
from scanner.cascade.uniswap_read import read_pools
from scanner.cascade.uniswap_v3 import PoolState, SwapResult, moved_to, swap_exact_input
from scanner.cascade.v3math import sqrt_x96_at_tick
from scanner.chain.rpc import RpcClient
from scanner.config import Config, load_config
from scanner.devnet.network import Devnet, seeded_devnet, write_config
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.uniswap import FAR_DEADLINE

TRADER = "0x00000000000000000000000000000000000077AD"
SWAP_TOPIC = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"
EXACT_INPUT_SINGLE = ("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,"
                      "uint160))")
# USD notionals sold: inside the first range, across it, across most of one side's depth
NOTIONALS_USD = {"WETH/USDC": (20_000, 6_000_000, 18_000_000),
                 "wstETH/WETH": (20_000, 6_000_000, 10_000_000),
                 "rETH/WETH": (20_000, 3_000_000, 5_000_000),
                 "WBTC/USDC": (20_000, 6_000_000, 9_000_000)}


@pytest.fixture(scope="module")
def small_devnet() -> Iterator[Devnet]:
    with seeded_devnet(seed=7, aave_positions=0, uniswap=True) as net:
        yield net


@pytest.fixture(scope="module")
def pools(small_devnet: Devnet) -> dict[str, PoolState]:
    assert small_devnet.uniswap is not None
    names = list(small_devnet.uniswap.pools)
    block = DevnetRpc(small_devnet.rpc_url).block_number()

    async def read() -> list[PoolState]:
        async with RpcClient(small_devnet.rpc_url) as rpc:
            return await read_pools(rpc, [small_devnet.uniswap.pools[n] for n in names], block)

    return dict(zip(names, asyncio.run(read()), strict=True))


def _swap_txs(net: Devnet, pool: PoolState, zero_for_one: bool, amount_in: int,
              limit_x96: int = 0) -> list[Tx]:
    assert net.uniswap is not None
    router = net.uniswap.swap_router
    token_in, token_out = ((pool.token0, pool.token1) if zero_for_one
                           else (pool.token1, pool.token0))
    return [
        Tx(TRADER, token_in, calldata("mint(uint256)", amount_in)),
        Tx(TRADER, token_in, calldata("approve(address,uint256)", router, amount_in)),
        Tx(TRADER, router, calldata(EXACT_INPUT_SINGLE, (
            token_in, token_out, pool.fee_pips, TRADER, FAR_DEADLINE, amount_in, 0, limit_x96))),
    ]


def _real_swap(net: Devnet, pool: PoolState, zero_for_one: bool, amount_in: int,
               before: list[Tx] | None = None) -> SwapResult:
    """Send the swap through the real router (after `before`), read its Swap event, revert."""
    rpc = DevnetRpc(net.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    try:
        if before:
            rpc.send_many(before)
        receipts = rpc.send_many(_swap_txs(net, pool, zero_for_one, amount_in))
    finally:
        assert rpc.call("evm_revert", [snapshot]) is True
    (log,) = [lg for lg in receipts[2]["logs"] if lg["topics"][0] == SWAP_TOPIC]
    amount0, amount1, sqrt_x96, liquidity, tick = decode(
        ["int256", "int256", "uint160", "uint128", "int24"], bytes.fromhex(log["data"][2:]))
    amount_in_real, amount_out = (amount0, -amount1) if zero_for_one else (amount1, -amount0)
    return SwapResult(amount_in_real, amount_out, sqrt_x96, tick, liquidity)


def _amount_in(net: Devnet, pool: PoolState, zero_for_one: bool, notional_usd: int) -> int:
    token = pool.token0 if zero_for_one else pool.token1
    symbol = net.aave.symbol_of(token)
    price_usd = {"USDC": 1, "WETH": 3000, "wstETH": 3540, "rETH": 3345,
                 "WBTC": 60000}[symbol]
    return notional_usd * 10**net.aave.decimals[symbol] // price_usd


@pytest.mark.parametrize("name", ["WETH/USDC", "wstETH/WETH", "rETH/WETH", "WBTC/USDC"])
@pytest.mark.parametrize("zero_for_one", [True, False])
def test_walker_equals_real_swap(small_devnet: Devnet, pools: dict[str, PoolState], name: str,
                                 zero_for_one: bool) -> None:
    pool = pools[name]
    crossed = []
    for notional_usd in NOTIONALS_USD[name]:
        amount_in = _amount_in(small_devnet, pool, zero_for_one, notional_usd)
        predicted = swap_exact_input(pool, zero_for_one, amount_in)
        assert predicted == _real_swap(small_devnet, pool, zero_for_one, amount_in)
        crossed.append(_ticks_crossed(pool, predicted.tick_after))
    # the sizes really do exercise the walk: none, then one and several initialized ticks
    assert crossed[0] == 0 and crossed[1] >= 1 and crossed[2] >= 2, crossed


def _ticks_crossed(pool: PoolState, tick_after: int) -> int:
    low, high = sorted((pool.tick, tick_after))
    return sum(1 for t in pool.net_by_tick if low < t <= high)


def test_pools_open_at_the_oracle_ratio(pools: dict[str, PoolState]) -> None:
    # WETH/USDC at 3000 USDC per WETH, from the oracle's prices (within one tick's rounding)
    pool = pools["WETH/USDC"]
    usdc_per_weth = _quote_per_base(pool, base_is_token0=pool.decimals0 == 18)
    assert usdc_per_weth == pytest.approx(3000, rel=2e-4)


def _quote_per_base(pool: PoolState, base_is_token0: bool) -> float:
    raw = (pool.sqrt_x96 / 2**96) ** 2  # token1 raw per token0 raw
    human = raw * 10 ** (pool.decimals0 - pool.decimals1)
    return human if base_is_token0 else 1 / human


def test_moved_pool_walks_from_the_new_price(pools: dict[str, PoolState]) -> None:
    # a pool moved 3% down (past the +-0.5% range) has that range's liquidity removed
    pool = pools["WETH/USDC"]
    down = 1 if pool.decimals0 == 18 else -1  # WETH as token0: the raw price falls
    moved = moved_to(pool, sqrt_x96_at_tick(pool.tick - down * 300))
    assert moved.liquidity < pool.liquidity
    back = moved_to(moved, pool.sqrt_x96)
    assert back.liquidity == pool.liquidity and back.tick == pool.tick


def _depth_model(net: Devnet, tmp_path: Path) -> tuple[DepthModel, Config]:
    path = tmp_path / "config.toml"
    write_config(net, path)
    config = load_config(path)
    assert config.cascade_depth is not None
    block = DevnetRpc(net.rpc_url).block_number()

    async def build() -> DepthModel:
        assert config.cascade_depth is not None
        async with RpcClient(net.rpc_url) as rpc:
            return await build_depth_model(config.cascade_depth, rpc, block)

    return asyncio.run(build()), config


def test_configured_model_sells_like_the_router(small_devnet: Devnet, tmp_path: Path) -> None:
    """write_config's [cascade.depth] builds a combined model; its pool leg, asked at the
    pools' own price, gets what the real router pays (two hops for wstETH)."""
    model, _config = _depth_model(small_devnet, tmp_path)
    assert isinstance(model, CombinedDepth)
    tokens = small_devnet.aave.tokens
    weth_usd = 1 / human_price(_pool(model, tokens["WETH"])[0], tokens["USDC"],
                               _pool(model, tokens["WETH"])[0].sqrt_x96)
    amount_raw = 400 * 10**18
    sold = model.pools.sell(tokens["WETH"], amount_raw, weth_usd)
    real_usdc = _router_exact_input(small_devnet, [tokens["WETH"], tokens["USDC"]], [500],
                                    amount_raw)
    assert sold.proceeds_usd == pytest.approx(real_usdc / 1e6, rel=1e-9)
    wsteth_route = _pool(model, tokens["wstETH"])
    wsteth_usd = human_price(wsteth_route[0], tokens["wstETH"], wsteth_route[0].sqrt_x96) * weth_usd
    sold = model.pools.sell(tokens["wstETH"], amount_raw, wsteth_usd)
    real_usdc = _router_exact_input(small_devnet, [tokens["wstETH"], tokens["WETH"],
                                                   tokens["USDC"]], [100, 500], amount_raw)
    assert sold.proceeds_usd == pytest.approx(real_usdc / 1e6, rel=1e-9)
    assert sold.price_after_usd < wsteth_usd


def _pool(model: CombinedDepth, token: str) -> tuple[PoolState, ...]:
    return model.pools.routes[token]


def test_combined_model_splits_to_one_price(small_devnet: Devnet, tmp_path: Path) -> None:
    model, _config = _depth_model(small_devnet, tmp_path)
    assert isinstance(model, CombinedDepth)
    weth = small_devnet.aave.tokens["WETH"]
    amount_raw = 5_000 * 10**18  # $15M: more than the pools alone take without a deep fall
    combined = model.sell(weth, amount_raw, 3000.0)
    pools_only = model.pools.sell(weth, amount_raw, 3000.0)
    external_only = model.external.sell(weth, amount_raw, 3000.0)
    assert combined.proceeds_usd > max(pools_only.proceeds_usd, external_only.proceeds_usd)
    assert pools_only.price_after_usd < combined.price_after_usd < 3000.0
    assert external_only.price_after_usd < combined.price_after_usd


def _router_exact_input(net: Devnet, path: list[str], fees: list[int], amount_in: int) -> int:
    """eth_call of SwapRouter.exactInput along `path` from a trader holding the input."""
    assert net.uniswap is not None
    rpc = DevnetRpc(net.rpc_url)
    router = net.uniswap.swap_router
    encoded = bytes.fromhex(path[0][2:])
    for fee, token in zip(fees, path[1:], strict=True):
        encoded += fee.to_bytes(3, "big") + bytes.fromhex(token[2:])
    snapshot = rpc.call("evm_snapshot")
    try:
        rpc.send_many([
            Tx(TRADER, path[0], calldata("mint(uint256)", amount_in)),
            Tx(TRADER, path[0], calldata("approve(address,uint256)", router, amount_in))])
        raw = rpc.call("eth_call", [{"from": TRADER, "to": router, "data": calldata(
            "exactInput((bytes,address,uint256,uint256,uint256))",
            (encoded, TRADER, FAR_DEADLINE, amount_in, 0))}, "latest"])
    finally:
        assert rpc.call("evm_revert", [snapshot]) is True
    return int(str(raw), 16)


@pytest.mark.parametrize("zero_for_one", [True, False])
def test_walker_on_the_full_devnet(devnet: Devnet, zero_for_one: bool) -> None:
    """The session devnet's pools (deployed after every market's seeding) walk exactly too."""
    assert devnet.uniswap is not None
    block = DevnetRpc(devnet.rpc_url).block_number()

    async def read() -> list[PoolState]:
        async with RpcClient(devnet.rpc_url) as rpc:
            return await read_pools(rpc, list(devnet.uniswap.pools.values()), block)

    for pool in asyncio.run(read()):
        amount_in = _amount_in(devnet, pool, zero_for_one, 6_000_000)
        predicted = swap_exact_input(pool, zero_for_one, amount_in)
        assert predicted == _real_swap(devnet, pool, zero_for_one, amount_in)
        assert _ticks_crossed(pool, predicted.tick_after) >= 1


@pytest.mark.parametrize("name", ["WETH/USDC", "wstETH/WETH"])
@pytest.mark.parametrize("ticks_down", [600, -900])
def test_moved_pool_equals_the_arbitraged_pool(small_devnet: Devnet, pools: dict[str, PoolState],
                                               name: str, ticks_down: int) -> None:
    """moved_to (how a depth model starts from a shocked price) is exactly the pool that a
    swap stopped at that price leaves: a sale from there returns the same, to the unit."""
    pool = pools[name]
    target_x96 = sqrt_x96_at_tick(pool.tick - ticks_down) + 12_345  # off any tick boundary
    arbitrage_zero_for_one = target_x96 < pool.sqrt_x96
    huge_raw = 10**30  # stopped by the price limit long before it is used up
    arbitrage = _swap_txs(small_devnet, pool, arbitrage_zero_for_one, huge_raw, target_x96)
    moved = moved_to(pool, target_x96)
    for zero_for_one in (True, False):
        # $1M: inside what the wide ranges still hold 9% away from the opening price
        amount_in = _amount_in(small_devnet, pool, zero_for_one, 1_000_000)
        expected = _real_swap(small_devnet, pool, zero_for_one, amount_in, before=arbitrage)
        assert swap_exact_input(moved, zero_for_one, amount_in) == expected

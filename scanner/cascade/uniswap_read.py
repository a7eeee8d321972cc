"""Read Uniswap v3 pools at a pinned block, batched through aggregate3 like the protocols.

Three rounds of calls per set of pools, each one multicall:
    1. slot0, liquidity, tickSpacing, fee, token0, token1
    2. the tokens' decimals, and tickBitmap(word) for every word of the window around the tick
    3. ticks(t).liquidityNet for every initialized tick those words show
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from eth_utils.address import to_checksum_address

from scanner.cascade.uniswap_v3 import WORD_BITS, PoolState
from scanner.chain.abi import decode_output, encode_call, load_abi
from scanner.chain.multicall import Call, CallResult, aggregate3, require_data
from scanner.chain.rpc import RpcClient
from scanner.domain import Address

POOL = load_abi("uniswap-v3", "UniswapV3Pool")
ERC20 = load_abi("erc20", "ERC20")
HEADER_FUNCTIONS = ("slot0", "liquidity", "tickSpacing", "fee", "token0", "token1")
# Price range read on each side of the current price: x4 / x0.25 covers any cascade we model.
DEFAULT_WINDOW_PRICE_FACTOR = 4.0


def window_ticks(price_factor: float) -> int:
    """Ticks spanning a price factor: log base 1.0001."""
    return math.ceil(math.log(price_factor) / math.log(1.0001))


async def read_pools(rpc: RpcClient, pools: Sequence[Address], block: int,
                     window_price_factor: float = DEFAULT_WINDOW_PRICE_FACTOR,
                     multicall_address: str | None = None) -> list[PoolState]:
    """Every pool's state at `block`, with its initialized ticks within the window."""
    async def run(calls: list[Call]) -> list[CallResult]:
        if multicall_address is None:
            return await aggregate3(rpc, calls, block)
        return await aggregate3(rpc, calls, block, multicall_address=multicall_address)

    # 1. pool headers
    header_results = await run([Call(p, encode_call(POOL, name, []))
                                for p in pools for name in HEADER_FUNCTIONS])
    size = len(HEADER_FUNCTIONS)
    headers = [_decode_header(p, header_results[i * size:(i + 1) * size])
               for i, p in enumerate(pools)]
    # 2. decimals and bitmap words
    span = window_ticks(window_price_factor)
    words = [_words(h["tick"], h["spacing"], span) for h in headers]
    calls2: list[Call] = []
    for pool, header, pool_words in zip(pools, headers, words, strict=True):
        calls2 += [Call(header["token0"], encode_call(ERC20, "decimals", [])),
                   Call(header["token1"], encode_call(ERC20, "decimals", []))]
        calls2 += [Call(pool, encode_call(POOL, "tickBitmap", [w])) for w in pool_words]
    results2 = iter(await run(calls2))
    initialized: list[list[int]] = []
    for pool, header, pool_words in zip(pools, headers, words, strict=True):
        header["decimals0"] = _one(ERC20, "decimals", next(results2), f"{pool} token0")
        header["decimals1"] = _one(ERC20, "decimals", next(results2), f"{pool} token1")
        bitmaps = [_one(POOL, "tickBitmap", next(results2), f"{pool}.tickBitmap({w})")
                   for w in pool_words]
        initialized.append(_initialized_ticks(pool_words, bitmaps, header["spacing"]))
    # 3. liquidityNet of each initialized tick
    calls3 = [Call(p, encode_call(POOL, "ticks", [t]))
              for p, ticks in zip(pools, initialized, strict=True) for t in ticks]
    results3 = iter(await run(calls3))
    states = []
    for pool, header, pool_words, ticks in zip(pools, headers, words, initialized, strict=True):
        net_by_tick = {t: _liquidity_net(pool, t, next(results3)) for t in ticks}
        states.append(PoolState(
            address=pool, token0=header["token0"], token1=header["token1"],
            decimals0=header["decimals0"], decimals1=header["decimals1"],
            fee_pips=header["fee"], tick_spacing=header["spacing"],
            sqrt_x96=header["sqrt_x96"], tick=header["tick"], liquidity=header["liquidity"],
            net_by_tick=net_by_tick, first_word=pool_words[0], last_word=pool_words[-1],
            block=block))
    return states


def _one(abi: Any, name: str, result: CallResult, what: str) -> int:
    return int(decode_output(abi, name, require_data(result, what))[0])


def _decode_header(pool: Address, results: Sequence[CallResult]) -> dict[str, Any]:
    slot0 = decode_output(POOL, "slot0", require_data(results[0], f"{pool}.slot0()"))
    return {
        "sqrt_x96": int(slot0[0]), "tick": int(slot0[1]),
        "liquidity": _one(POOL, "liquidity", results[1], f"{pool}.liquidity()"),
        "spacing": _one(POOL, "tickSpacing", results[2], f"{pool}.tickSpacing()"),
        "fee": _one(POOL, "fee", results[3], f"{pool}.fee()"),
        "token0": _address(POOL, "token0", results[4], f"{pool}.token0()"),
        "token1": _address(POOL, "token1", results[5], f"{pool}.token1()"),
    }


def _address(abi: Any, name: str, result: CallResult, what: str) -> str:
    return str(to_checksum_address(decode_output(abi, name, require_data(result, what))[0]))


def _words(tick: int, spacing: int, span_ticks: int) -> list[int]:
    """Bitmap words (int16) covering [tick - span, tick + span]."""
    low = max(((tick - span_ticks) // spacing) >> 8, -(2**15))
    high = min(((tick + span_ticks) // spacing) >> 8, 2**15 - 1)
    return list(range(low, high + 1))


def _initialized_ticks(words: Sequence[int], bitmaps: Sequence[int], spacing: int) -> list[int]:
    ticks = []
    for word, bitmap in zip(words, bitmaps, strict=True):
        for bit in range(WORD_BITS):
            if bitmap >> bit & 1:
                ticks.append((word * WORD_BITS + bit) * spacing)
    return ticks


def _liquidity_net(pool: Address, tick: int, result: CallResult) -> int:
    fields = decode_output(POOL, "ticks", require_data(result, f"{pool}.ticks({tick})"))
    return int(fields[1])

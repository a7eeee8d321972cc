"""Levels computed while reading (pipeline/stream.py) are the levels computed after it, and a
failure in either the math or a read is reported as without streaming."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from scanner.chain.tasks import gather_or_cancel
from scanner.config import AxisConfig
from scanner.domain import Asset, MarketRead, Position, PositionResult, PositionStatus
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.scan import liquidation_results
from scanner.pipeline.stream import LevelStream
from scanner.protocols.aave_v3.rule import AavePosition
from scanner.protocols.aave_v3.state import (
    AaveAccount,
    AaveMarketState,
    AaveReserve,
    AaveUserReserve,
)

USD = 10**8
POOL = "0x00000000000000000000000000000000000000Aa"
WETH = "0x000000000000000000000000000000000000000E"
WBTC = "0x000000000000000000000000000000000000000b"
USDC = "0x000000000000000000000000000000000000000C"
AXES = {"ETH": AxisConfig("ETH", ("WETH",), "WETH"), "BTC": AxisConfig("BTC", ("WBTC",), "WBTC")}


def _market() -> AaveMarketState:
    reserves = {
        WETH: AaveReserve(WETH, "WETH", 0, 18, 8000, 8250, 10500, 0, 2000 * USD),
        WBTC: AaveReserve(WBTC, "WBTC", 1, 8, 7000, 7500, 11000, 0, 60000 * USD),
        USDC: AaveReserve(USDC, "USDC", 2, 6, 7700, 8000, 10450, 0, 99_990_000),
    }
    return AaveMarketState("m", 1, USD, 1, 1, reserves, {})


def _read(count: int, mismatches: Sequence[str] = ()) -> MarketRead:
    state = _market()
    positions = []
    for n in range(count):
        account = f"0x{n + 1:040x}"
        legs = (AaveUserReserve(WETH, (5 + n % 7) * 10**18, 0, True),
                AaveUserReserve(WBTC, (n % 3) * 10**7, 0, True),
                AaveUserReserve(USDC, 0, (4_000 + 500 * n) * 10**6, False))
        accounts = AaveAccount(account, 0, legs, 0, 0, 0)
        positions.append(Position("m", "aave-v3", POOL, account, AavePosition(accounts, state)))
    assets = tuple(Asset(r.asset, r.symbol, r.price_8dec) for r in state.reserves.values())
    return MarketRead("m", "aave-v3", 1, 1, 1, assets, tuple(positions), tuple(mismatches))


def _stream(read: MarketRead, stream: LevelStream, size: int, skip: int | None = None) -> None:
    sink = stream.sink(read.market_key)
    unverified = set(read.mirror_mismatches)
    for index, start in enumerate(range(0, len(read.positions), size)):
        if index == skip:
            continue
        chunk = read.positions[start:start + size]
        sink(index, read.assets, chunk, [p.account for p in chunk if p.account in unverified])


def _levels(read: MarketRead, prices: dict[str, int] | None, size: int,
            skip: int | None = None) -> tuple[list[PositionResult], list[PositionResult]]:
    axes = resolve_axes(AXES, read.assets)
    with LevelStream(AXES) as stream:
        _stream(read, stream, size, skip)
        ready = stream.precomputed(read.market_key, len(read.positions))
        assert (ready == {}) == (skip is not None)  # an incomplete stream is not used
        streamed = liquidation_results(read, axes, prices, ready)
    return streamed, liquidation_results(read, axes, prices)


def test_streamed_levels_are_the_levels_in_the_same_order() -> None:
    read = _read(23, mismatches=["0x" + f"{5:040x}"])
    streamed, plain = _levels(read, None, size=4)
    assert streamed == plain
    assert len(plain) == 2 * 23  # every position on both axes, one of them unverified
    assert sum(r.status is PositionStatus.UNVERIFIED for r in plain) == 2
    assert any(r.status is PositionStatus.AT_RISK for r in plain)
    assert [r.axis for r in plain[:23]] == ["ETH"] * 23  # axis by axis, as before


def test_another_snapshot_price_is_computed_again() -> None:
    read = _read(9)
    streamed, plain = _levels(read, {"ETH": 2040 * USD, "BTC": 60000 * USD}, size=4)
    assert streamed == plain
    assert {r.axis_price_now_8dec for r in plain if r.axis == "ETH"} == {2040 * USD}


def test_a_missing_chunk_leaves_the_levels_to_compute_snapshot() -> None:
    read = _read(9)
    streamed, plain = _levels(read, None, size=4, skip=1)
    assert streamed == plain


class _Broken:
    has_debt = True

    def curve(self, axis: object) -> object:
        raise ArithmeticError("the math failed")


def test_a_failure_of_the_math_is_raised_when_the_levels_are_taken() -> None:
    read = _read(2)
    broken = Position("m", "aave-v3", POOL, "0x" + "9" * 40, _Broken())  # type: ignore[arg-type]
    with LevelStream(AXES) as stream:
        stream.sink("m")(0, read.assets, [*read.positions, broken], [])
        with pytest.raises(ArithmeticError, match="the math failed"):
            stream.precomputed("m", 3)


def test_gather_or_cancel_keeps_order_and_cancels_the_rest_on_failure() -> None:
    cancelled: list[str] = []

    async def slow(name: str) -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise
        return name

    async def fails() -> str:
        await asyncio.sleep(0)
        raise LookupError("read failed")

    async def fast(name: str) -> str:
        await asyncio.sleep(0)
        return name

    assert asyncio.run(gather_or_cancel([fast("a"), fast("b"), fast("c")])) == ["a", "b", "c"]
    with pytest.raises(LookupError, match="read failed"):
        asyncio.run(gather_or_cancel([slow("x"), fails(), slow("y")]))
    assert sorted(cancelled) == ["x", "y"]

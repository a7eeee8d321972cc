"""scanner.chain.tasks: reads at once, whose errors stay the ones a user should see."""

from __future__ import annotations

import asyncio

import pytest

from scanner.chain.tasks import both, in_order


async def _answer(value: int, delay_s: float) -> int:
    await asyncio.sleep(delay_s)
    return value


async def _fail(message: str, delay_s: float) -> int:
    await asyncio.sleep(delay_s)
    raise ValueError(message)


def test_both_run_at_once_and_keep_their_order() -> None:
    steps: list[str] = []

    async def step(name: str, value: int, delay_s: float) -> int:
        steps.append(f"start {name}")
        await asyncio.sleep(delay_s)
        steps.append(f"end {name}")
        return value

    assert asyncio.run(both(step("a", 1, 0.02), step("b", 2, 0.01))) == (1, 2)
    assert steps == ["start a", "start b", "end b", "end a"]  # in turn: a ends before b starts


def test_in_order_reports_the_first_ones_error_even_when_the_second_fails_sooner() -> None:
    with pytest.raises(ValueError, match="revision"):
        asyncio.run(in_order(_fail("revision", 0.05), _fail("layout", 0.0)))


def test_in_order_cancels_the_second_when_the_first_fails() -> None:
    finished: list[str] = []

    async def slow() -> int:
        await asyncio.sleep(0.5)
        finished.append("second")
        return 2

    async def run() -> None:
        with pytest.raises(ValueError, match="first"):
            await in_order(_fail("first", 0.0), slow())
        await asyncio.sleep(0.6)

    asyncio.run(run())
    assert finished == []


def test_in_order_gives_both_answers_and_the_seconds_error() -> None:
    assert asyncio.run(in_order(_answer(1, 0.01), _answer(2, 0.0))) == (1, 2)
    with pytest.raises(ValueError, match="second"):
        asyncio.run(in_order(_answer(1, 0.0), _fail("second", 0.01)))

"""scanner.aio.run: asyncio.run that never reprs the result (Python 3.11 does, twice, when it
restores the SIGINT handler -- seconds for a snapshot's outcome)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from scanner import aio


class _NoRepr:
    reprs = 0

    def __repr__(self) -> str:
        _NoRepr.reprs += 1
        return "_NoRepr()"


async def _answer() -> _NoRepr:
    await asyncio.sleep(0)
    return _NoRepr()


def test_run_returns_the_result_without_its_repr() -> None:
    _NoRepr.reprs = 0
    result = aio.run(_answer())
    assert isinstance(result, _NoRepr) and _NoRepr.reprs == 0


def test_asyncio_run_itself_reprs_the_result() -> None:
    # why aio.run exists: if this ever stops holding, aio.run can go. asyncio.run takes over
    # SIGINT (and reprs the result when it gives it back) only while Python's default handler
    # is installed: an earlier test of the suite that left its own handler made this pass or
    # fail by the order the tests ran in.
    _NoRepr.reprs = 0
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        asyncio.run(_answer())
    finally:
        signal.signal(signal.SIGINT, before)
    assert _NoRepr.reprs > 0


def test_no_command_or_bench_calls_asyncio_run_itself() -> None:
    # The bench's 100k read handed its MarketRead back through asyncio.run: its repr (every
    # position, twice) was the section's peak RSS (933 MB of it; 480 MB without) and CPU.
    root = Path(__file__).resolve().parents[2]
    callers = [f"{path.relative_to(root)}:{number}"
               for folder in ("scanner", "bench") for path in sorted((root / folder).rglob("*.py"))
               if path.name != "aio.py"
               for number, line in enumerate(path.read_text().splitlines(), 1)
               if "asyncio.run(" in line]
    assert callers == [], f"use scanner.aio.run: {callers}"

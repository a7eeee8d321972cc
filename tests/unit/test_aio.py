"""scanner.aio.run: asyncio.run that never reprs the result (Python 3.11 does, twice, when it
restores the SIGINT handler -- seconds for a snapshot's outcome)."""

from __future__ import annotations

import asyncio

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
    # why aio.run exists: if this ever stops holding, aio.run can go
    _NoRepr.reprs = 0
    asyncio.run(_answer())
    assert _NoRepr.reprs > 0

"""Run coroutines together and get their results in order; the first failure cancels the rest.

`asyncio.gather` leaves the other coroutines running after one raises: their reads would go
on against a client that is about to close. `TaskGroup` cancels them but wraps the error in an
ExceptionGroup, which would change the error (and exit code) a scan reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar, cast

T = TypeVar("T")


async def gather_or_cancel(coroutines: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Results in order; on the first exception the others are cancelled and it is raised."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # let them finish cancelling
        raise


A = TypeVar("A")
B = TypeVar("B")


async def both(first: Coroutine[Any, Any, A], second: Coroutine[Any, Any, B]) -> tuple[A, B]:
    """Two reads of different types at once (gather_or_cancel), each result typed."""
    a, b = await gather_or_cancel([first, second])
    return cast(A, a), cast(B, b)


async def in_order(first: Coroutine[Any, Any, A], second: Coroutine[Any, Any, B]
                   ) -> tuple[A, B]:
    """Both at once, `first`'s outcome decided first: its error wins over `second`'s, whichever
    came back first (a check in `first` -- the pool's revision -- is what is reported, not a
    symptom of it in `second`). On `first`'s error `second` is cancelled."""
    later = asyncio.ensure_future(second)
    try:
        result = await first
    except BaseException:
        later.cancel()
        await asyncio.gather(later, return_exceptions=True)  # its error belongs to this one
        raise
    return result, await later

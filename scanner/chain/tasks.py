"""Run coroutines together and get their results in order; the first failure cancels the rest.

`asyncio.gather` leaves the other coroutines running after one raises: their reads would go
on against a client that is about to close. `TaskGroup` cancels them but wraps the error in an
ExceptionGroup, which would change the error (and exit code) a scan reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

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

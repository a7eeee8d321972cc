"""`run`: asyncio.run without the repr of the result (Python 3.11).

When asyncio.run restores the SIGINT handler it installed, `signal.signal` and
`signal.getsignal` try the old handler -- a partial holding the finished main task -- as a
`Handlers` enum member, and the failed lookup formats `repr(handler)`: the task's repr holds
`repr(result)` in full for a dataclass. For a snapshot's outcome (every position, every axis)
that is seconds of work, twice, after the snapshot is done. Here the main task returns None.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(coro), its result handed back outside the main task."""
    import asyncio  # here, not at import: read-only commands never start a loop (start-up)

    box: list[T] = []

    async def main() -> None:
        box.append(await coro)

    asyncio.run(main())
    return box[0]

"""The collector paused while snapshots are built comes back whatever happens, and only when
the last of several overlapping snapshots ends."""

from __future__ import annotations

import asyncio
import gc

import pytest

from scanner.pipeline.collector import collector_paused


def test_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_when_the_snapshot_raises() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a failed read")
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_snapshots_keep_it_paused_until_the_last_ends() -> None:
    """Two chains' snapshots in one event loop: the first to finish must not switch the
    collector back on under the second."""
    seen: list[tuple[str, bool]] = []

    async def snapshot(name: str, first_wait: float, second_wait: float) -> None:
        with collector_paused():
            await asyncio.sleep(first_wait)
            seen.append((name, gc.isenabled()))
            await asyncio.sleep(second_wait)
            seen.append((name, gc.isenabled()))

    async def both() -> None:
        await asyncio.gather(snapshot("short", 0.0, 0.0), snapshot("long", 0.01, 0.05))

    asyncio.run(both())
    assert seen == [("short", False), ("short", False), ("long", False), ("long", False)]
    assert gc.isenabled()

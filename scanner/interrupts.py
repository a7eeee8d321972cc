"""Ctrl-C (SIGINT) and SIGTERM that never lie about what was stored.

Before a snapshot is committed, an interrupt unwinds as KeyboardInterrupt: the transaction
rolls back and liqscan says "interrupted" (exit 130). From the moment the write starts until
the command has reported it, an interrupt is only remembered: the snapshot is stored either
way, so the command reports it as stored instead of "interrupted".

    with interrupts.handled():            # cli.main: install the handler
        interrupts.hold()                 # the write transaction starts (pipeline/persist.py)
        ...                               # commit, print the result
        interrupts.release()              # reported: True if the user asked to stop meanwhile

Outside `handled()` (library use, tests) Python's own handler is in place and hold() has no
effect on signals.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_state = {"holding": False, "pending": False}


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _state["holding"]:
        _state["pending"] = True
        return
    raise KeyboardInterrupt


@contextmanager
def handled() -> Iterator[None]:
    """Install the handler for SIGINT and SIGTERM (SIGTERM then unwinds like Ctrl-C, so
    context managers stop anvil and roll back transactions); restore the old ones on exit."""
    old = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    _state.update(holding=False, pending=False)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        _state.update(holding=False, pending=False)


def hold() -> None:
    """A commit is starting: defer interrupts until `release()`."""
    _state["holding"] = True


def release() -> bool:
    """The commit has been reported (or failed). True if an interrupt arrived meanwhile."""
    pending = bool(_state["pending"])
    _state.update(holding=False, pending=False)
    return pending

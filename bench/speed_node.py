"""CPU time of the devnet's node (anvil, a child of this process), read from /proc.

The floor is the node's wall time for the snapshot's traffic; the node and the snapshot share
the machine's cores. Their two CPU times say how fast this snapshot could be on these cores
with the node beside it, whatever the scheduling: (snapshot CPU + node CPU) / cores.
"""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
NODE_NAME = "anvil"
# /proc/<pid>/stat after the ")" that ends the command name: state, ppid, ... utime, stime
_PPID, _UTIME, _STIME = 1, 11, 12


def _stat_fields(pid: int | str) -> tuple[str, list[str]]:
    text = Path(f"/proc/{pid}/stat").read_text()
    name = text[text.index("(") + 1:text.rindex(")")]
    return name, text[text.rindex(")") + 2:].split()


def node_pid() -> int | None:
    """The pid of this process's anvil child, or None (not Linux, or no such child)."""
    me = str(os.getpid())
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            name, fields = _stat_fields(entry.name)
        except (OSError, ValueError):  # gone meanwhile, or not a process
            continue
        if name == NODE_NAME and fields[_PPID] == me:
            return int(entry.name)
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far."""
    _, fields = _stat_fields(pid)
    return (int(fields[_UTIME]) + int(fields[_STIME])) / CLOCK_TICKS_PER_S


def usable_cores() -> int:
    return len(os.sched_getaffinity(0))

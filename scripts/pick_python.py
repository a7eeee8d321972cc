"""Print the interpreter `make setup` builds the virtualenv with (PY=... overrides it).

liqscan is CPU-bound in CPython itself: its exact math is Python integers compiled by mypyc,
and most of its time is spent in the interpreter's big-integer and allocator code. How that
interpreter was built matters as much as our code. Distributions build their python3 with
profile-guided and link-time optimisation (Debian and Ubuntu also link the interpreter
statically); version managers such as pyenv build a shared libpython without either by
default. On the 2-core development machine the same code and compiled math priced
liquidations 1.8x faster on Debian's /usr/bin/python3 (3.11.2) than on pyenv's 3.11.7 (100,000
positions, alternated runs), and a whole snapshot took ~11% less CPU (docs/performance.md,
round 14).

So the distribution's interpreter comes first, then `python3` on PATH: the first that can
build the project (Python >= 3.11, `venv` with `ensurepip`) and has the C headers mypyc compiles
the exact math against is printed; without headers anywhere, the first that can build it (the
math then runs in pure Python, as `make setup` says). Standard library only: it runs before any
virtualenv exists, under whatever `python3` is on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import NamedTuple

# Where distributions install their own build (after pyenv, asdf or conda on PATH, if at all).
DISTRIBUTION_PATHS = ("/usr/bin/python3",)

# Run by each candidate: can it build the project, and compile the exact math?
PROBE = r"""
import json, os, sys, sysconfig
def problem():
    if sys.version_info < (3, 11):
        return "older than 3.11"
    try:
        import ensurepip, venv  # noqa: F401
    except ImportError:
        return "no venv/ensurepip module (python3-venv)"
    return ""
include = sysconfig.get_paths().get("include", "")
print(json.dumps({"version": ".".join(map(str, sys.version_info[:3])), "problem": problem(),
                  "headers": os.path.isfile(os.path.join(include, "Python.h"))}))
"""


class Candidate(NamedTuple):
    path: str
    version: str
    problem: str  # why it cannot build the project ("" if it can)
    headers: bool  # has Python.h: the exact math can be compiled (scanner/native.py)


def probe(path: str) -> Candidate:
    try:
        out = subprocess.run([path, "-c", PROBE], capture_output=True, text=True, timeout=60,
                             check=True).stdout
        found = json.loads(out.strip().splitlines()[-1])
        return Candidate(path, str(found["version"]), str(found["problem"]),
                         found["headers"] is True)
    except (OSError, subprocess.SubprocessError, ValueError, IndexError, KeyError, TypeError):
        return Candidate(path, "?", "does not run", False)


def candidates() -> list[str]:
    """The distribution's interpreters, then python3 on PATH (each file once)."""
    found, seen = [], set()
    for path in (*DISTRIBUTION_PATHS, shutil.which("python3")):
        if path is None:
            continue
        real = os.path.realpath(path)
        if os.path.isfile(real) and os.access(real, os.X_OK) and real not in seen:
            seen.add(real)
            found.append(path)
    return found


def choose(probed: list[Candidate]) -> Candidate | None:
    """The first candidate that can build the project and compile its math; else the first
    that can build it; None when none can."""
    usable = [c for c in probed if not c.problem]
    return next((c for c in usable if c.headers), usable[0] if usable else None)


def main() -> int:
    probed = [probe(path) for path in candidates()]
    chosen = choose(probed)
    if chosen is None:
        tried = "; ".join(f"{c.path}: {c.problem}" for c in probed) or "no python3 found"
        print(f"no usable Python ({tried}): install python3 >= 3.11 with python3-venv, or run "
              "make setup PY=/path/to/python3", file=sys.stderr)
        return 2
    headers = "" if chosen.headers else "; no C headers (python3-dev): pure-Python math"
    print(f"python for the virtualenv: {chosen.path} ({chosen.version}{headers})",
          file=sys.stderr)
    print(chosen.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run (position, axis) cases through tests/native_child.py twice, compiled and pure."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scanner import native
from scanner.domain import Axis, Position

ROOT = Path(__file__).resolve().parent.parent


def require_native_build() -> None:
    """The comparison needs a build of the current sources (`make setup` makes one)."""
    chosen = native.status()
    if not chosen.in_use:
        pytest.skip(f"compiled math not in use: {chosen.reason}")


def child_results(cases_file: Path, out_file: Path, compiled: bool,
                  child: str = "tests.native_child") -> tuple[bool, Any]:
    env = dict(os.environ, **{native.SWITCH_ENV: "1" if compiled else "0"})
    subprocess.run([sys.executable, "-m", child, str(cases_file), str(out_file)],
                   cwd=ROOT, env=env, check=True)
    in_use, results = pickle.loads(out_file.read_bytes())
    return in_use, results


def native_and_pure(cases: list[tuple[Position, Axis]], folder: Path
                    ) -> tuple[list[Any], list[Any]]:
    """Each case's outcome with the compiled math and with the pure modules."""
    cases_file = folder / "cases.pickle"
    cases_file.write_bytes(pickle.dumps(cases))
    compiled_in_use, compiled = child_results(cases_file, folder / "native.pickle", True)
    pure_in_use, pure = child_results(cases_file, folder / "pure.pickle", False)
    assert (compiled_in_use, pure_in_use) == (True, False)
    assert len(compiled) == len(pure) == len(cases)
    return compiled, pure


def bands_native_and_pure(results: list[Any], axes: Any, config: Any, folder: Path
                          ) -> tuple[Any, Any]:
    """(bins, bands) of `results` with the compiled modules and with the pure ones."""
    case_file = folder / "bands_case.pickle"
    case_file.write_bytes(pickle.dumps((results, axes, config)))
    child = "tests.native_bands_child"
    compiled_in_use, compiled = child_results(case_file, folder / "bands_native.pickle", True,
                                              child)
    pure_in_use, pure = child_results(case_file, folder / "bands_pure.pickle", False, child)
    assert (compiled_in_use, pure_in_use) == (True, False)
    return compiled, pure

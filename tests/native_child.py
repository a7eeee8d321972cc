"""Child interpreter of the native-vs-pure tests (tests/unit/test_native.py,
tests/integration/test_native_devnet.py): computes liquidation_result for pickled
(position, axis) cases in whichever math LIQSCAN_NATIVE selects, and pickles back
(compiled math in use, results). An error is compared as its type and message.

    python -m tests.native_child CASES_FILE OUT_FILE
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

from scanner import native
from scanner.domain import Axis, Position
from scanner.pipeline.liquidation import liquidation_result


def outcome(position: Position, axis: Axis) -> Any:
    try:
        return liquidation_result(position, axis)
    except Exception as exc:  # the error itself is what is compared
        return type(exc).__name__, str(exc)


def main(cases_file: Path, out_file: Path) -> None:
    cases: list[tuple[Position, Axis]] = pickle.loads(cases_file.read_bytes())
    results = [outcome(position, axis) for position, axis in cases]
    out_file.write_bytes(pickle.dumps((native.status().in_use, results)))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

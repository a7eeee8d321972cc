"""Run every benchmark in bench/, each in its own interpreter, in order (`make bench`).

    .venv/bin/python bench/run_all.py

Each module prints its own timings and ratios against a baseline measured in the same process;
nothing here judges them. A module that fails is reported and the others still run; the exit
status is then 1.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# In this order; a module that does not exist (yet) is skipped with a note.
MODULES = ("bench_speed.py", "bench_reads.py", "bench_scan.py", "bench_devnet.py",
           "bench_bands.py", "bench_faults.py", "bench_incremental.py")


def run(module: Path) -> int:
    """Run one benchmark with this interpreter; its output goes straight to ours."""
    print(f"=== {module.name} ===", flush=True)
    start = time.perf_counter()
    completed = subprocess.run([sys.executable, str(module)], cwd=BENCH_DIR.parent, check=False)
    status = "ok" if completed.returncode == 0 else f"FAILED (exit {completed.returncode})"
    print(f"=== {module.name}: {status} in {time.perf_counter() - start:.1f} s ===\n",
          flush=True)
    return completed.returncode


def main() -> int:
    failed = []
    for name in MODULES:
        module = BENCH_DIR / name
        if not module.is_file():
            print(f"=== {name}: not present, skipped ===\n", flush=True)
            continue
        if run(module) != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

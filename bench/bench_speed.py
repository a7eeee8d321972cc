"""Issue 11 in one run: every speed figure beside its target (prints; asserts nothing).

    .venv/bin/python bench/bench_speed.py [--only snapshot,scale_1k,...,storage,math]

Sections (speed_sections.py), each in its own interpreter so that its peak RSS is its own:
  snapshot    10,000 Aave + 1,000 Morpho + 1,000 Compound positions end to end (scan_chain),
              its recorded HTTP bodies replayed by a bare aiohttp loop (the floor), the naive
              web3.py baseline on a sample (extrapolated)
  scale_1k, scale_10k, scale_100k
              one method at each size: the 10k devnet's Aave borrowers read through the real
              read path -- the first tenth of them, all once, all 10 times (the copies get
              stand-in addresses) -- then the pipeline's math, bins, bands and store; the fixed
              costs (discovery, the market's resolution) timed apart; scale_100k also times
              pure math on its positions
  incremental_10k, incremental_100k
              a full snapshot with bases of the Aave market (at 100k: configured as 10
              markets), 1% of the borrowers touched by real transactions, then the next
              incremental snapshot timed against a full one of the same block
  incremental_100k_50ms
              the same at 100k with every JSON-RPC post held 50 ms before the node answers
              it (bench/latency_proxy.py), as a hosted provider's round trip would
  storage     10 snapshots x 100,000 rows (1M position rows) on SQLite and PostgreSQL;
              `liqscan bands` / `positions` on them; `liqscan bands` start-up
  math        pure math alone on the 10k Aave positions (not in the default run: scale_100k
              times it too; `--only math` for quick work on the solver)
The devnets are built once and cached under .cache/devnet (first run: several minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
SECTIONS = ("snapshot", "scale_1k", "scale_10k", "scale_100k", "incremental_10k",
            "incremental_100k", "incremental_100k_50ms", "storage", "math")
LATENCY_MS = 50  # incremental_100k_50ms: a hosted provider's round trip per post
RESULTS_FILE = "results-100k.pickle"


def run_section(name: str, work: Path) -> dict[str, Any]:
    """One section in a child interpreter; its figures come back as JSON on the last line."""
    out = work / f"{name}.json"
    start = time.perf_counter()
    subprocess.run([sys.executable, str(Path(__file__)), "--section", name, "--work",
                    str(work), "--out", str(out)], check=True, cwd=BENCH_DIR.parent)
    figures: dict[str, Any] = json.loads(out.read_text())
    print(f"  [{name}: {time.perf_counter() - start:.0f} s]", flush=True)
    return figures


def child(name: str, work: Path, out: Path) -> None:
    sys.path.insert(0, str(BENCH_DIR))
    import speed_sections as s

    with s.scratch() as folder:
        results = work / RESULTS_FILE
        figures = {
            "snapshot": lambda: s.snapshot(folder),
            "scale_1k": lambda: s.scale(folder, "scale_1k"),
            "scale_10k": lambda: s.scale(folder, "scale_10k"),
            "scale_100k": lambda: s.scale_100k(folder, results),
            "incremental_10k": lambda: s.incremental_cost(copies=1),
            "incremental_100k": lambda: s.incremental_cost(copies=10),
            "incremental_100k_50ms": lambda: s.incremental_cost(copies=10,
                                                                latency_ms=LATENCY_MS),
            "storage": lambda: s.storage(folder, results),
            "math": lambda: s.math_only(folder),
        }[name]()
    out.write_text(json.dumps(figures))


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()} "
            f"({interpreter()}), load average {load:.1f} at the start")


def interpreter() -> str:
    """Which CPython build runs the bench: the figures depend on it (scripts/pick_python.py)."""
    maps = Path("/proc/self/maps")
    linked = "?"
    if maps.is_file():
        linked = "shared" if "libpython" in maps.read_text() else "static"
    return f"{Path(sys.executable).resolve()}, libpython {linked}"


def native_math() -> str:
    """Whether the sections run the compiled math (scanner/native.py; LIQSCAN_NATIVE=0: no)."""
    from scanner import native

    return native.status().describe()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections (default: all)")
    parser.add_argument("--section", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.section:
        child(args.section, args.work, args.out)
        return 0
    sys.path.insert(0, str(BENCH_DIR))
    from speed_report import report

    wanted = [s for s in args.only.split(",") if s]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    if "storage" in wanted and "scale_100k" not in wanted:
        wanted.insert(wanted.index("storage"), "scale_100k")  # storage writes its results
    print(f"machine: {machine()}", flush=True)
    print(f"native math: {native_math()}", flush=True)
    work = BENCH_DIR.parent / ".cache" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    figures = {name: run_section(name, work) for name in wanted}
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())

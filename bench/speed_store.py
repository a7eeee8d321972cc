"""The store stage of the 100k snapshot alone, from bench_speed's pickle: CPU and wall of
`save_snapshot` (200,000 position rows, bins, bands, 10,000 discovered accounts) into a new
SQLite (or PostgreSQL) database, so old and new code can be compared alternated.

    python bench/speed_store.py [--url URL] [--repeat N] [--profile FILE] [--dump FILE]

--dump writes every row of every table (but the clock's `created_at`/`updated_at`) to FILE,
so the stored content of two versions of the code can be compared whole (`cmp`).
"""

from __future__ import annotations

import argparse
import cProfile
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

from scanner.config import load_config
from scanner.domain import Axis, SnapshotRecord
from scanner.pipeline.scan import histogram_and_bands
from scanner.store import db
from scanner.store.repository import MarketScan, Repository
from scanner.store.tables import METADATA

ROOT = Path(__file__).resolve().parent.parent
PICKLE = ROOT / ".cache" / "bench" / "results-100k.pickle"


def _inputs(folder: Path) -> tuple[SnapshotRecord, MarketScan, Any, Any]:
    with PICKLE.open("rb") as source:
        record, results, config_text = pickle.load(source)
    (folder / "config.toml").write_text(config_text)
    config = load_config(folder / "config.toml")
    prices = {r.axis: r.axis_price_now_8dec for r in results}
    axes = [Axis(name=name, members=frozenset(), reference="0x" + "0" * 40,
                 reference_price_8dec=price) for name, price in prices.items()]
    bins, bands = histogram_and_bands(results, axes, config)
    accounts = sorted({r.account for r in results})[:10_000]
    snapshot = SnapshotRecord(chain=record.chain, chain_id=record.chain_id, block=record.block,
                              block_timestamp=record.block_timestamp, markets=(record,))
    scan = MarketScan(record=record, positions=results,
                      discovered={a: record.block - 10 for a in accounts},
                      cursor_block=record.block, block_hash="0x" + "ab" * 32)
    return snapshot, scan, bins, bands


_CLOCK_COLUMNS = ("created_at", "updated_at")  # differ between any two runs


def _dump(repo: Repository, out: Path) -> None:
    """Every table's rows in id / primary-key order, one line each."""
    with repo.engine.connect() as conn, out.open("w") as sink:
        for table in METADATA.sorted_tables:
            names = [c.name for c in table.columns if c.name not in _CLOCK_COLUMNS]
            order = ", ".join(f'"{n}"' for n in [c.name for c in table.primary_key] or names)
            query = f'SELECT {", ".join(chr(34) + n + chr(34) for n in names)} ' \
                    f'FROM "{table.name}" ORDER BY {order}'
            sink.write(f"== {table.name} {names}\n")
            for row in conn.exec_driver_sql(query):
                sink.write(repr(tuple(row)) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile")
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="liqscan-store-") as name:
        folder = Path(name)
        snapshot, scan, bins, bands = _inputs(folder)
        for index in range(args.repeat):
            url = args.url or f"sqlite:///{folder / f'store{index}.db'}"
            db.upgrade(url)
            repo = Repository(db.make_engine(url))
            profile = cProfile.Profile() if args.profile else None
            start, cpu = time.perf_counter(), time.process_time()
            if profile:
                profile.enable()
            repo.find_scan(scan.record.market_key, snapshot.block)
            repo.find_snapshot(snapshot.chain, snapshot.block, snapshot.market_keys)
            snapshot_id = repo.save_snapshot(snapshot, [scan], bins, bands)
            repo.scan_ids(snapshot_id)
            if profile:
                profile.disable()
                profile.dump_stats(args.profile)
            print(f"store: cpu {time.process_time() - cpu:.3f} s wall "
                  f"{time.perf_counter() - start:.3f} s rows {len(scan.positions)} "
                  f"bins {len(bins)} bands {len(bands)}", flush=True)
            if args.dump and index == args.repeat - 1:
                _dump(repo, args.dump)
            repo.engine.dispose()


if __name__ == "__main__":
    main()

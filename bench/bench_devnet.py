"""Seeding and cached-reload times of a large devnet (prints numbers; asserts nothing).

    .venv/bin/python bench/bench_devnet.py [--aave 10000] [--morpho 1000]

Targets on a 2-core machine: seeding < 3 min, reload from the cache < 5 s. Uses a private
temporary cache directory, so the project's .cache/ is left alone.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from scanner.devnet.anvil import Anvil
from scanner.devnet.network import build_devnet, save_to_cache, seeded_devnet
from scanner.devnet.population import ClusterSpec

CLUSTER = ClusterSpec("WETH", 20_000_000, 2_300, 2_450)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--aave", type=int, default=10_000)
    parser.add_argument("--morpho", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["LIQSCAN_CACHE_DIR"] = cache
        with Anvil.start() as node:
            start = time.perf_counter()
            devnet = build_devnet(node, args.seed, args.aave, args.morpho, (CLUSTER,))
            built = time.perf_counter()
            entry = save_to_cache(devnet)
            saved = time.perf_counter()
        print(f"seeded {len(devnet.aave_plans)} Aave + {len(devnet.morpho_plans)} Morpho "
              f"positions ({devnet.head_block} blocks) in {built - start:.1f} s")
        size_mb = entry.state_file.stat().st_size / 1e6
        print(f"dumped and cached in {saved - built:.1f} s ({size_mb:.0f} MB state)")
        start = time.perf_counter()
        with seeded_devnet(args.seed, args.aave, args.morpho, (CLUSTER,)) as reloaded:
            loaded = time.perf_counter()
            assert reloaded.from_cache, "the cache entry was not found"
        print(f"reloaded from the cache in {loaded - start:.2f} s")


if __name__ == "__main__":
    main()

"""`liqscan demo`: the whole product on a local devnet, in one command.

1. start anvil with the real Aave v3.0 and v3.6 markets (and Morpho Blue) and two Comets
   (our own DevnetComet), seeded with borrowers (cached)
2. write a config for it, migrate a fresh SQLite database
3. scan every market at the current block into ONE snapshot, print the bands summed across
   markets with the per-protocol and per-market breakdown, draw the histogram charts
   (a market that fails leaves the snapshot unwritten: its error, naming it, is the exit)
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
from pathlib import Path

from scanner.config import load_config
from scanner.devnet.network import seeded_devnet, write_config
from scanner.devnet.population import ClusterSpec
from scanner.domain import Direction
from scanner.pipeline.scan import SnapshotOutcome, scan_chain
from scanner.report.chart import render_histogram_png
from scanner.report.format import band_line, share_lines, usd_compact, usd_price
from scanner.store import db
from scanner.store.repository import Repository

# A planted cluster so the demo has a known answer: ~$25M of ETH longs liquidated between
# $2,480 and $2,560, i.e. 15-17% below the devnet's ETH price of $3,000 (aave_market.toml).
DEMO_CLUSTERS = (ClusterSpec(asset="WETH", total_usd=25_000_000, low_usd=2_480, high_usd=2_560),)


def run_demo(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    print(f"starting a devnet with the real Aave v3.0 ({args.aave_positions:,} borrowers) and "
          f"v3.6 ({args.aave36_positions:,} borrowers) markets and two Comets "
          f"({args.compound_positions:,} borrowers each) (the first run seeds it; later "
          "runs load a cached state)...")
    with seeded_devnet(seed=args.seed, aave_positions=args.aave_positions, morpho_positions=200,
                       clusters=DEMO_CLUSTERS, aave36_positions=args.aave36_positions,
                       compound_positions=args.compound_positions,
                       maker_positions=getattr(args, "maker_positions", 0)) as devnet:
        config_path = out / "config.toml"
        database_url = f"sqlite:///{(out / 'liqscan.db').resolve()}"
        write_config(devnet, config_path, database_url=database_url)
        config = load_config(config_path)
        db.upgrade(config.database_url)
        repo = Repository(db.make_engine(config.database_url))
        outcome = asyncio.run(scan_chain(config, list(config.markets), repo))
    _print_outcome(outcome, out)
    print(f"\nconfig: {config_path}   database: {out / 'liqscan.db'}\n"
          f"try: liqscan --config {config_path} bands --axis ETH")
    return 0


def _print_outcome(outcome: SnapshotOutcome, out: Path) -> None:
    markets = ", ".join(f"{m.record.market_key} (revision {m.record.pool_revision})"
                        for m in outcome.markets)
    print(f"\nscanned {markets} at block {outcome.record.block:,} as one snapshot: "
          f"{outcome.accounts_with_debt:,} positions with debt (snapshot {outcome.snapshot_id})")
    names = "+".join(outcome.record.market_keys)
    for axis in outcome.axes:
        on_axis = [r for r in outcome.results if r.axis == axis.name]
        at_risk = [r for r in on_axis if r.direction == Direction.DOWN and r.liquidation_price_8dec]
        print(f"\n{axis.name} now {usd_price(axis.reference_price_8dec)}; long collateral at risk "
              f"{usd_compact(sum(r.collateral_usd_8dec for r in at_risk))}")
        for band in [b for b in outcome.bands if b.axis == axis.name]:
            print("  " + band_line(band))
            for line in share_lines(band.shares):
                print("      " + line)
        chart = render_histogram_png(
            [b for b in outcome.bins if b.axis == axis.name],
            [b for b in outcome.bands if b.axis == axis.name],
            axis.name, axis.reference_price_8dec, out / f"histogram-{axis.name}.png",
            title=f"{names} @ block {outcome.record.block:,}: {axis.name} liquidation levels",
        )
        print(f"  chart: {chart}")

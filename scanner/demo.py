"""`liqscan demo`: the whole product on a local devnet, in one command.

1. start anvil with the real Aave v3.0, v3.6 and v2 markets and Morpho Blue, and our own
   Solidity for two Comets, Maker, Liquity v1 and Liquity v2, seeded with borrowers (cached)
2. write a config for it, migrate a fresh SQLite database
3. scan every market at the current block into ONE snapshot, print the bands summed across
   markets with the per-protocol and per-market breakdown, draw the histogram charts
   (a market that fails leaves the snapshot unwritten: its error, naming it, is the exit)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scanner import aio, interrupts
from scanner.config import Config, load_config
from scanner.devnet.network import seeded_devnet, write_config
from scanner.devnet.population import ClusterSpec
from scanner.domain import Direction
from scanner.errors import OutputError
from scanner.pipeline.scan import SnapshotOutcome, scan_chain
from scanner.report.chart import map_title, render_histogram_png
from scanner.report.format import axis_price, band_line, share_lines, usd_compact
from scanner.store import db
from scanner.store.repository import Repository

# A planted cluster so the demo has a known answer: ~$25M of ETH longs liquidated between
# $2,480 and $2,560, i.e. 15-17% below the devnet's ETH price of $3,000 (aave_market.toml).
DEMO_CLUSTERS = (ClusterSpec(asset="WETH", total_usd=25_000_000, low_usd=2_480, high_usd=2_560,
                             clear_margin=True),)
DEMO_MORPHO_POSITIONS = 200
# A ratio axis (README "Ratio axes"): the wstETH loops that ETH/USD cannot liquidate, on a depeg.
DEMO_RATIO_AXIS = '\n[axes.wstETH-ETH]\nmembers = ["wstETH"]\nquote = ["WETH"]\n'


# Marks a directory as the demo's own: a later demo may replace the files it wrote there.
MARKER = ".liqscan-demo"
OWN_FILES = ("config.toml", "liqscan.db", "liqscan.db-journal")


def prepare_out_dir(out: Path) -> None:
    """A new or empty directory, or one a previous demo wrote (then only its own files are
    removed). Anything else is refused: the demo never deletes what it did not write."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file: give a new or empty directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputError(f"--out {out} is not empty and is not a previous demo output: give a "
                          "new or empty directory (nothing was changed)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in OWN_FILES:
            (out / name).unlink(missing_ok=True)
        for chart in [*out.glob("histogram-*.png"), *out.glob("cascade-*.png")]:
            chart.unlink()
        (out / MARKER).write_text("written by `liqscan demo`; a later demo replaces its files\n")
    except OSError as exc:
        raise OutputError(f"cannot write to {out}: {exc.strerror}: choose another --out") from exc


def population_line(args: argparse.Namespace) -> str:
    """What the demo's devnet holds, market by market. Aave v3.0 always holds the planted
    cluster; any other market whose option is 0 is not deployed, so it is left out."""
    aave = f"Aave v3.0 ({args.aave_positions:,} borrowers and the planted ETH cluster)"
    parts = [("Aave v3.6", args.aave36_positions, "borrowers"),
             ("Aave v2", args.aave2_positions, "borrowers"),
             ("two Comets", args.compound_positions, "borrowers each"),
             ("Morpho Blue", DEMO_MORPHO_POSITIONS, "positions"),
             ("three Maker ilks", args.maker_positions, "urns each"),
             ("Liquity v1", args.liquity1_troves, "troves"),
             ("two Liquity v2 branches", args.liquity2_positions, "troves each")]
    return ", ".join([aave, *(f"{name} ({count:,} {unit})" for name, count, unit in parts
                              if count > 0)])


def run_demo(args: argparse.Namespace) -> int:
    out: Path = args.out
    prepare_out_dir(out)
    print(f"starting a devnet with {population_line(args)} (Aave and Morpho are their real "
          "bytecode; the first run seeds it, later runs load a cached state)...")
    with seeded_devnet(seed=args.seed, aave_positions=args.aave_positions,
                       morpho_positions=DEMO_MORPHO_POSITIONS,
                       clusters=DEMO_CLUSTERS, aave36_positions=args.aave36_positions,
                       compound_positions=args.compound_positions,
                       aave2_positions=args.aave2_positions,
                       maker_positions=args.maker_positions, uniswap=True,
                       liquity1_troves=args.liquity1_troves,
                       liquity2_positions=args.liquity2_positions) as devnet:
        config_path = out / "config.toml"
        database_url = f"sqlite:///{(out / 'liqscan.db').resolve()}"
        write_config(devnet, config_path, database_url=database_url)
        config_path.write_text(config_path.read_text() + DEMO_RATIO_AXIS)
        config = load_config(config_path)
        db.upgrade(config.database_url)
        repo = Repository(db.make_engine(config.database_url))
        outcome = aio.run(scan_chain(config, list(config.markets), repo))
        _print_outcome(outcome, out)
        interrupts.release()  # Ctrl-C while it was stored: it is, and was reported: success
        demo_cascade_curve(config, repo, outcome.snapshot_id, out)
    print(f"\nconfig: {config_path}   database: {out / 'liqscan.db'}\n"
          f"try: liqscan --config {config_path} bands --axis ETH  (or --axis wstETH-ETH)")
    return 0


def demo_cascade_curve(config: Config, repo: Repository, snapshot_id: int, out: Path) -> None:
    """The ETH cascade curve through the devnet's Uniswap pools and external depth: printed
    every 5%, stored with the snapshot, charted."""
    from scanner.cascade.depth_source import build_depth, describe_depth
    from scanner.cascade.exposures import axis_book
    from scanner.cascade.live import reread_snapshot
    from scanner.cascade.report import curve_lines
    from scanner.cascade.run import cascade_curve
    from scanner.report.cascade_chart import save_cascade_chart
    from scanner.store.cascades import CascadeRun, latest_curve, save_cascades

    record = repo.get_snapshot(snapshot_id).record
    snapshot, depth = aio.run(reread_snapshot(config, repo, snapshot_id, record, build_depth))
    book = axis_book(snapshot.markets, snapshot.axes, "ETH")
    bands = [b for b in snapshot.bands if b.axis == "ETH"]
    points = cascade_curve(book, depth, bands, include_now=False)
    name = describe_depth(config)
    save_cascades(repo, snapshot_id, [CascadeRun(p.result, p.shock_bps, name, curve=True)
                                      for p in points])
    shown = [p for p in points if abs(p.shock_bps) in (100, 200, 500, 1000, 2000, 3000, 4000)]
    print("\n" + "\n".join(curve_lines(shown, f"ETH cascade curve (depth: {name})")))
    chart = save_cascade_chart(latest_curve(repo, snapshot_id, "ETH"), None, "ETH",
                               f"snapshot {snapshot_id}, block {record.block:,}: ETH cascade curve",
                               out / "cascade-ETH.png")
    print(f"  chart: {chart}   (all 1% steps: liqscan cascade --axis ETH --curve)")


def _print_outcome(outcome: SnapshotOutcome, out: Path) -> None:
    markets = ", ".join(f"{m.record.market_key} (revision {m.record.pool_revision})"
                        for m in outcome.markets)
    print(f"\nscanned {markets} at block {outcome.record.block:,} as one snapshot: "
          f"{outcome.accounts_with_debt:,} positions with debt (snapshot {outcome.snapshot_id})")
    for axis in outcome.axes:
        on_axis = [r for r in outcome.results if r.axis == axis.name]
        at_risk = [r for r in on_axis if r.direction == Direction.DOWN and r.liquidation_price_8dec]
        print(f"\n{axis.name} now {axis_price(axis.reference_price_8dec, axis.unit)}; long "
              "collateral at risk "
              f"{usd_compact(sum(r.collateral_usd_8dec for r in at_risk))}")
        for band in [b for b in outcome.bands if b.axis == axis.name]:
            print("  " + band_line(band, axis.unit))
            for line in share_lines(band.shares):
                print("      " + line)
        chart = render_histogram_png(
            [b for b in outcome.bins if b.axis == axis.name],
            [b for b in outcome.bands if b.axis == axis.name],
            axis.name, axis.reference_price_8dec, out / f"histogram-{axis.name}.png",
            title=map_title(outcome.record, axis.name, outcome.snapshot_id, None),
            unit=axis.unit,
        )
        print(f"  chart: {chart}")

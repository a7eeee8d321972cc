"""What each `liqscan` command does; argument parsing stays in cli.py."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from scanner import interrupts
from scanner.cli import dump_json, wants_progress
from scanner.config import Config, load_config
from scanner.domain import Band, PositionResult, PositionStatus
from scanner.errors import ConfigError, PartialScanError, ScannerError, UsageError
from scanner.pipeline.scan import Progress, ScanOutcome, scan_market
from scanner.redact import scrub
from scanner.report.format import band_line, usd_compact, usd_price
from scanner.store import db, export
from scanner.store.repository import Repository, stored_scan_count


def _repo(config: Config) -> Repository:
    # create=False: no command but `db upgrade` (and the demo) creates a SQLite file
    return Repository(db.make_engine(config.database_url, create=False))


def _scan_id(repo: Repository, args: argparse.Namespace) -> int:
    if args.scan is not None:
        repo.get_scan(args.scan)  # raises a clear error when it does not exist
        scan_id = int(args.scan)
    else:
        latest = repo.latest_scan_id(args.market)
        if latest is None:
            where = f" of market {args.market}" if args.market else ""
            raise UsageError(f"no scan{where} in the database yet: run `liqscan scan` first")
        scan_id = latest
    if args.axis is not None:
        axes = repo.scan_axes(scan_id)
        if args.axis not in axes:
            raise UsageError(f"--axis {args.axis}: scan {scan_id} has no such axis; its axes "
                             f"are {', '.join(axes) or 'none'}")
    return scan_id


# --- scan --------------------------------------------------------------------------------


def cmd_scan(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    markets = [config.market(args.market)] if args.market else list(config.markets)
    if not markets:
        raise ConfigError(f"{config.source.name} defines no markets: add a [[markets]] table "
                          "(see the README's configuration reference)")
    repo = _repo(config)
    outcomes: list[ScanOutcome] = []
    failures: list[tuple[str, ScannerError]] = []
    for index, market in enumerate(markets):
        # Ctrl-C while the previous market was being stored was deferred (interrupts.py):
        # that snapshot is stored and reported; stop before the next one.
        if index and interrupts.release():
            raise KeyboardInterrupt
        try:
            outcomes.append(_scan_one(config, market, repo, args))
        except ScannerError as exc:
            if len(markets) == 1:
                raise
            # each market's snapshot is atomic on its own: keep going, report at the end
            print(f"liqscan: {market.key}: {scrub(exc.message)}", file=sys.stderr)
            failures.append((market.key, exc))
    if args.json:
        dump_json([_scan_summary(o) for o in outcomes])
    interrupts.release()  # everything stored is reported: an interrupt now changes nothing
    if failures:
        _raise_failures(failures, len(outcomes), len(markets))
    return 0


def _scan_one(config: Config, market: Any, repo: Repository, args: argparse.Namespace
              ) -> ScanOutcome:
    with _progress(enabled=wants_progress() and not args.json) as progress:
        outcome = asyncio.run(scan_market(config, market, repo, args.block, progress,
                                            store_unverified=args.store_unverified))
    if not args.json:
        _print_scan(outcome)
    return outcome


def _raise_failures(failures: list[tuple[str, ScannerError]], scanned: int, total: int) -> None:
    names = ", ".join(key for key, _ in failures)
    if scanned == 0:
        # nothing was stored: not "partial", but the failure itself (its code, e.g. 75)
        first = failures[0][1]
        error = ScannerError(f"no market scanned ({len(failures)} failed: {names}); first: "
                             f"{first.message}")
        error.exit_code = first.exit_code
        raise error
    raise PartialScanError(
        f"{scanned} of {total} markets scanned; failed: {names} "
        "(their snapshots were not written; see the messages above)"
    )


def _scan_summary(outcome: ScanOutcome) -> dict[str, Any]:
    record = outcome.record
    return {
        "scan_id": outcome.scan_id, "market": record.market_key, "chain": record.chain,
        "block": record.block, "block_timestamp": record.block_timestamp,
        "pool_revision": record.pool_revision, "accounts_known": outcome.accounts_known,
        "accounts_new": outcome.accounts_new, "positions_with_debt": outcome.accounts_with_debt,
        "already_stored": outcome.already_stored,
        "unverified_accounts": list(outcome.mirror_mismatches),
        "bands": export.band_records(record, outcome.bands),
    }


def _print_scan(outcome: ScanOutcome) -> None:
    record = outcome.record
    stored = "identical to the stored" if outcome.already_stored else "stored as"
    print(f"{record.market_key}: block {record.block:,} (pool revision {record.pool_revision}), "
          f"{outcome.accounts_with_debt:,} positions with debt of {outcome.accounts_known:,} "
          f"borrowers ({outcome.accounts_new:,} new); {stored} scan {outcome.scan_id}")
    if outcome.mirror_mismatches:
        print(f"warning: {len(outcome.mirror_mismatches):,} accounts differ from the pool's own "
              "account data: stored as unverified, without prices, outside bins and bands",
              file=sys.stderr)
    for axis in outcome.axes:
        on_axis = [r for r in outcome.results if r.axis == axis.name]
        at_risk = [r for r in on_axis if r.status == PositionStatus.AT_RISK]
        now = [r for r in on_axis if r.status == PositionStatus.LIQUIDATABLE_NOW]
        print(f"  {axis.name} {usd_price(axis.reference_price_8dec)}: {len(at_risk):,} at risk "
              f"({usd_compact(sum(r.collateral_usd_8dec for r in at_risk))} collateral), "
              f"{len(now):,} liquidatable now")
    _print_bands(list(outcome.bands))


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress]:
    if not enabled:
        yield lambda stage, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    # on stderr: stdout stays clean for tables and --json
    with Progress(TextColumn("{task.description:<10}"), BarColumn(), TextColumn(
            "{task.completed:,}/{task.total}"), TimeElapsedColumn(),
            transient=True, console=Console(stderr=True)) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        yield update


# --- reading stored scans ----------------------------------------------------------------


def _print_bands(bands: list[Band]) -> None:
    if not bands:
        print("  no dense liquidation bands")
        return
    for band in sorted(bands, key=lambda b: (b.axis, b.rank)):
        print("  " + band_line(band))


def cmd_bands(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    repo = _repo(config)
    scan_id = _scan_id(repo, args)
    _, record = repo.get_scan(scan_id)
    bands = repo.load_bands(scan_id, args.axis)
    if args.json:
        dump_json(export.band_records(record, bands))
        return 0
    print(f"{record.market_key} at block {record.block:,} (scan {scan_id})")
    _print_bands(bands)
    return 0


def cmd_positions(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    repo = _repo(config)
    scan_id = _scan_id(repo, args)
    _, record = repo.get_scan(scan_id)
    near_8dec = int(args.near * Decimal(10**8)) if args.near is not None else None
    positions = repo.load_positions(scan_id, axis=args.axis, near_8dec=near_8dec,
                                    limit=args.limit)
    if args.json:
        dump_json(export.position_records(record, positions))
        return 0
    for p in positions:
        print(_position_line(p))
    return 0


def _position_line(p: PositionResult) -> str:
    price = usd_price(p.liquidation_price_8dec) if p.liquidation_price_8dec else "-"
    direction = p.direction.value if p.direction else "-"
    return (f"{p.axis:<5}{p.account}  {p.status.value:<17}{direction:<5}{price:>16}  "
            f"HF {_hf(p.health_factor_wad):>8}  coll {usd_compact(p.collateral_usd_8dec):>9}  "
            f"debt {usd_compact(p.debt_usd_8dec):>9}")


def _hf(health_factor_wad: int) -> str:
    if health_factor_wad >= 2**255:
        return "inf"
    return f"{health_factor_wad / 10**18:.4f}"


def cmd_export(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    repo = _repo(config)
    scan_id = _scan_id(repo, args)
    writers = {"positions": export.export_positions, "bins": export.export_bins,
               "bands": export.export_bands}
    rows = writers[args.what](repo, scan_id, args.format, args.out)
    print(f"wrote {rows:,} {args.what} of scan {scan_id} to {args.out}", file=sys.stderr)
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    where = db.safe_url(config.database_url)
    if args.db_command == "upgrade":
        db.upgrade(config.database_url)
        print(f"database {where} is at the latest schema")
        return 0
    steps = db.downgrade_steps(config.database_url, args.revision)
    if not steps:
        print(f"database {where} is already at {args.revision}: nothing to drop")
        return 0
    print(f"downgrading {where} drops what {len(steps)} migration(s) created:", file=sys.stderr)
    for revision, created in steps:
        print(f"  {revision}: {created}", file=sys.stderr)
    if steps[-1][0] == "0001":
        engine = db.make_engine(config.database_url, create=False)
        try:
            scans = stored_scan_count(engine)
        finally:
            engine.dispose()
        print(f"  including every table, with all {scans:,} stored scans", file=sys.stderr)
    db.downgrade(config.database_url, args.revision)
    print(f"database {where} downgraded to {args.revision}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from scanner.demo import run_demo

    return run_demo(args)

"""What each `liqscan` command does; argument parsing stays in cli.py."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from scanner.cli import dump_json, wants_progress
from scanner.config import Config, load_config
from scanner.domain import Band, PositionResult, PositionStatus
from scanner.errors import PartialScanError, ScannerError, UsageError
from scanner.pipeline.scan import Progress, ScanOutcome, scan_market
from scanner.report.format import band_line, usd_compact, usd_price
from scanner.store import db, export
from scanner.store.repository import Repository


def _repo(config: Config) -> Repository:
    return Repository(db.make_engine(config.database_url))


def _scan_id(repo: Repository, args: argparse.Namespace) -> int:
    if args.scan is not None:
        repo.get_scan(args.scan)  # raises a clear error when it does not exist
        return int(args.scan)
    scan_id = repo.latest_scan_id(args.market)
    if scan_id is None:
        where = f" of market {args.market}" if args.market else ""
        raise UsageError(f"no scan{where} in the database yet: run `liqscan scan` first")
    return scan_id


# --- scan --------------------------------------------------------------------------------


def cmd_scan(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    markets = [config.market(args.market)] if args.market else list(config.markets)
    repo = _repo(config)
    outcomes = []
    failures: list[tuple[str, ScannerError]] = []
    for market in markets:
        try:
            with _progress(enabled=wants_progress() and not args.json) as progress:
                outcome = asyncio.run(scan_market(config, market, repo, args.block, progress,
                                                    store_unverified=args.store_unverified))
        except ScannerError as exc:
            if len(markets) == 1:
                raise
            # each market's snapshot is atomic on its own: keep going, report at the end
            print(f"liqscan: {market.key}: {exc.message}", file=sys.stderr)
            failures.append((market.key, exc))
            continue
        outcomes.append(outcome)
        if not args.json:
            _print_scan(outcome)
    if args.json:
        dump_json([_scan_summary(o) for o in outcomes])
    if failures:
        names = ", ".join(key for key, _ in failures)
        raise PartialScanError(
            f"{len(outcomes)} of {len(markets)} markets scanned; failed: {names} "
            "(their snapshots were not written; see the messages above)"
        )
    return 0


def retries_line(retries_by_kind: dict[str, int]) -> str:
    """`12 RPC retries (http-5xx 7, timeout 3, header-not-found 2)`, largest first."""
    kinds = sorted(retries_by_kind.items(), key=lambda item: (-item[1], item[0]))
    total = sum(retries_by_kind.values())
    return f"{total} RPC retries ({', '.join(f'{kind} {n}' for kind, n in kinds)})"


def _scan_summary(outcome: ScanOutcome) -> dict[str, Any]:
    record = outcome.record
    return {
        "scan_id": outcome.scan_id, "market": record.market_key, "chain": record.chain,
        "block": record.block, "block_timestamp": record.block_timestamp,
        "pool_revision": record.pool_revision, "accounts_known": outcome.accounts_known,
        "accounts_new": outcome.accounts_new, "positions_with_debt": outcome.accounts_with_debt,
        "already_stored": outcome.already_stored,
        "unverified_accounts": list(outcome.mirror_mismatches),
        "rpc_retries": dict(sorted(outcome.rpc_retries.items())),
        "bands": export.band_records(record, outcome.bands),
    }


def _print_scan(outcome: ScanOutcome) -> None:
    record = outcome.record
    stored = "identical to the stored" if outcome.already_stored else "stored as"
    print(f"{record.market_key}: block {record.block:,} (pool revision {record.pool_revision}), "
          f"{outcome.accounts_with_debt:,} positions with debt of {outcome.accounts_known:,} "
          f"borrowers ({outcome.accounts_new:,} new); {stored} scan {outcome.scan_id}")
    if outcome.rpc_retries:
        print("  " + retries_line(outcome.rpc_retries))
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
    if args.db_command == "upgrade":
        db.upgrade(config.database_url)
        print(f"database {db.safe_url(config.database_url)} is at the latest schema")
    else:
        db.downgrade(config.database_url, args.revision)
        print(f"database {db.safe_url(config.database_url)} downgraded to {args.revision}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from scanner.demo import run_demo

    return run_demo(args)

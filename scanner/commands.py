"""What each `liqscan` command does; argument parsing stays in cli.py."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from scanner import aio, interrupts
from scanner.cli import dump_json, wants_progress
from scanner.config import Config, MarketConfig, load_config
from scanner.domain import Band, PositionStatus
from scanner.errors import ConfigError, PartialScanError, ScannerError, UsageError
from scanner.redact import scrub
from scanner.report.format import axis_price, band_line, share_lines, usd_compact
from scanner.store import db, export
from scanner.store.repository import Repository, stored_scan_count

if TYPE_CHECKING:  # the scan pipeline (eth_abi, the chain client) loads only for `scan`
    from scanner.pipeline.scan import Progress, SnapshotOutcome


def _repo(config: Config) -> Repository:
    # create=False: no command but `db upgrade` (and the demo) creates a SQLite file
    return Repository(db.make_engine(config.database_url, create=False))


# --- scan --------------------------------------------------------------------------------


def cmd_scan(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    markets = [config.market(args.market)] if args.market else list(config.markets)
    by_chain: dict[str, list[MarketConfig]] = {}
    for market in markets:
        by_chain.setdefault(market.chain, []).append(market)
    if not by_chain:
        raise ConfigError(f"{config.source.name} defines no markets: add a [[markets]] table "
                          "(see the README's configuration reference)")
    if args.block is not None and len(by_chain) > 1:
        raise UsageError("--block names a block of one chain: add --market KEY")
    repo = _repo(config)
    outcomes: list[SnapshotOutcome] = []
    failures: list[tuple[str, ScannerError]] = []
    for index, (chain, chain_markets) in enumerate(by_chain.items()):
        # Ctrl-C while the previous chain's snapshot was being stored was deferred
        # (interrupts.py): that snapshot is stored and reported; stop before the next one.
        if index and interrupts.release():
            raise KeyboardInterrupt
        try:
            outcomes.append(_scan_one(config, chain_markets, repo, args))
        except ScannerError as exc:
            if len(by_chain) == 1:
                raise
            # each chain's snapshot is atomic on its own: keep going, report at the end
            print(f"liqscan: chain {chain}: {scrub(exc.message)}", file=sys.stderr)
            failures.append((chain, exc))
    if args.json:
        dump_json([_scan_summary(o) for o in outcomes])
    interrupts.release()  # everything stored is reported: an interrupt now changes nothing
    if failures:
        _raise_failures(failures, len(outcomes), len(by_chain))
    return 0


def _scan_one(config: Config, markets: list[MarketConfig], repo: Repository,
              args: argparse.Namespace) -> SnapshotOutcome:
    if getattr(args, "incremental", False):
        return _scan_incremental(config, markets, repo, args)
    with _progress(enabled=wants_progress() and not args.json) as progress:
        from scanner.pipeline.scan import scan_chain

        outcome = aio.run(scan_chain(config, markets, repo, args.block, progress,
                                     store_unverified=args.store_unverified))
    if not args.json:
        _print_scan(outcome)
    return outcome


def _scan_incremental(config: Config, markets: list[MarketConfig], repo: Repository,
                      args: argparse.Namespace) -> SnapshotOutcome:
    """`liqscan scan --incremental` (scanner.pipeline.incremental)."""
    from scanner.pipeline.incremental import scan_incremental

    with _progress(enabled=wants_progress() and not args.json) as progress:
        done = aio.run(scan_incremental(config, markets, repo, args.block, progress,
                                        store_unverified=args.store_unverified))
    if not args.json:
        _print_scan(done.outcome)
        print(f"incremental: {done.reread:,} positions read, {done.derived:,} derived"
              if done.incremental else f"full snapshot: {done.reason}")
    return done.outcome


def _raise_failures(failures: list[tuple[str, ScannerError]], scanned: int, total: int) -> None:
    names = ", ".join(key for key, _ in failures)
    if scanned == 0:
        # nothing was stored: not "partial", but the failure itself (its code, e.g. 75)
        first = failures[0][1]
        error = ScannerError(f"no chain scanned ({len(failures)} failed: {names}); first: "
                             f"{first.message}")
        error.exit_code = first.exit_code
        raise error
    raise PartialScanError(
        f"{scanned} of {total} chains scanned; failed: {names} "
        "(their snapshots were not written; see the messages above)"
    )


def retries_line(retries_by_kind: dict[str, int]) -> str:
    """`12 RPC retries (http-5xx 7, timeout 3, header-not-found 2)`, largest first."""
    kinds = sorted(retries_by_kind.items(), key=lambda item: (-item[1], item[0]))
    total = sum(retries_by_kind.values())
    return f"{total} RPC retries ({', '.join(f'{kind} {n}' for kind, n in kinds)})"


def _scan_summary(outcome: SnapshotOutcome) -> dict[str, Any]:
    record = outcome.record
    return {
        "snapshot_id": outcome.snapshot_id, "chain": record.chain, "block": record.block,
        "block_timestamp": record.block_timestamp, "already_stored": outcome.already_stored,
        "markets": [{
            "market": m.record.market_key, "protocol": m.record.protocol,
            "scan_id": outcome.scan_ids.get(m.record.market_key),
            "pool_revision": m.record.pool_revision, "accounts_known": m.accounts_known,
            "accounts_new": m.accounts_new, "positions_with_debt": m.accounts_with_debt,
            "unverified_accounts": list(m.read.mirror_mismatches),
        } for m in outcome.markets],
        "rpc_retries": dict(sorted(outcome.rpc_retries.items())),
        "bands": export.band_records(record, outcome.bands,
                                     {a.name: a.unit for a in outcome.axes}),
    }


def _print_scan(outcome: SnapshotOutcome) -> None:
    record = outcome.record
    stored = "identical to the stored" if outcome.already_stored else "stored as"
    print(f"{record.chain}: block {record.block:,}, {len(outcome.markets)} markets; "
          f"{stored} snapshot {outcome.snapshot_id}")
    for m in outcome.markets:
        print(f"  {m.record.market_key} ({m.record.protocol}, revision {m.record.pool_revision}):"
              f" {m.accounts_with_debt:,} positions with debt of {m.accounts_known:,} "
              f"borrowers ({m.accounts_new:,} new)")
        if m.read.mirror_mismatches:
            print(f"warning: {m.record.market_key}: {len(m.read.mirror_mismatches):,} accounts "
                  "differ from the protocol's own account data: stored as unverified, without "
                  "prices, outside bins and bands", file=sys.stderr)
    if outcome.rpc_retries:
        print("  " + retries_line(outcome.rpc_retries))
    for axis in outcome.axes:
        on_axis = [r for r in outcome.results if r.axis == axis.name]
        at_risk = [r for r in on_axis if r.status == PositionStatus.AT_RISK]
        now = [r for r in on_axis if r.status == PositionStatus.LIQUIDATABLE_NOW]
        print(f"  {axis.name} {axis_price(axis.reference_price_8dec, axis.unit)}: "
              f"{len(at_risk):,} at risk "
              f"({usd_compact(sum(r.collateral_usd_8dec for r in at_risk))} collateral), "
              f"{len(now):,} liquidatable now")
    _print_bands(list(outcome.bands), breakdown=len(outcome.markets) > 1,
                 units={a.name: a.unit for a in outcome.axes})


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


def _print_bands(bands: list[Band], breakdown: bool, units: dict[str, str]) -> None:
    if not bands:
        print("  no dense liquidation bands")
        return
    for band in sorted(bands, key=lambda b: (b.axis, b.rank)):
        print("  " + band_line(band, units.get(band.axis, "USD")))
        if breakdown:
            for line in share_lines(band.shares):
                print("      " + line)


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

"""`liqscan cascade`: a price shock followed through every protocol's liquidations and the
market's depth to where the spiral stops.

    liqscan cascade --axis ETH --shock -5%       # one cascade (or --to 2500)
    liqscan cascade --axis ETH --curve           # shocks of 1% .. 40% each way
    liqscan cascade ... --json                   # the same as JSON
    liqscan cascade ... --include-now            # positions liquidatable now in round 0

Reads the snapshot's markets again at its block (live.py), runs the engine, stores the result
with the snapshot (migration 0013) and prints it.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from scanner.cascade.shock import parse_shock_bps, parse_to_price_8dec, shocked_price_8dec
from scanner.config import Config, load_config
from scanner.errors import UsageError

if TYPE_CHECKING:  # the scan pipeline and chain client load when the command runs, not at start-up
    from scanner.cascade.live import DepthFactory
    from scanner.store.repository import Repository

# `--shock -5%` must reach the option as a value, not as an unknown flag
_SIGNED_VALUE = re.compile(r"^-\d+(\.\d+)?%?$|^-\.\d+%?$")


def register(subparsers: Any) -> None:
    """Add `cascade` to an argparse subparsers object (handler in `args.handler`)."""
    cascade = subparsers.add_parser(
        "cascade", help="follow a price shock through the liquidations it sets off and the "
                        "market depth to where the spiral stops")
    cascade._negative_number_matcher = _SIGNED_VALUE
    cascade.add_argument("--axis", required=True, help="price axis, e.g. ETH (a USD axis)")
    what = cascade.add_mutually_exclusive_group(required=True)
    what.add_argument("--shock", metavar="PCT",
                      help="signed move of the axis price, e.g. -5%% or +5%%")
    what.add_argument("--to", metavar="PRICE", help="the axis price the shock moves to (USD)")
    what.add_argument("--curve", action="store_true",
                      help="the cascade curve: shocks of -1%% .. -40%% (and +1%% .. +40%% when "
                           "the axis has shorts)")
    cascade.add_argument("--include-now", action="store_true",
                         help="put the positions liquidatable at the snapshot's price in round 0 "
                              "of every shock (default: reported apart, out of the spiral)")
    cascade.add_argument("--snapshot", type=int, help="snapshot id (default: the latest)")
    cascade.add_argument("--chain", help="chain of the latest snapshot (several chains stored)")
    cascade.add_argument("--json", action="store_true", help="print JSON")
    cascade.set_defaults(handler=cmd_cascade)


def cmd_cascade(args: argparse.Namespace) -> int:
    from scanner.cascade.depth_source import build_depth

    return run_command(args, build_depth)


def run_command(args: argparse.Namespace, depth_factory: DepthFactory) -> int:
    # here, not at import: `build_parser` registers this command for every command's start-up
    from scanner import aio
    from scanner.cascade.exposures import axis_book
    from scanner.cascade.live import reread_snapshot
    from scanner.cascade.report import curve_lines, path_lines
    from scanner.cascade.run import cascade_curve, cascade_to
    from scanner.store import db
    from scanner.store.cascades import CascadeRun, cascade_json, save_cascades
    from scanner.store.repository import Repository

    shock_bps = parse_shock_bps(args.shock) if args.shock is not None else None
    target_8dec = parse_to_price_8dec(args.to) if args.to is not None else None
    config = load_config(args.config)
    repo = Repository(db.make_engine(config.database_url, create=False))
    snapshot_id = _snapshot_id(repo, args)
    record = repo.get_snapshot(snapshot_id).record
    axes = repo.stored_axes(snapshot_id)
    if args.axis not in axes:
        raise UsageError(f"--axis {args.axis}: snapshot {snapshot_id} has no such axis; its "
                         f"axes are {', '.join(axes) or 'none'}")
    outcome, depth = aio.run(reread_snapshot(config, repo, snapshot_id, record,
                                                 depth_factory))
    book = axis_book(outcome.markets, outcome.axes, args.axis)
    bands = [b for b in outcome.bands if b.axis == args.axis]
    now = book.axis.reference_price_8dec
    name = _depth_name(config, depth)
    header = (f"cascade on snapshot {snapshot_id} ({record.chain}, block {record.block}); "
              f"depth: {name}")
    if args.curve:
        points = cascade_curve(book, depth, bands, include_now=args.include_now)
        runs = [CascadeRun(p.result, p.shock_bps, name, curve=True) for p in points]
        save_cascades(repo, snapshot_id, runs)
        _print(args, [cascade_json(r) for r in runs], curve_lines(points, header))
        return 0
    if shock_bps is not None:
        price_8dec = shocked_price_8dec(now, shock_bps)
    else:  # argparse requires exactly one of --shock, --to and --curve
        price_8dec = target_8dec or now
        shock_bps = (price_8dec - now) * 10_000 // now
    if price_8dec == now:
        raise UsageError(f"--to {args.to}: that is the snapshot's price; choose another")
    run = CascadeRun(cascade_to(book, depth, price_8dec, bands, args.include_now), shock_bps,
                     name)
    save_cascades(repo, snapshot_id, [run])
    _print(args, cascade_json(run), path_lines(run.result, header))
    return 0


def _snapshot_id(repo: Repository, args: argparse.Namespace) -> int:
    if args.snapshot is not None:
        return int(args.snapshot)
    found = repo.latest_snapshot_id(args.chain)
    if found is None:
        raise UsageError("no snapshot in the database yet: run `liqscan scan` first")
    return found


def _depth_name(config: Config, depth: object) -> str:
    from scanner.cascade.depth_source import describe_depth

    return describe_depth(config) if config.cascade_depth is not None else type(depth).__name__


def _print(args: argparse.Namespace, as_json: Any, lines: list[str]) -> None:
    from scanner.cli import dump_json

    if args.json:
        dump_json(as_json)
    else:
        print("\n".join(lines))



"""Arguments of the analyst's commands, added to the parser cli.py builds.

Kept apart from cli.py so commands added by other modules merge without conflicts:
`extend(parser, sub)` adds options to `bands`, `positions` and `export`, adds `summary`,
`chart` and `completion`, then makes the global options work after any subcommand and gives
every option without a help text one.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from scanner.domain import PositionStatus
from scanner.protocols import PROTOCOLS

SORTS = ("distance", "size", "health")
STATUSES = (*(str(s) for s in PositionStatus), "all")
SHELLS = ("bash", "zsh", "tcsh")


def liqscan_version() -> str:
    # imported when asked: importlib.metadata (and email) cost every command's start-up
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("liqscan")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class _LazyVersion(argparse._VersionAction):
    """argparse's version action (shell completion knows it as one), but the version is looked
    up only when asked for: the package metadata scan cost every command's start-up."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        self.version = f"liqscan {liqscan_version()}"
        super().__call__(parser, namespace, values, option_string)


def _usd_amount(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").replace("_", "").removeprefix("$"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a USD amount: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"USD amount must be a finite number >= 0: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _selectors(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--axis", help="price axis, e.g. ETH (default: all)")
    parser.add_argument("--snapshot", "--scan", dest="snapshot", type=int,
                        help="snapshot id (default: the latest complete snapshot)")
    parser.add_argument("--chain", help="chain of the latest snapshot (needed when the "
                        "database holds several chains)")
    parser.add_argument("--market", help="only this market of the snapshot")


def _handler(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        from scanner import analyst

        return int(getattr(analyst, name)(args))

    return run


def extend(parser: argparse.ArgumentParser, sub: Any) -> None:
    parser.add_argument("--version", action=_LazyVersion, help="print the version and exit")
    _extend_bands(sub.choices["bands"])
    _extend_positions(sub.choices["positions"])
    _extend_export(sub.choices["export"])
    _add_summary(sub)
    _add_chart(sub)
    completion = sub.add_parser("completion", help="print a shell completion script "
                                "(e.g. `liqscan completion bash > ~/.local/share/bash-"
                                "completion/completions/liqscan`)")
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    completion.set_defaults(handler=lambda args: _print_completion(parser, args.shell))


def finish(parser: argparse.ArgumentParser) -> None:
    """After every command is registered: global options after the subcommand too, and a
    help text on every option."""
    globals_anywhere(parser)
    default_helps(parser)


def _extend_bands(bands: argparse.ArgumentParser) -> None:
    bands.add_argument("--history", action="store_true",
                       help="how each band's edges, collateral and distance moved over the "
                       "last snapshots (a band keeps its track id while it overlaps itself)")
    bands.add_argument("--snapshots", type=_positive_int, default=10, metavar="N",
                       help="with --history: this many snapshots, up to --snapshot "
                       "(default 10)")
    bands.set_defaults(handler=_handler("cmd_bands"))


def _extend_positions(positions: argparse.ArgumentParser) -> None:
    positions.add_argument("--sort", choices=SORTS, default="distance",
                           help="distance: nearest to liquidation first (liquidatable now, "
                           "then the smallest price move); size: largest collateral first; "
                           "health: lowest health factor first (default: distance)")
    positions.add_argument("--status", choices=STATUSES, action="append", metavar="STATUS",
                           help=f"only this status, repeatable: {', '.join(STATUSES)} "
                           "(default: liquidatable_now and at_risk)")
    positions.add_argument("--min-collateral", type=_usd_amount, metavar="USD",
                           help="only positions with at least this collateral (USD)")
    positions.add_argument("--protocol", choices=sorted(PROTOCOLS), metavar="PROTOCOL",
                           help=f"only this protocol: {', '.join(sorted(PROTOCOLS))}")
    positions.set_defaults(handler=_handler("cmd_positions"))


def _extend_export(export: argparse.ArgumentParser) -> None:
    for action in export._actions:
        if action.dest == "format":
            action.choices = ["csv", "json", "ndjson", "parquet"]
            action.help = "csv, json (one array), ndjson (one JSON object per line) or parquet"
        elif action.dest == "out":
            action.help = "output file, or - for stdout (not parquet)"
        elif action.dest == "what":
            action.help = "what to write: positions, histogram bins or bands"
    export.set_defaults(handler=_handler("cmd_export"))


def _add_summary(sub: Any) -> None:
    summary = sub.add_parser("summary", help="the numbers a risk desk reads first: collateral "
                             "liquidated by a 5/10/20%% move each way, liquidatable now, top "
                             "bands")
    _selectors(summary)
    summary.add_argument("--top", type=_positive_int, default=3, metavar="N",
                         help="bands and walls to list per axis (default 3)")
    summary.add_argument("--json", action="store_true", help="print a JSON object")
    summary.set_defaults(handler=_handler("cmd_summary"))


def _add_chart(sub: Any) -> None:
    chart = sub.add_parser("chart", help="draw the liquidation map of one axis (PNG or SVG)")
    _selectors(chart)
    chart.add_argument("--out", type=Path, required=True, metavar="FILE",
                       help="FILE.png or FILE.svg")
    chart.add_argument("--linear", action="store_true",
                       help="linear y axis (default: log, so one band does not flatten the "
                       "rest)")
    chart.add_argument("--cascade", action="store_true",
                       help="draw the stored cascade curve and newest cascade of the axis "
                            "instead (liqscan cascade)")
    chart.set_defaults(handler=_handler("cmd_chart"))


def _print_completion(parser: argparse.ArgumentParser, shell: str) -> int:
    import shtab

    sys.stdout.write(shtab.complete(parser, shell))  # positional: `shell=` reads as a shell call
    return 0


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found.append(child)
                found += _subparsers(child)
    return found


def globals_anywhere(parser: argparse.ArgumentParser) -> None:
    """`liqscan bands --config X -v` as well as `liqscan --config X -v bands`: each
    subcommand accepts them too, defaulting to SUPPRESS so the value given before it stays."""
    for child in _subparsers(parser):
        taken = {s for a in child._actions for s in a.option_strings}
        if "--config" not in taken:
            child.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                               help="config file (default: $LIQSCAN_CONFIG or ./config.toml)")
        if "-v" not in taken and "--verbose" not in taken:
            child.add_argument("-v", "--verbose", action="store_true",
                               default=argparse.SUPPRESS, help="log details to stderr")


_DEFAULT_HELPS = {
    "aave_positions": "borrowers of the Aave v3.0 market",
    "morpho_positions": "borrowers of the Morpho Blue markets",
    "seed": "seed of the deterministic borrower generator",
    "out": "output directory",
    "revision": "Alembic revision to go down to (default: base, an empty database)",
}


def default_helps(parser: argparse.ArgumentParser) -> None:
    for child in [parser, *_subparsers(parser)]:
        for action in child._actions:
            if action.help is None and action.option_strings:
                action.help = _DEFAULT_HELPS.get(action.dest, action.dest.replace("_", " "))

"""The `liqscan` command.

Exit codes: 0 ok; 1 unexpected bug; 2 bad usage; 3 some chains failed (others stored);
65 inconsistent data from the node or database; 69 local toolchain missing (run `make setup`);
73 cannot create an output file; 75 RPC unavailable (retry later); 76 database unreachable or
not migrated; 78 bad config; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn

from scanner import interrupts
from scanner.errors import ScannerError, UsageError
from scanner.pipe import protect_stdout
from scanner.redact import ScrubFilter, scrub

EXIT_BUG = 1
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, like every other error (exit 2); `--help` shows the rest."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"liqscan: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="liqscan", description="Find where lending-protocol collateral gets liquidated.",
        epilog="Exit codes: 0 ok, 2 usage, 3 partial scan, 65 inconsistent data, 69 toolchain, "
        "73 cannot create output, 75 RPC unavailable, 76 database, 78 config, 130 interrupted.",
    )
    parser.add_argument("--config", type=Path, default=None,
                        help="config file (default: $LIQSCAN_CONFIG or ./config.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = sub.add_parser("scan", help="scan every market of a chain at one pinned block and "
                          "store them as one snapshot")
    scan.add_argument("--market", help="market key from the config (default: every market)")
    scan.add_argument("--block", type=int, help="block to pin (default: head - confirmations)")
    scan.add_argument("--json", action="store_true", help="print a JSON summary")
    scan.add_argument("--store-unverified", action="store_true",
                      help="store accounts whose health factor liqscan cannot reproduce, "
                           "flagged unverified, without prices (default: fail, exit 65)")
    scan.add_argument("--incremental", action="store_true",
                      help="re-read only accounts with events since the newest stored "
                           "snapshot and derive the others exactly (full scan on any doubt)")

    bands = sub.add_parser("bands", help="show the dense liquidation bands of a snapshot")
    _add_scan_selectors(bands)
    bands.add_argument("--json", action="store_true", help="print a JSON array")

    positions = sub.add_parser("positions", help="list positions and their liquidation prices")
    _add_scan_selectors(positions)
    positions.add_argument("--near", type=_decimal_arg, help="order by distance to this USD price")
    positions.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
    positions.add_argument("--json", action="store_true", help="print a JSON array")

    export = sub.add_parser("export", help="write positions, bins or bands to a file")
    _add_scan_selectors(export)
    export.add_argument("--what", choices=["positions", "bins", "bands"], required=True)
    export.add_argument("--format", choices=["csv", "json", "parquet"], required=True)
    export.add_argument("--out", type=Path, required=True, help="output file")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="migrate the database to the latest schema")
    down = db_sub.add_parser("downgrade", help="migrate the database down (drops data)")
    down.add_argument("--revision", required=True,
                      help="target: -1 (one step back), a revision id, or base (drops every "
                           "table and every stored scan)")

    demo = sub.add_parser("demo", help="devnet with real Aave + scan + bands + chart")
    demo.add_argument("--aave-positions", type=int, default=2000)
    demo.add_argument("--aave36-positions", type=int, default=400, metavar="N",
                      help="borrowers of the Aave v3.6 market")
    demo.add_argument("--aave2-positions", type=int, default=240, metavar="N",
                      help="borrowers of the Aave v2 market")
    demo.add_argument("--compound-positions", type=int, default=220, metavar="C",
                      help="borrowers of each of the two Comets")
    demo.add_argument("--maker-positions", type=int, default=80, metavar="K",
                      help="urns of each Maker ilk (ETH-A, WSTETH-A, WBTC-A)")
    demo.add_argument("--liquity1-troves", type=int, default=240, metavar="T",
                      help="Liquity v1 troves (0: no Liquity v1)")
    demo.add_argument("--liquity2-positions", type=int, default=100, metavar="T",
                      help="troves of each live Liquity v2 branch (WETH, wstETH)")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--out", type=Path, default=Path("out/demo"),
                      help="new or empty directory, or a previous demo output (default out/demo)")

    from scanner.cascade.command import register as register_cascade
    from scanner.daemon.command import register as register_daemon
    from scanner.devnet.cli import register as register_devnet
    from scanner.serve.cli import register as register_serve

    register_devnet(sub)
    register_daemon(sub)
    register_serve(sub)
    register_cascade(sub)
    from scanner.cli_analyst import extend, finish

    extend(parser, sub)
    finish(parser)  # last: global options after any subcommand, help on every option
    return parser


def _add_scan_selectors(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--axis", help="price axis, e.g. ETH (default: all)")
    parser.add_argument("--snapshot", "--scan", dest="snapshot", type=int,
                        help="snapshot id (default: the latest complete snapshot)")
    parser.add_argument("--chain", help="chain of the latest snapshot (needed when the "
                        "database holds several chains)")
    parser.add_argument("--market", help="only this market of the snapshot")


# Prices are stored as 8-decimal integers below 2**256; far above any real asset price.
MAX_PRICE_USD = Decimal(10) ** 60


def _decimal_arg(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").removeprefix("$"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a price: {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"price must be a finite number: {text!r}")
    if value <= 0 or value >= MAX_PRICE_USD:
        raise argparse.ArgumentTypeError(f"price must be positive and below 1e60: {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    protect_stdout()
    with interrupts.handled():
        try:
            args = build_parser().parse_args(argv)
        except KeyboardInterrupt:
            return _interrupted()
        _setup_logging(args.verbose)
        try:
            return run(args)
        except ScannerError as exc:
            print(f"liqscan: error: {scrub(exc.message)}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            return _interrupted()
        except Exception:
            # A bug: the traceback helps, but not with an API key in it.
            print(scrub(traceback.format_exc()), file=sys.stderr, end="")
            return EXIT_BUG


def _interrupted() -> int:
    print("liqscan: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="liqscan: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO is migration chatter
    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubFilter())  # API keys never reach the log, whoever logs


def run(args: argparse.Namespace) -> int:
    handler = getattr(args, "handler", None)
    if handler is None and args.command in ("scan", "db", "demo"):
        from scanner import commands  # SQLAlchemy and the store: not for commands with a handler

        handlers = {
            "scan": commands.cmd_scan,
            "db": commands.cmd_db,
            "demo": commands.cmd_demo,
        }
        return handlers[args.command](args)
    if handler is None:
        raise UsageError(f"unknown command {args.command}")
    return int(handler(args))


def dump_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def wants_progress() -> bool:
    return sys.stderr.isatty() and not os.environ.get("LIQSCAN_NO_PROGRESS")


if __name__ == "__main__":
    sys.exit(main())

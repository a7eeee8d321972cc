"""`liqscan daemon [--http HOST:PORT]`: follow every configured chain until SIGTERM/SIGINT.

Exit codes: 0 after a requested stop; 76 when the database is unreachable or not migrated at
start (later outages are waited out); 78 bad config (also a pool revision needing review).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from typing import Any

from scanner.config import load_config
from scanner.daemon.settings import require_http


def register(subparsers: Any) -> None:
    daemon = subparsers.add_parser(
        "daemon", help="follow the chain: a snapshot at every new block, alerts, HTTP API")
    daemon.add_argument("--http", metavar="HOST:PORT",
                        help="serve the HTTP API and page (default: [daemon] http, else none; "
                             "host 127.0.0.1 unless given)")
    daemon.set_defaults(handler=cmd_daemon)


def cmd_daemon(args: argparse.Namespace) -> int:
    from scanner import aio  # here: registering the command must not cost every command asyncio
    from scanner.daemon.service import Daemon

    # web3's provider logs every request and subscription step at INFO: not the daemon's story
    for name in ("web3", "websockets", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    config = load_config(args.config)
    http = require_http(args.http) if args.http else config.daemon.http
    config = dataclasses.replace(config, daemon=dataclasses.replace(config.daemon, http=http))
    aio.run(Daemon(config, http).run())
    return 0

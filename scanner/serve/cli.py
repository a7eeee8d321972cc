"""`liqscan serve`: the HTTP API and the web page over an existing database, no daemon.

    liqscan serve                          # http://127.0.0.1:8787, the config's database
    liqscan serve --http 0.0.0.0:8080      # listen beyond this machine: only when asked

`parse_http_address` is shared with `liqscan daemon --http`.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from typing import TYPE_CHECKING, Any

from scanner.errors import UsageError

if TYPE_CHECKING:  # aiohttp is imported when serving, not when the parser is built
    from aiohttp import web

DEFAULT_HTTP = "127.0.0.1:8787"


def register(subparsers: Any) -> None:
    """Add `serve` to an argparse subparsers object (handler in `args.handler`)."""
    serve = subparsers.add_parser(
        "serve", help="serve the stored snapshots over HTTP: JSON API, /metrics, web page")
    serve.add_argument("--http", default=DEFAULT_HTTP, metavar="HOST:PORT",
                       help=f"address to listen on (default {DEFAULT_HTTP}; another host than "
                            "loopback exposes the API to the network)")
    serve.add_argument("--stale-after", type=float, default=600.0, metavar="SECONDS",
                       help="/healthz answers 503 when the latest snapshot is older (default 600)")
    serve.set_defaults(handler=cmd_serve)


def parse_http_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:8787`) -> (host, port); UsageError naming the fix."""
    host, sep, port_text = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"--http {text!r}: expected HOST:PORT, e.g. {DEFAULT_HTTP}")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    from scanner.config import load_config
    from scanner.serve.app import build_app
    from scanner.store import db

    host, port = parse_http_address(args.http)
    if args.stale_after <= 0:
        raise UsageError("--stale-after must be a positive number of seconds")
    config = load_config(args.config)
    engine = db.make_engine(config.database_url)
    try:
        app = build_app(engine, stale_after_s=args.stale_after,
                        axis_units=config.axis_units())
        if not is_loopback(host):
            print(f"liqscan: warning: serving on {host}, beyond this machine (read-only API)",
                  file=sys.stderr)
        from scanner import aio  # here: registering `serve` must not cost every command asyncio

        aio.run(serve_forever(app, host, port))
    finally:
        engine.dispose()
    return 0


async def start_site(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Listen on host:port (0: any free port); prints `liqscan: serving on URL` to stderr.
    The caller ends it with `await runner.cleanup()`."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}: choose another "
                         "--http address") from exc
    bound = runner.addresses[0]
    shown = f"[{bound[0]}]" if ":" in str(bound[0]) else str(bound[0])
    print(f"liqscan: serving on http://{shown}:{bound[1]}/", file=sys.stderr, flush=True)
    return runner


async def serve_forever(app: web.Application, host: str, port: int) -> None:
    import asyncio

    runner = await start_site(app, host, port)
    try:
        await asyncio.Event().wait()  # until Ctrl-C / SIGTERM cancels the task
    finally:
        await runner.cleanup()

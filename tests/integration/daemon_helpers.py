"""Running `liqscan daemon` against the devnet: its config, the process and its log, a real
webhook receiver, and what a whole snapshot looks like in the database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from scanner.devnet.aave_spec import load_market_spec
from scanner.devnet.network import AAVE_MARKET_KEY, Devnet, write_config
from scanner.devnet.prices import get_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc
from scanner.store.repository import POSITIONS, SCANS, SNAPSHOTS, Repository

POLL_SECONDS = 0.02
WAIT_SECONDS = 120.0  # a generous bound for a loaded 2-core CI machine, never asserted on
_SNAPSHOT_RE = re.compile(r"snapshot (\d+) at block (\d+)")


def daemon_config(devnet: Devnet, folder: Path, database_url: str, daemon_toml: str = "",
                  rpc_url: str | None = None, chain_toml: str = "", websocket: bool = True
                  ) -> Path:
    """A config scanning the Aave v3.0 market only (a fast snapshot), heads over the
    devnet's WebSocket (else polled over HTTP, fast), with `daemon_toml` as the [daemon]
    section's body."""
    path = folder / "config.toml"
    write_config(devnet, path, database_url=database_url)
    head, *markets = path.read_text().split("\n[[markets]]")
    aave = next(m for m in markets if f'key = "{AAVE_MARKET_KEY}"' in m)
    axes = markets[-1][markets[-1].index("\n[axes"):]
    aave = aave.split("\n[axes")[0]
    ws_url = devnet.rpc_url.replace("http://", "ws://")
    ws_line = f'ws_url = "{ws_url}"\n' if websocket else ""
    head = head.replace("confirmations = 0", f"confirmations = 0\n{ws_line}{chain_toml}")
    if rpc_url is not None:
        head = head.replace(f'rpc_url = "{devnet.rpc_url}"', f'rpc_url = "{rpc_url}"')
    text = (f"{head}\n[[markets]]{aave}\n{axes}\n[daemon]\npoll_interval_seconds = 0.2\n"
            f"takeover_interval_seconds = 0.2\nmax_backoff_seconds = 1\n{daemon_toml}")
    path.write_text(text)
    return path


_STARTED: list[DaemonProcess] = []


@pytest.fixture(autouse=True)
def reap_daemons() -> Iterator[None]:
    """A test that fails half-way leaves no daemon running (import this into a test module)."""
    yield
    while _STARTED:
        daemon = _STARTED.pop()
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait(30)
        daemon.close_log()


class DaemonProcess:
    """`liqscan -v daemon` in a subprocess; its stderr goes to a file the test reads."""

    def __init__(self, config_path: Path, log_path: Path, *args: str) -> None:
        env = {**os.environ, "LIQSCAN_NO_PROGRESS": "1"}
        env.pop("LIQSCAN_CONFIG", None)
        self.log_path = log_path
        self._log = log_path.open("ab")
        self._start = log_path.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scanner.cli", "--config", str(config_path), "-v", "daemon",
             *args], stdout=subprocess.DEVNULL, stderr=self._log, env=env)
        _STARTED.append(self)

    def close_log(self) -> None:
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_bytes()[self._start:].decode(errors="replace")

    def snapshot_blocks(self) -> list[int]:
        return [int(m.group(2)) for m in _SNAPSHOT_RE.finditer(self.log())]

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"daemon exited ({self.process.returncode}) before "
                                     f"{what}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {what}:\n{self.log()[-3000:]}")
            time.sleep(POLL_SECONDS)

    def wait_for_log(self, text: str) -> None:
        self.wait_for(lambda: text in self.log(), repr(text))

    def wait_for_snapshot(self, block: int) -> None:
        self.wait_for(lambda: block in self.snapshot_blocks(), f"a snapshot at block {block}")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signum)
        try:
            return self.process.wait(WAIT_SECONDS)
        finally:
            self.close_log()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(port: int, path: str) -> tuple[int, Any]:
    """(status, JSON body or text) of a GET to the daemon's HTTP app."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
            status, body = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    return status, json.loads(body) if body.startswith(("{", "[")) else body


def assert_every_snapshot_whole(repo: Repository) -> list[int]:
    """Each snapshot has all its markets and every position its header counts; returns the
    blocks of the stored snapshots."""
    blocks = []
    with repo.engine.connect() as conn:
        for sid, block, markets, positions in conn.execute(select(
                SNAPSHOTS.c.id, SNAPSHOTS.c.block, SNAPSHOTS.c.market_count,
                SNAPSHOTS.c.position_count)):
            scans = conn.execute(select(func.count()).where(SCANS.c.snapshot_id == sid)
                                 ).scalar_one()
            rows = conn.execute(select(func.count()).where(POSITIONS.c.scan_id.in_(
                select(SCANS.c.id).where(SCANS.c.snapshot_id == sid)))).scalar_one()
            assert (scans, rows) == (markets, positions), f"snapshot {sid} is partial"
            blocks.append(int(block))
    assert len(blocks) == len(set(blocks)), f"a block was snapshotted twice: {sorted(blocks)}"
    return sorted(blocks)


def move_eth_axis(devnet: Devnet, rpc: DevnetRpc, new_weth_usd: int) -> int:
    """Scale every ETH-axis asset's oracle price so WETH costs `new_weth_usd`; returns the
    first block at the new prices."""
    members = load_market_spec().axis_members("ETH")
    weth_8dec = get_price_usd_8dec(rpc, devnet.aave, "WETH")
    prices = {s: get_price_usd_8dec(rpc, devnet.aave, s) * new_weth_usd * 10**8 // weth_8dec
              for s in members if s in devnet.aave.aggregators}
    return set_prices(rpc, devnet.aave, prices)


class WebhookReceiver:
    """A real HTTP server that records every POST; the first `fail_first` answer 503."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.received.append(body)
        if len(self.received) <= self.fail_first:
            return web.Response(status=503, text="try later")
        self.accepted.append(body)
        return web.Response(status=204)

    @contextlib.contextmanager
    def running(self) -> Iterator[WebhookReceiver]:
        loop = asyncio.new_event_loop()
        ready, stop = threading.Event(), asyncio.Event()

        async def main() -> None:
            app = web.Application()
            app.router.add_post("/hook", self._handle)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
            ready.set()
            await stop.wait()
            await runner.cleanup()

        thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError("webhook receiver did not start")
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(30)
            loop.close()

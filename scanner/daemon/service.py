"""The daemon: one ChainWorker per chain, the HTTP app on the same event loop, clean stops.

SIGTERM / SIGINT cancel the workers. A snapshot still reading is dropped (nothing of it was
written); one already writing finishes first, since its write is one synchronous transaction
that no cancellation can enter. So the database holds it whole or not at all.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any

from aiohttp import web

from scanner.config import Config
from scanner.daemon.metrics import DaemonMetrics
from scanner.daemon.worker import ChainWorker
from scanner.errors import ConfigError, UsageError
from scanner.serve.status import HeadStatus
from scanner.store import db
from scanner.store.repository import Repository

log = logging.getLogger("scanner.daemon")


class Daemon:
    """Implements scanner.serve.status.LiveStatus for the HTTP app."""

    def __init__(self, config: Config, http: tuple[str, int] | None) -> None:
        self.config, self.http = config, http
        for name in _chains(config):
            config.chains[name].require_rpc_url()  # an unset ${VAR}: exit 78 now, not later
        self.repo = Repository(db.make_engine(config.database_url, create=False))
        self.metrics = DaemonMetrics()
        self.workers = [ChainWorker(config, config.chains[name],
                                    [m for m in config.markets if m.chain == name],
                                    self.repo, self.metrics)
                        for name in _chains(config)]
        self.stop_reason: str | None = None

    # --- LiveStatus ----------------------------------------------------------------------

    def head_status(self) -> HeadStatus:
        """The chain furthest behind its head (the one /healthz should judge)."""
        def lag(worker: ChainWorker) -> float:
            p = worker.progress
            if p.head_block is None or p.last_snapshot_block is None:
                return float("inf")
            return p.head_block - p.last_snapshot_block
        worst = max(self.workers, key=lag).progress
        return HeadStatus(worst.head_block, worst.head_seen_unix, worst.last_snapshot_block)

    def metrics_text(self) -> str:
        return self.metrics.text()

    # --- run -----------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop, signum, main)
        runner = await self._start_http()
        started = time.monotonic()
        try:
            await asyncio.gather(*(w.run() for w in self.workers))
        except asyncio.CancelledError:
            if self.stop_reason is None:
                raise
            log.warning("daemon stopped (%s) after %.0f s", self.stop_reason,
                        time.monotonic() - started)
        finally:
            if runner is not None:
                await runner.cleanup()
            self.repo.engine.dispose()

    def _stop(self, signum: int, main: asyncio.Task[Any] | None) -> None:
        self.stop_reason = signal.Signals(signum).name
        if main is not None:
            main.cancel()  # the workers' tasks are cancelled with it (gather)

    async def _start_http(self) -> web.AppRunner | None:
        if self.http is None:
            return None
        from scanner.serve.app import build_app  # imported only when serving: start-up time

        runner = web.AppRunner(build_app(self.repo.engine, live=self,
                                         stale_after_s=self.config.daemon.stale_after_seconds,
                                         axis_units=self.config.axis_units()))
        await runner.setup()
        host, port = self.http
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            raise UsageError(f"--http {host}:{port}: cannot listen there ({exc.strerror}): "
                             "choose another port") from exc
        log.warning("serving http://%s:%d/", host, port)
        return runner


def _chains(config: Config) -> list[str]:
    names = list(config.daemon.chains) or sorted({m.chain for m in config.markets})
    if not names:
        raise ConfigError(f"{config.source.name}: no market to follow: add a [[markets]] table")
    for name in names:
        if not any(m.chain == name for m in config.markets):
            raise ConfigError(f"{config.source.name}: daemon.chains names {name!r}, which has "
                              "no market")
    return names

"""One chain under one daemon: take the chain's lock, follow its heads, snapshot at
head - confirmations every `scan_interval_blocks`, then alerts, webhooks and retention.

    # 1. hold the chain (advisory lock / flock); a standby retries every takeover interval
    # 2. follow heads in the background; keep only the newest (never a queue of scans)
    # 3. on a new head: snapshot the newest due block; fail -> back off, retry at the newest
    # 4. after each snapshot: alert conditions -> webhooks; retention -> prune
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from scanner.chain.logs import confirmed_head
from scanner.config import ChainConfig, Config, MarketConfig
from scanner.daemon.alerts import SnapshotFacts, changes, true_conditions
from scanner.daemon.heads import HEAD_ERRORS, follow_heads
from scanner.daemon.locks import ChainLock, chain_lock
from scanner.daemon.metrics import DaemonMetrics
from scanner.daemon.retention import snapshots_to_delete
from scanner.daemon.stages import StageTimer
from scanner.daemon.webhooks import WebhookSender
from scanner.errors import ConfigError, ScannerError, ToolchainError
from scanner.pipeline.incremental import scan_incremental
from scanner.pipeline.scan import SnapshotOutcome, scan_chain
from scanner.store.daemon_state import AlertChange, DaemonState
from scanner.store.repository import Repository

log = logging.getLogger("scanner.daemon")
FATAL_ERRORS = (ConfigError, ToolchainError)  # retrying cannot help: the daemon stops


@dataclass
class ChainProgress:
    head_block: int | None = None
    head_seen_unix: float | None = None
    last_snapshot_block: int | None = None


class Backoff:
    def __init__(self, cap_seconds: float) -> None:
        self.cap_seconds, self.failures = cap_seconds, 0

    def next_seconds(self) -> float:
        self.failures += 1
        return float(min(self.cap_seconds, 2 ** (self.failures - 1)))

    def reset(self) -> None:
        self.failures = 0


class ChainWorker:
    def __init__(self, config: Config, chain: ChainConfig, markets: list[MarketConfig],
                 repo: Repository, metrics: DaemonMetrics) -> None:
        self.config, self.chain, self.markets = config, chain, markets
        self.repo, self.metrics = repo, metrics
        self.settings = config.daemon
        self.state = DaemonState(repo.engine)
        self.sender = WebhookSender(self.state, self.settings.alerts, metrics)
        self.progress = ChainProgress()
        self.new_head = asyncio.Event()
        self.new_alerts = asyncio.Event()

    # 1. ---------------------------------------------------------------------------------
    async def run(self) -> None:
        lock = chain_lock(self.repo.engine, self.chain.name)
        waiting_logged = False
        while True:
            if not self._try_lock(lock):
                if not waiting_logged:
                    log.warning("chain %s is scanned by another daemon: standing by",
                                self.chain.name)
                    waiting_logged = True
                await asyncio.sleep(self.settings.takeover_interval_seconds)
                continue
            waiting_logged = False
            log.warning("daemon holds chain %s: scanning %s", self.chain.name,
                        ", ".join(m.key for m in self.markets))
            self.metrics.chain_held.labels(self.chain.name).set(1)
            try:
                await self._hold(lock)
            except SQLAlchemyError as exc:  # the database went away: let go, retry later
                self._count_error("database", exc)
                await asyncio.sleep(self.settings.max_backoff_seconds)
            finally:
                lock.release()
                self.metrics.chain_held.labels(self.chain.name).set(0)

    def _try_lock(self, lock: ChainLock) -> bool:
        try:
            return lock.try_acquire()
        except (SQLAlchemyError, OSError) as exc:  # the database is down: try again later
            self._count_error("database", exc)
            return False

    async def _hold(self, lock: ChainLock) -> None:
        self.progress.last_snapshot_block = self._stored_block()
        tasks = {asyncio.create_task(self._scan_loop(lock)),
                 asyncio.create_task(self._follow_heads()),
                 asyncio.create_task(self._send_alerts())}
        try:
            # the scan loop returns when the lock is lost; any task's error ends the hold
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # 2. ---------------------------------------------------------------------------------
    async def _follow_heads(self) -> None:
        backoff = Backoff(self.settings.max_backoff_seconds)
        while True:
            seen_before = self.progress.head_seen_unix
            try:
                await follow_heads(self.chain, self.settings.poll_interval_seconds,
                                   self._on_head)
            except HEAD_ERRORS as exc:
                self._count_error("rpc-head", exc)
            if self.progress.head_seen_unix != seen_before:
                backoff.reset()  # it worked for a while: start the backoff over
            delay = backoff.next_seconds()
            log.warning("chain %s: following heads failed; retrying in %.0f s",
                        self.chain.name, delay)
            await asyncio.sleep(delay)

    def _on_head(self, head: int) -> None:
        self.progress.head_block, self.progress.head_seen_unix = head, time.time()
        self.metrics.observe_head(self.chain.name, head, self.progress.last_snapshot_block)
        self.new_head.set()

    # 3. ---------------------------------------------------------------------------------
    async def _scan_loop(self, lock: ChainLock) -> None:
        backoff = Backoff(self.settings.max_backoff_seconds)
        while True:
            await self.new_head.wait()
            self.new_head.clear()
            block = self._due_block()
            if block is None:
                continue
            if not lock.still_held():
                log.warning("chain %s: lost the lock (database connection): standing by",
                            self.chain.name)
                return
            try:
                await self._snapshot(block)
                backoff.reset()
            except FATAL_ERRORS:
                raise
            except (ScannerError, SQLAlchemyError) as exc:
                self._count_error(_error_kind(exc), exc)
                delay = backoff.next_seconds()
                log.warning("chain %s: snapshot at block %d failed (%s); retrying at the "
                            "newest head in %.0f s", self.chain.name, block, _text(exc), delay)
                await asyncio.sleep(delay)
                self.new_head.set()

    def _due_block(self) -> int | None:
        """The newest block to snapshot now, or None when none is due."""
        if self.progress.head_block is None:
            return None
        block = confirmed_head(self.progress.head_block, self.chain.confirmations)
        last = self.progress.last_snapshot_block
        if last is not None and block < last + self.settings.scan_interval_blocks:
            return None
        return block

    async def _snapshot(self, block: int) -> None:
        previous_id = self.repo.latest_snapshot_id(self.chain.name)
        timer = StageTimer()
        outcome = await self._scan(block, timer)
        seconds_by_stage = timer.finish()
        log.info("chain %s: block %d stages: %s", self.chain.name, block, ", ".join(
            f"{stage} {seconds:.2f} s" for stage, seconds in seconds_by_stage.items()))
        for stage, seconds in seconds_by_stage.items():
            self.metrics.stage_seconds.labels(self.chain.name, stage).observe(seconds)
        self.progress.last_snapshot_block = block
        if self.progress.head_block is not None:  # the lag shrinks with the snapshot, too
            self.metrics.observe_head(self.chain.name, self.progress.head_block, block)
        self.metrics.observe_snapshot(self.chain.name, block, outcome.results, outcome.bands,
                                      outcome.rpc_retries, outcome.rpc_requests)
        log.warning("chain %s: snapshot %d at block %d (%d positions, %.1f s)%s",
                    self.chain.name, outcome.snapshot_id, block, len(outcome.results),
                    seconds_by_stage["total"], " already stored" if outcome.already_stored
                    else "")
        # 4. -----------------------------------------------------------------------------
        try:  # the snapshot is stored; these catch up at the next one if the database blinks
            self._evaluate_alerts(outcome, previous_id)
            self._prune()
        except SQLAlchemyError as exc:
            self._count_error("database", exc)

    async def _scan(self, block: int, timer: StageTimer) -> SnapshotOutcome:
        """Incremental where exactly possible (scanner.pipeline.incremental), else full."""
        if not self.settings.incremental:
            return await scan_chain(self.config, self.markets, self.repo, block, timer.progress)
        done = await scan_incremental(self.config, self.markets, self.repo, block,
                                      timer.progress,
                                      full_every_blocks=self.settings.full_snapshot_every_blocks)
        mode = "incremental" if done.incremental else f"full ({done.reason})"
        log.info("chain %s: block %d %s: %d positions read, %d derived", self.chain.name, block,
                 mode, done.reread, done.derived)
        self.metrics.snapshots_by_mode.labels(self.chain.name, "incremental" if done.incremental
                                              else "full").inc()
        return done.outcome

    def _evaluate_alerts(self, outcome: SnapshotOutcome, previous_id: int | None) -> None:
        rules = self.settings.alerts
        if not rules.any_rule:
            return
        previous = None
        if previous_id is not None and previous_id != outcome.snapshot_id:
            previous = self.repo.load_bands(previous_id)
        facts = SnapshotFacts(
            chain=self.chain.name, snapshot_id=outcome.snapshot_id, block=outcome.record.block,
            axis_price_8dec={a.name: a.reference_price_8dec for a in outcome.axes},
            bands=outcome.bands, previous_bands=previous, results=outcome.results)
        true_now = true_conditions(rules, facts)
        fire, clear = changes(true_now, self.state.active_conditions(self.chain.name))
        if not fire and not clear:
            return
        block, snapshot_id = outcome.record.block, outcome.snapshot_id
        self.state.record(
            self.chain.name,
            fired=[AlertChange(k, block, snapshot_id, true_now[k]) for k in fire],
            cleared=[AlertChange(k, block, snapshot_id, {"condition": k}) for k in clear],
            webhooks=rules.webhooks)
        for key in fire:
            self.metrics.alerts.labels(self.chain.name, key.split(":")[0]).inc()
            log.warning("alert %s: %s", key, true_now[key]["text"])
        for key in clear:
            log.warning("alert %s cleared at block %d", key, block)
        self.new_alerts.set()

    def _prune(self) -> None:
        policy = self.settings.retention
        if policy is None:
            return
        doomed = snapshots_to_delete(self.state.snapshot_ages(self.chain.name), policy)
        if doomed:
            self.state.delete_snapshots(doomed)
            self.metrics.pruned.labels(self.chain.name).inc(len(doomed))
            log.info("chain %s: retention removed %d snapshots", self.chain.name, len(doomed))

    async def _send_alerts(self) -> None:
        """Webhooks run beside the scans: a slow receiver never delays a snapshot."""
        self.new_alerts.set()  # what a previous run left unsent goes first
        while True:
            await self.new_alerts.wait()
            self.new_alerts.clear()
            try:
                if await self.sender.deliver_pending(self.chain.name):
                    await asyncio.sleep(self.settings.max_backoff_seconds)
                    self.new_alerts.set()  # still pending: another round later
            except SQLAlchemyError as exc:  # the database is down: the next snapshot retries
                self._count_error("webhook", exc)

    # ---------------------------------------------------------------------------------------
    def _stored_block(self) -> int | None:
        snapshot_id = self.repo.latest_snapshot_id(self.chain.name)
        return None if snapshot_id is None else self.repo.get_snapshot(snapshot_id).record.block

    def _count_error(self, kind: str, exc: BaseException) -> None:
        self.metrics.errors.labels(self.chain.name, kind).inc()
        log.warning("chain %s: %s error: %s", self.chain.name, kind, _text(exc))


def _error_kind(exc: BaseException) -> str:
    """`rpc`, `data`, `database`, ... for the errors metric."""
    kinds = {75: "rpc", 65: "data", 76: "database", 2: "usage"}
    if isinstance(exc, ScannerError):
        return kinds.get(exc.exit_code, type(exc).__name__)
    return "database"


def _text(exc: BaseException) -> str:
    if isinstance(exc, ScannerError):
        return exc.message
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"


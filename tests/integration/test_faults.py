"""The same answer through a flaky RPC: a fault-injecting proxy (tests/fault_proxy.py) in
front of the real devnet. Every scan either stores a snapshot identical to a clean scan of the
same block (positions, bins, bands) or stops with exit 75 and writes nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.chain.pin import PinnedBlockChangedError
from scanner.config import Config
from scanner.devnet.network import Devnet, write_config
from scanner.errors import RpcUnavailableError
from scanner.pipeline.scan import scan_market
from scanner.store.repository import Repository
from tests.fault_proxy import KINDS, FaultProxy
from tests.integration.fault_helpers import (
    Snapshot,
    assert_nothing_written,
    fresh_sqlite,
    scan_through_proxy,
    stored_snapshot,
)
from tests.integration.scan_helpers import devnet_config, fresh_repo
from tests.integration.test_cli import liqscan

pytestmark = pytest.mark.integration

# What the client retries for each injected kind (batch-shuffled needs no retry; logs-range
# is answered by splitting the window; reorg-hash is tested on its own).
RETRY_KIND = {
    "http-429": "rate-limited", "http-429-retry-after": "rate-limited",
    "http-500-html": "http-5xx", "http-502-html": "http-5xx", "http-503-html": "http-5xx",
    "hang": "timeout", "reset": "connection", "truncated-json": "bad-answer",
    "batch-missing-id": "bad-answer", "header-not-found": "header-not-found",
    "empty-0x": "empty-0x",
}


@pytest.fixture(scope="module")
def clean(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Config, int, Snapshot]]:
    """A clean scan of the devnet's seeded head block, straight from the node."""
    folder = tmp_path_factory.mktemp("clean")
    config = devnet_config(devnet, folder, fresh_sqlite(folder, "clean"))
    repo = fresh_repo(config)
    block = devnet.head_block
    outcome = asyncio.run(scan_market(config, config.markets[0], repo, block))
    assert outcome.accounts_with_debt > 500 and not outcome.rpc_retries
    yield config, block, stored_snapshot(repo, outcome.snapshot_id)


def _faulty_repo(config: Config, tmp_path: Path) -> tuple[Config, Repository]:
    config = dataclasses.replace(config, database_url=fresh_sqlite(tmp_path, "faulty"))
    return config, fresh_repo(config)


@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"reorg-hash"}))
def test_each_fault_kind_alone_gives_the_clean_snapshot(
    kind: str, clean: tuple[Config, int, Snapshot], devnet: Devnet, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base, block, expected = clean
    config, repo = _faulty_repo(base, tmp_path)
    proxy = FaultProxy(devnet.rpc_url, rate=1.0, kinds=(kind,), max_faults=3)
    with caplog.at_level(logging.INFO, logger="scanner.chain.rpc"):
        run = asyncio.run(scan_through_proxy(config, repo, block, devnet.rpc_url, proxy))
    assert run.error is None, run.error
    assert run.injected == {kind: 3}
    assert run.outcome is not None
    assert stored_snapshot(repo, run.outcome.snapshot_id) == expected
    if kind in RETRY_KIND:
        assert run.outcome.rpc_retries.get(RETRY_KIND[kind], 0) >= 3
        logged = [r.getMessage() for r in caplog.records if "RPC retry" in r.getMessage()]
        assert any(RETRY_KIND[kind] in line and "backoff" in line for line in logged)


def test_held_connections_are_abandoned_at_the_request_timeout(
    clean: tuple[Config, int, Snapshot], devnet: Devnet, tmp_path: Path,
) -> None:
    base, block, expected = clean
    config, repo = _faulty_repo(base, tmp_path)
    proxy = FaultProxy(devnet.rpc_url, rate=1.0, kinds=("hang",), max_faults=4,
                       hold_seconds=120)
    run = asyncio.run(scan_through_proxy(config, repo, block, devnet.rpc_url, proxy))
    assert run.outcome is not None and run.outcome.rpc_retries == {"timeout": 4}
    assert stored_snapshot(repo, run.outcome.snapshot_id) == expected


def test_reorg_seen_mid_scan_stops_with_75_and_writes_nothing(
    clean: tuple[Config, int, Snapshot], devnet: Devnet, tmp_path: Path,
) -> None:
    base, block, _ = clean
    config, repo = _faulty_repo(base, tmp_path)
    # the first header read is the pin: every later read sees another hash for that block
    proxy = FaultProxy(devnet.rpc_url, rate=1.0, kinds=("reorg-hash",), max_faults=1)
    run = asyncio.run(scan_through_proxy(config, repo, block, devnet.rpc_url, proxy))
    assert isinstance(run.error, PinnedBlockChangedError), run.error
    assert run.error.exit_code == 75 and f"block {block} changed" in run.error.message
    assert_nothing_written(repo, config.markets[0].key)


def test_node_that_keeps_failing_stops_with_75_naming_it(
    clean: tuple[Config, int, Snapshot], devnet: Devnet, tmp_path: Path,
) -> None:
    base, block, _ = clean
    config, repo = _faulty_repo(base, tmp_path)
    proxy = FaultProxy(devnet.rpc_url, rate=1.0, kinds=("http-503-html",))
    run = asyncio.run(scan_through_proxy(config, repo, block, devnet.rpc_url, proxy))
    assert isinstance(run.error, RpcUnavailableError)
    assert run.error.exit_code == 75
    assert "unavailable after 8 attempts: HTTP 503" in run.error.message
    assert_nothing_written(repo, config.markets[0].key)


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
@pytest.mark.parametrize("seed", [1, 2])
def test_same_answer_under_faults(
    rate: float, seed: int, clean: tuple[Config, int, Snapshot], devnet: Devnet, tmp_path: Path,
) -> None:
    base, block, expected = clean
    config, repo = _faulty_repo(base, tmp_path)
    run = asyncio.run(scan_through_proxy(config, repo, block, devnet.rpc_url,
                                         rate=rate, seed=seed))
    assert sum(run.injected.values()) > 0
    if run.error is not None:
        assert run.error.exit_code == 75, run.error
        assert_nothing_written(repo, config.markets[0].key)
        return
    assert run.outcome is not None
    assert stored_snapshot(repo, run.outcome.snapshot_id) == expected


def test_verbose_cli_logs_each_retry_and_the_summary_counts_them(
    clean: tuple[Config, int, Snapshot], devnet: Devnet, tmp_path: Path,
) -> None:
    base, block, _ = clean
    proxy = FaultProxy(devnet.rpc_url, rate=1.0, kinds=("http-503-html",), max_faults=3)
    path = tmp_path / "config.toml"
    write_config(devnet, path, database_url=fresh_sqlite(tmp_path, "cli"))
    with proxy.in_thread():
        path.write_text(path.read_text().replace(devnet.rpc_url, proxy.url.rstrip("/")))
        assert liqscan("--config", str(path), "db", "upgrade").returncode == 0
        result = liqscan("--config", str(path), "-v", "scan", "--market", base.markets[0].key,
                         "--block", str(block))
    assert result.returncode == 0, result.stderr
    retries = [line for line in result.stderr.splitlines() if "RPC retry" in line]
    assert len(retries) == 3 and all("http-5xx: HTTP 503" in line for line in retries)
    assert all(" backoff " in line for line in retries)
    assert "3 RPC retries (http-5xx 3)" in result.stdout

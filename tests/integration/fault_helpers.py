"""Scans through the fault proxy, compared with a clean scan of the same block."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from scanner.config import Config
from scanner.domain import Band, HistogramBin, PositionResult
from scanner.errors import ScannerError
from scanner.pipeline.scan import SnapshotOutcome, scan_market
from scanner.store.repository import Repository
from tests.fault_proxy import FaultProxy

# Held connections are abandoned after this long in the tests (the default is 10 s).
TEST_REQUEST_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Snapshot:
    """What a scan stored: positions (sorted), bins and bands."""

    positions: tuple[PositionResult, ...]
    bins: tuple[HistogramBin, ...]
    bands: tuple[Band, ...]


def stored_snapshot(repo: Repository, snapshot_id: int) -> Snapshot:
    positions = sorted(repo.load_positions(snapshot_id),
                       key=lambda p: (p.market_key, p.axis, p.account))
    return Snapshot(tuple(positions), tuple(repo.load_bins(snapshot_id)),
                    tuple(repo.load_bands(snapshot_id)))


def through(config: Config, url: str) -> Config:
    """`config` with its (single) chain reached at `url`, with the tests' request timeout."""
    chains = {name: dataclasses.replace(chain, rpc_url=url,
                                        request_timeout_seconds=TEST_REQUEST_TIMEOUT_SECONDS)
              for name, chain in config.chains.items()}
    return dataclasses.replace(config, chains=chains)


@dataclass(frozen=True)
class FaultRun:
    outcome: SnapshotOutcome | None
    error: ScannerError | None
    injected: dict[str, int]
    wall_seconds: float


async def scan_through_proxy(config: Config, repo: Repository, block: int, upstream: str,
                             proxy: FaultProxy | None = None, **options: object) -> FaultRun:
    """One scan of `block` through a FaultProxy; a ScannerError is returned, not raised."""
    proxy = proxy or FaultProxy(upstream, **options)  # type: ignore[arg-type]
    started = time.monotonic()
    async with proxy:
        faulty = through(config, proxy.url)
        try:
            outcome = await scan_market(faulty, faulty.markets[0], repo, block)
        except ScannerError as exc:
            return FaultRun(None, exc, dict(proxy.injected), time.monotonic() - started)
    return FaultRun(outcome, None, dict(proxy.injected), time.monotonic() - started)


def assert_nothing_written(repo: Repository, market_key: str) -> None:
    assert repo.latest_snapshot_id() is None
    assert repo.get_cursor(market_key) is None
    assert repo.known_accounts(market_key) == {}


def fresh_sqlite(folder: Path, name: str) -> str:
    return f"sqlite:///{folder / name}.db"

"""Database fixtures shared by the whole test suite.

Use them in any test (no import needed):

    def test_something(repo: Repository) -> None: ...     # runs once on SQLite, once on PostgreSQL
    def test_other(db_url: str) -> None: ...          # a URL, to build your own engine / CLI run

- `db_backend`     parametrized over "sqlite" and "postgresql" (the latter marked `postgres`).
- `db_url`         URL of a FRESH database, private to the test, already migrated to head.
- `empty_db_url`   URL of a fresh, EMPTY database (no tables), for migration tests.
- `engine`         `make_engine(db_url)`, disposed after the test.
- `repo`           `Repository(engine)`.
- `pg_server_url`  (session) URL of a database on the test PostgreSQL server.
- `sample_scan`    a small SampleScan (record, positions, bins, bands, discovered) with edge
                   values; `make_sample_scan(block=..., ...)` builds more.

PostgreSQL: one throwaway server per test session (tests/pg_server.py), or the server named by
LIQSCAN_TEST_POSTGRES_URL (its role needs CREATEDB). Each test gets its own database, cloned
from a template migrated once per session, and dropped afterwards. If the PostgreSQL binaries
are missing, the postgresql tests FAIL with a hint (`make setup`): they never skip.
Run one backend only with `-m postgres` / `-m "not postgres"` or `-k sqlite`.

Property tests (hypothesis) draw the same examples on every run (profile "repeatable", the
default), so `make test` passes or fails the same way on every machine: a random draw that
finds a case once must not decide whether a change lands. `HYPOTHESIS_PROFILE=explore` draws
new examples each run, to look for such cases; a case it finds is kept as an explicit test.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine

from scanner.domain import (
    WAD,
    Band,
    Direction,
    HistogramBin,
    PositionResult,
    PositionStatus,
    ScanRecord,
)
from scanner.store.db import make_engine, upgrade
from scanner.store.repository import Repository
from tests.pg_server import (
    PostgresUnavailable,
    create_database,
    database_url,
    drop_database,
    running_postgres,
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
_TEMPLATE = "liqscan_template"
USD = 10**8  # one dollar in 8-decimal oracle units
_counter = itertools.count()

settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def _unique_name() -> str:
    return f"liqscan_t{os.getpid()}_{next(_counter)}"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    try:
        with running_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL for the tests: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def _pg_template(pg_server_url: str) -> str:
    """A database migrated to head once; per-test databases are copies of it."""
    drop_database(pg_server_url, _TEMPLATE)  # a leftover of an interrupted run
    url = create_database(pg_server_url, _TEMPLATE)
    upgrade(url)
    return _TEMPLATE


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "liqscan.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _fresh_database(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, migrated: bool
) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / f"{_unique_name()}.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server_url: str = request.getfixturevalue("pg_server_url")
    template = request.getfixturevalue("_pg_template") if migrated else None
    name = _unique_name()
    create_database(server_url, name, template=template)
    try:
        yield database_url(server_url, name)
    finally:
        drop_database(server_url, name)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, db_backend: str, tmp_path: Path) -> Iterator[str]:
    yield from _fresh_database(request, db_backend, tmp_path, migrated=True)


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, db_backend: str, tmp_path: Path) -> Iterator[str]:
    yield from _fresh_database(request, db_backend, tmp_path, migrated=False)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def repo(engine: Engine) -> Repository:
    return Repository(engine)


# --- sample scans (shared by the store tests; usable by anyone) ----------------------------


@dataclass(frozen=True)
class SampleScan:
    record: ScanRecord
    positions: list[PositionResult]
    bins: list[HistogramBin]
    bands: list[Band]
    discovered: dict[str, int]


def _account(index: int) -> str:
    return "0x" + f"{index:040x}"


def make_sample_scan(
    block: int = 100,
    market_key: str = "devnet-aave-v3",
    n_positions: int = 4,
    status: str = "complete",
) -> SampleScan:
    """A small, internally consistent-looking scan with edge values (None, 2**256-1, 10**30)."""
    record = ScanRecord(
        chain="devnet", chain_id=31337, market_key=market_key, protocol="aave-v3",
        block=block, block_timestamp=1_700_000_000 + block, pool_revision=1, status=status,
    )  # fmt: skip
    positions = [_sample_position(market_key, i, block) for i in range(n_positions)]
    bins = [
        HistogramBin(axis="ETH", direction=Direction.DOWN, bin_index=i,
                     low_8dec=(1_900 - 10 * (i + 1)) * USD, high_8dec=(1_900 - 10 * i) * USD,
                     positions=i + 1, collateral_usd_8dec=10**30 + i, debt_usd_8dec=5 * USD,
                     seizable_usd_8dec=3 * USD, cumulative_collateral_usd_8dec=10**30 * (i + 1))
        for i in range(3)
    ]  # fmt: skip
    bands = [
        Band(axis="ETH", direction=Direction.DOWN, rank=1, low_8dec=1_781_09234567,
             high_8dec=1_800 * USD, positions=2, collateral_usd_8dec=10**30,
             debt_usd_8dec=2**200, seizable_usd_8dec=7 * USD, share_of_at_risk_bps=6_000,
             distance_low_bps=-1_234, distance_high_bps=-500,
             top_accounts=(_account(1), _account(2))),
        Band(axis="ETH", direction=Direction.UP, rank=1, low_8dec=2_500 * USD,
             high_8dec=2_600 * USD, positions=1, collateral_usd_8dec=USD, debt_usd_8dec=USD,
             seizable_usd_8dec=0, share_of_at_risk_bps=10_000, distance_low_bps=2_500,
             distance_high_bps=3_000, top_accounts=(), kind="wall"),
    ]  # fmt: skip
    discovered = {_account(i): block - 10 for i in range(n_positions)}
    return SampleScan(record, positions, bins, bands, discovered)


def _sample_position(market_key: str, i: int, block: int) -> PositionResult:
    kind = i % 4
    if kind == 3:  # hedged: no liquidation price, no direction, no debt -> HF = 2**256-1
        return PositionResult(
            market_key=market_key, protocol="aave-v3", account=_account(i), axis="ETH",
            status=PositionStatus.NOT_SENSITIVE, direction=None, liquidation_price_8dec=None,
            axis_price_now_8dec=2_000 * USD, health_factor_wad=2**256 - 1,
            collateral_usd_8dec=10**30, debt_usd_8dec=0, axis_collateral_usd_8dec=0,
            seizable_usd_8dec=0,
        )  # fmt: skip
    status = PositionStatus.LIQUIDATABLE_NOW if kind == 2 else PositionStatus.AT_RISK
    return PositionResult(
        market_key=market_key, protocol="aave-v3", account=_account(i),
        axis="BTC" if kind == 1 else "ETH", status=status,
        direction=Direction.UP if kind == 1 else Direction.DOWN,
        liquidation_price_8dec=1_781_09234567 + i * USD + block,
        liquidation_price_native=1_781_09234567 + i * USD + block, axis_price_now_8dec=2_000 * USD,
        health_factor_wad=WAD + i * 10**15, collateral_usd_8dec=(1_000 + i) * USD,
        debt_usd_8dec=(500 + i) * USD, axis_collateral_usd_8dec=(900 + i) * USD,
        seizable_usd_8dec=(100 + i) * USD, emode_category=i % 2,
    )  # fmt: skip


@pytest.fixture
def sample_scan() -> SampleScan:
    return make_sample_scan()

"""Repository round-trips, atomicity and queries, on SQLite and PostgreSQL (db_url fixture)."""

from __future__ import annotations

import dataclasses
import time

import pytest
from sqlalchemy import func, select

from scanner.domain import Direction, PositionResult, PositionStatus
from scanner.errors import InconsistentDataError
from scanner.store.models import DiscoveredAccount, HistogramBinRow, PositionRow, ScanRow
from scanner.store.repository import Repository, ScanNotFoundError
from tests.conftest import USD, SampleScan, make_sample_scan


def _save(repo: Repository, sample: SampleScan, cursor_block: int | None = None) -> int:
    block = sample.record.block if cursor_block is None else cursor_block
    return repo.save_scan(
        sample.record, sample.positions, sample.bins, sample.bands, sample.discovered, block
    )


def _count(repo: Repository, model: type) -> int:
    with repo.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_every_dataclass_round_trips(repo: Repository, sample_scan: SampleScan) -> None:
    scan_id = _save(repo, sample_scan)

    assert repo.get_scan(scan_id) == (scan_id, sample_scan.record)
    assert repo.load_positions(scan_id) == sample_scan.positions
    assert repo.load_bins(scan_id) == sample_scan.bins
    assert sorted(repo.load_bands(scan_id), key=lambda b: b.direction) == sample_scan.bands
    assert repo.known_accounts(sample_scan.record.market_key) == sample_scan.discovered
    assert repo.get_cursor(sample_scan.record.market_key) == sample_scan.record.block
    stored = repo.list_scans()[0]
    assert stored.created_at.utcoffset() is not None  # aware, on SQLite too
    assert (stored.scan_id, stored.position_count, stored.bin_count, stored.band_count) == (
        scan_id, 4, 3, 2,
    )  # fmt: skip


@pytest.mark.parametrize(
    "value", [0, 1, 10**30, 10**30 + 1, 2**255, 2**256 - 2, 2**256 - 1], ids=str
)
def test_uint256_values_are_exact(repo: Repository, sample_scan: SampleScan, value: int) -> None:
    position = dataclasses.replace(
        sample_scan.positions[0],
        health_factor_wad=value,
        collateral_usd_8dec=value,
        liquidation_price_8dec=value,
    )
    scan_id = _save(repo, dataclasses.replace(sample_scan, positions=[position]))
    (loaded,) = repo.load_positions(scan_id)
    assert loaded.health_factor_wad == value
    assert loaded.collateral_usd_8dec == value
    assert loaded.liquidation_price_8dec == value


def test_sql_order_of_uint256_column_is_numeric(repo: Repository) -> None:
    # Fixed-width storage: lexicographic order must equal numeric order.
    values = [2**256 - 1, 9, 10, 10**30, 0, 99, 10**18]
    sample = make_sample_scan(n_positions=len(values))
    positions = [
        dataclasses.replace(p, axis="ETH", liquidation_price_8dec=v, status=PositionStatus.AT_RISK,
                            direction=Direction.DOWN)
        for p, v in zip(sample.positions, values, strict=True)
    ]  # fmt: skip
    scan_id = _save(repo, dataclasses.replace(sample, positions=positions))
    query = (
        select(PositionRow.liquidation_price_8dec)
        .where(PositionRow.scan_id == scan_id)
        .order_by(PositionRow.liquidation_price_8dec)
    )
    with repo.engine.connect() as conn:
        assert list(conn.execute(query).scalars()) == sorted(values)


def _assert_nothing_written_after_first(repo: Repository, first_id: int, market: str) -> None:
    assert repo.latest_scan_id(market) == first_id
    assert _count(repo, ScanRow) == 1
    assert _count(repo, PositionRow) == 4
    assert _count(repo, HistogramBinRow) == 3
    assert _count(repo, DiscoveredAccount) == 4
    assert repo.get_cursor(market) == 100


def test_failed_save_writes_nothing(repo: Repository) -> None:
    first = make_sample_scan(block=100)
    first_id = _save(repo, first)
    second = make_sample_scan(block=200, n_positions=8)
    # The last position repeats (scan, axis, account): the unique constraint fails mid-write,
    # after the scan header, the other positions and nothing else were inserted.
    broken = [*second.positions, second.positions[0]]
    more_accounts = second.discovered | {"0x" + "ab" * 20: 150}
    with pytest.raises(InconsistentDataError, match="violates a constraint"):
        repo.save_scan(second.record, broken, second.bins, second.bands, more_accounts, 200)
    _assert_nothing_written_after_first(repo, first_id, first.record.market_key)


def test_value_too_large_for_uint256_writes_nothing(repo: Repository) -> None:
    first = make_sample_scan(block=100)
    first_id = _save(repo, first)
    second = make_sample_scan(block=200)
    bad = dataclasses.replace(second.bins[-1], debt_usd_8dec=2**256)
    with pytest.raises(InconsistentDataError, match="cannot store exactly"):
        repo.save_scan(second.record, second.positions, [*second.bins[:-1], bad], [], {}, 200)
    _assert_nothing_written_after_first(repo, first_id, first.record.market_key)


def test_same_market_and_block_is_refused(repo: Repository, sample_scan: SampleScan) -> None:
    scan_id = _save(repo, sample_scan)
    assert repo.find_scan(sample_scan.record.market_key, sample_scan.record.block) == scan_id
    with pytest.raises(InconsistentDataError, match=f"already stored as scan {scan_id}"):
        _save(repo, sample_scan)


def test_cursor_and_accounts_only_move_forward(repo: Repository) -> None:
    market = "devnet-aave-v3"
    _save(repo, make_sample_scan(block=200, n_positions=2))  # accounts 0, 1 first seen at 190
    later = make_sample_scan(block=100, n_positions=3)  # an older block, re-scanned afterwards
    _save(repo, later, cursor_block=100)
    assert repo.get_cursor(market) == 200
    known = repo.known_accounts(market)
    assert known == {"0x" + f"{i:040x}": block for i, block in enumerate([190, 190, 90])}
    assert repo.get_cursor("other-market") is None
    assert repo.known_accounts("other-market") == {}


def test_latest_find_and_list(repo: Repository) -> None:
    ids = {block: _save(repo, make_sample_scan(block=block)) for block in (300, 100, 200)}
    _save(repo, make_sample_scan(block=400, status="partial"))
    other = _save(repo, make_sample_scan(block=50, market_key="other"))
    assert repo.latest_scan_id("devnet-aave-v3") == ids[300]  # highest block, complete only
    assert repo.latest_scan_id("other") == other
    assert repo.latest_scan_id() == other  # newest written
    assert repo.latest_scan_id("nowhere") is None
    assert repo.find_scan("devnet-aave-v3", 200) == ids[200]
    assert repo.find_scan("devnet-aave-v3", 201) is None
    listed = repo.list_scans("devnet-aave-v3", limit=2)
    assert [s.record.block for s in listed] == [400, 200]
    with pytest.raises(ScanNotFoundError, match="no scan with id 999"):
        repo.get_scan(999)
    with pytest.raises(ScanNotFoundError):
        repo.load_positions(999)


def test_load_positions_near_a_price(repo: Repository) -> None:
    prices = [1_500, 1_990, 2_005, 2_100, 1_000, 3_000]
    sample = make_sample_scan(n_positions=len(prices))
    positions: list[PositionResult] = [
        dataclasses.replace(p, axis="ETH", liquidation_price_8dec=price * USD,
                            status=PositionStatus.AT_RISK, direction=Direction.DOWN)
        for p, price in zip(sample.positions, prices, strict=True)
    ]  # fmt: skip
    hedged = dataclasses.replace(sample.positions[3], account="0x" + "11" * 20)
    scan_id = _save(repo, dataclasses.replace(sample, positions=[*positions, hedged]))

    near = repo.load_positions(scan_id, axis="ETH", near_8dec=2_000 * USD, limit=3)
    assert [p.liquidation_price_8dec for p in near] == [2_005 * USD, 1_990 * USD, 2_100 * USD]
    everything = repo.load_positions(scan_id, near_8dec=2_000 * USD)
    assert len(everything) == len(prices)  # the hedged one has no price to be near to
    assert len(repo.load_positions(scan_id)) == len(prices) + 1
    assert repo.load_positions(scan_id, axis="BTC") == []
    assert len(repo.load_positions(scan_id, limit=2)) == 2


def test_ten_thousand_positions_save_in_bulk(repo: Repository, db_backend: str) -> None:
    sample = make_sample_scan(n_positions=10_000)
    started = time.perf_counter()
    scan_id = _save(repo, sample)
    saved_seconds = time.perf_counter() - started
    started = time.perf_counter()
    loaded = repo.load_positions(scan_id)
    loaded_seconds = time.perf_counter() - started
    print(f"{db_backend}: save 10k positions {saved_seconds:.2f}s, load {loaded_seconds:.2f}s")
    assert loaded == sample.positions

"""Repository round-trips, atomicity and queries, on SQLite and PostgreSQL (db_url fixture)."""

from __future__ import annotations

import dataclasses
import time

import pytest
from sqlalchemy import func, select

from scanner.domain import Direction, PositionResult, PositionStatus, Share, SnapshotRecord
from scanner.errors import InconsistentDataError, UsageError
from scanner.store.models import (
    BandShareRow,
    DiscoveredAccount,
    HistogramBinRow,
    PositionRow,
    ScanRow,
    SnapshotRow,
)
from scanner.store.repository import (
    MarketScan,
    Repository,
    ScanNotFoundError,
    SnapshotAlreadyStoredError,
)
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
    snapshot_id = _save(repo, sample_scan)

    assert repo.get_snapshot(snapshot_id).record.markets == (sample_scan.record,)
    assert repo.load_positions(snapshot_id) == sample_scan.positions
    assert repo.load_bins(snapshot_id) == sample_scan.bins
    assert sorted(repo.load_bands(snapshot_id), key=lambda b: b.direction) == sample_scan.bands
    assert repo.known_accounts(sample_scan.record.market_key) == sample_scan.discovered
    assert repo.get_cursor(sample_scan.record.market_key) == sample_scan.record.block
    stored = repo.list_snapshots()[0]
    assert stored.created_at.utcoffset() is not None  # aware, on SQLite too
    assert (stored.snapshot_id, stored.position_count, stored.bin_count, stored.band_count) == (
        snapshot_id, 4, 3, 2,
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
    snapshot_id = _save(repo, dataclasses.replace(sample, positions=positions))
    (scan_id,) = repo.scan_ids(snapshot_id).values()
    query = (
        select(PositionRow.liquidation_price_8dec)
        .where(PositionRow.scan_id == scan_id)
        .order_by(PositionRow.liquidation_price_8dec)
    )
    with repo.engine.connect() as conn:
        assert list(conn.execute(query).scalars()) == sorted(values)


def _assert_nothing_written_after_first(repo: Repository, first_id: int, market: str) -> None:
    assert repo.latest_snapshot_id() == first_id
    assert _count(repo, SnapshotRow) == 1
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


def test_find_snapshot_and_scan(repo: Repository, sample_scan: SampleScan) -> None:
    snapshot_id = _save(repo, sample_scan)
    market, block = sample_scan.record.market_key, sample_scan.record.block
    assert repo.find_snapshot("devnet", block, [market]) == snapshot_id
    assert repo.find_snapshot("devnet", block, [market, "other"]) is None
    assert repo.find_snapshot("devnet", block + 1, [market]) is None
    assert repo.find_scan(market, block) == repo.scan_ids(snapshot_id)[market]


def test_a_snapshot_of_several_markets_round_trips(repo: Repository) -> None:
    a, b = make_sample_scan(block=100), make_sample_scan(block=100, market_key="other",
                                                        n_positions=2)
    share_a = Share("devnet-aave-v3", "aave-v3", 2, 10**30, 3 * USD, 2 * USD)
    share_b = Share("other", "spark", 1, USD, 0, 0)
    band = dataclasses.replace(a.bands[0], shares=(share_a, share_b))
    binned = dataclasses.replace(a.bins[0], shares=(share_b,))
    snapshot = SnapshotRecord("devnet", 31337, 100, a.record.block_timestamp,
                              markets=(a.record, b.record))
    snapshot_id = repo.save_snapshot(
        snapshot, [MarketScan(a.record, a.positions, a.discovered, 100),
                   MarketScan(b.record, b.positions, b.discovered, 100)],
        [binned, *a.bins[1:]], [band, a.bands[1]])
    assert repo.get_snapshot(snapshot_id).record == snapshot
    assert repo.load_positions(snapshot_id) == a.positions + b.positions
    assert repo.load_positions(snapshot_id, market_key="other") == b.positions
    assert repo.load_bands(snapshot_id, axis="ETH")[0].shares == (share_a, share_b)
    assert repo.load_bins(snapshot_id)[0].shares == (share_b,)
    assert _count(repo, BandShareRow) == 2
    assert set(repo.scan_ids(snapshot_id)) == {"devnet-aave-v3", "other"}


def test_a_header_that_lists_other_markets_is_refused(repo: Repository) -> None:
    a = make_sample_scan()
    snapshot = SnapshotRecord("devnet", 31337, 100, 0, markets=())
    with pytest.raises(InconsistentDataError, match="header lists other markets"):
        repo.save_snapshot(snapshot, [MarketScan(a.record, a.positions)], [], [])
    assert _count(repo, SnapshotRow) == 0


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
    _save(repo, make_sample_scan(block=50, market_key="other"))  # written last, lower block
    # THE latest: per chain, complete, highest block -- not the newest written
    assert repo.latest_snapshot_id() == ids[300]
    assert repo.latest_snapshot_id("devnet") == ids[300]
    assert repo.latest_snapshot_id("nowhere") is None
    listed = repo.list_snapshots("devnet", limit=2)
    assert [s.record.block for s in listed] == [50, 400]
    with pytest.raises(ScanNotFoundError, match="no snapshot with id 999"):
        repo.get_snapshot(999)
    with pytest.raises(ScanNotFoundError):
        repo.load_positions(999)


def test_latest_of_several_chains_needs_the_chain(repo: Repository) -> None:
    ethereum = _save(repo, make_sample_scan(block=100))
    base = make_sample_scan(block=5)
    base_id = _save(repo, dataclasses.replace(
        base, record=dataclasses.replace(base.record, chain="base", market_key="aave-base")))
    assert repo.chains() == ["base", "devnet"]
    assert (repo.latest_snapshot_id("devnet"), repo.latest_snapshot_id("base")) == (
        ethereum, base_id)
    with pytest.raises(UsageError, match=r"several chains \(base, devnet\): pass --chain"):
        repo.latest_snapshot_id()


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


def test_the_same_snapshot_twice_is_stored_once(repo: Repository, sample_scan: SampleScan
                                                ) -> None:
    """The database decides (unique chain, block, content digest): the second save of the
    same snapshot writes nothing and names the first; other bands at that block are new."""
    first = _save(repo, sample_scan)
    with pytest.raises(SnapshotAlreadyStoredError) as raised:
        _save(repo, sample_scan)
    assert raised.value.snapshot_id == first
    assert _count(repo, SnapshotRow) == 1
    fewer = dataclasses.replace(sample_scan, bands=sample_scan.bands[:-1])
    assert _save(repo, fewer) != first  # the band settings changed: a new snapshot is due
    assert _count(repo, SnapshotRow) == 2

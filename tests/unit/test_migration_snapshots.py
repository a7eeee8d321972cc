"""Migration 0006: scans stored before snapshots existed migrate whole, and back down again."""

from __future__ import annotations

from sqlalchemy import text

from scanner.domain import Direction
from scanner.store import db
from scanner.store.repository import Repository
from tests.conftest import make_sample_scan

_PAD = "{:078d}".format


def _old_rows(url: str) -> None:
    """Two scans of two markets as 0005 stored them: positions, a bin and a band each
    (ids 1 and 2 from the fresh database's own sequence)."""
    engine = db.make_engine(url, check=False)
    with engine.begin() as conn:
        for scan_id, market, block in ((1, "aave-v3-ethereum", 200), (2, "spark-ethereum", 150)):
            conn.execute(text(
                "INSERT INTO scans (chain, chain_id, market_key, protocol, block,"
                " block_timestamp, pool_revision, status, created_at, position_count, bin_count,"
                " band_count) VALUES ('ethereum', 1, :market, 'aave-v3', :block, 1700000000,"
                " 3, 'complete', '2026-11-20 10:00:00', 1, 1, 1)"),
                {"id": scan_id, "market": market, "block": block})
            conn.execute(text(
                "INSERT INTO positions (scan_id, market_key, protocol, account, axis, status,"
                " direction, liquidation_price_8dec, axis_price_now_8dec, health_factor_wad,"
                " collateral_usd_8dec, debt_usd_8dec, axis_collateral_usd_8dec,"
                " seizable_usd_8dec, emode_category) VALUES (:id, :market, 'aave-v3', :account,"
                " 'ETH', 'at_risk', 'down', :price, :now, :hf, :c, :d, :c, :s, 0)"),
                {"id": scan_id, "market": market, "account": "0x" + f"{scan_id:040x}",
                 "price": _PAD(1_800 * 10**8 + scan_id), "now": _PAD(2_000 * 10**8),
                 "hf": _PAD(11 * 10**17), "c": _PAD(10**30), "d": _PAD(5 * 10**8),
                 "s": _PAD(3 * 10**8)})
            conn.execute(text(
                "INSERT INTO histogram_bins (scan_id, axis, direction, bin_index, low_8dec,"
                " high_8dec, positions, collateral_usd_8dec, debt_usd_8dec, seizable_usd_8dec,"
                " cumulative_collateral_usd_8dec) VALUES (:id, 'ETH', 'down', 0, :lo, :hi, 1,"
                " :c, :d, :s, :c)"),
                {"id": scan_id, "lo": _PAD(1_780 * 10**8), "hi": _PAD(2_000 * 10**8),
                 "c": _PAD(10**30), "d": _PAD(5 * 10**8), "s": _PAD(3 * 10**8)})
            conn.execute(text(
                "INSERT INTO bands (scan_id, axis, direction, rank, low_8dec, high_8dec,"
                " positions, collateral_usd_8dec, debt_usd_8dec, seizable_usd_8dec,"
                " share_of_at_risk_bps, distance_low_bps, distance_high_bps, top_accounts)"
                " VALUES (:id, 'ETH', 'down', 1, :lo, :lo, 1, :c, :d, :s, 10000, -1000, -1000,"
                " '[]')"),
                {"id": scan_id, "lo": _PAD(1_800 * 10**8 + scan_id), "c": _PAD(10**30),
                 "d": _PAD(5 * 10**8), "s": _PAD(3 * 10**8)})
    engine.dispose()


def test_old_scans_become_snapshots_and_nothing_is_lost(empty_db_url: str) -> None:
    db.upgrade(empty_db_url, "0005")
    _old_rows(empty_db_url)
    db.upgrade(empty_db_url)
    repo = Repository.from_url(empty_db_url)
    for snapshot_id, market, block in ((1, "aave-v3-ethereum", 200), (2, "spark-ethereum", 150)):
        stored = repo.get_snapshot(snapshot_id)
        assert stored.record.block == block and stored.record.market_keys == (market,)
        assert (stored.position_count, stored.bin_count, stored.band_count) == (1, 1, 1)
        (position,) = repo.load_positions(snapshot_id)
        assert position.liquidation_price_8dec == 1_800 * 10**8 + snapshot_id
        assert position.liquidation_price_native == position.liquidation_price_8dec
        assert (position.submarket, position.native_price_unit) == ("", "USD")
        (band,) = repo.load_bands(snapshot_id)
        assert band.direction is Direction.DOWN and band.collateral_usd_8dec == 10**30
        (share,) = band.shares
        assert (share.market_key, share.positions, share.collateral_usd_8dec) == (
            market, 1, 10**30)
        assert repo.load_bins(snapshot_id)[0].shares[0].market_key == market
    # one definition of latest, in SQL too: the highest block, not the newest id
    assert repo.latest_snapshot_id() == 1
    with repo.engine.connect() as conn:
        latest = conn.execute(text("SELECT snapshot_id, market_key FROM v_latest_positions")).all()
    assert [tuple(r) for r in latest] == [(1, "aave-v3-ethereum")]
    # new snapshots get fresh ids after the migrated ones (the PostgreSQL sequence moved)
    sample = make_sample_scan(block=300)
    assert repo.save_scan(sample.record, sample.positions, [], [], {}, 300) == 3
    repo.engine.dispose()


def test_downgrade_restores_the_old_scans(empty_db_url: str) -> None:
    db.upgrade(empty_db_url, "0005")
    _old_rows(empty_db_url)
    db.upgrade(empty_db_url)
    db.downgrade(empty_db_url, "0005")
    engine = db.make_engine(empty_db_url, check=False)
    with engine.connect() as conn:
        scans = conn.execute(text(
            "SELECT id, market_key, bin_count, band_count FROM scans ORDER BY id")).all()
        bands = conn.execute(text("SELECT scan_id FROM bands ORDER BY scan_id")).all()
        latest = conn.execute(text("SELECT market_key FROM v_latest_scans ORDER BY 1")).all()
    engine.dispose()
    assert [tuple(r) for r in scans] == [(1, "aave-v3-ethereum", 1, 1), (2, "spark-ethereum", 1, 1)]
    assert [r[0] for r in bands] == [1, 2]
    assert [r[0] for r in latest] == ["aave-v3-ethereum", "spark-ethereum"]

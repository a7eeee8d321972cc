"""Analyst views (migration 0006): the latest complete snapshot of each chain, band history,
band kinds.

"Latest" is defined once: per chain, the complete snapshot at the highest block, highest id
on a tie. The views and Repository.latest_snapshot_id (the CLI) must agree.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sqlalchemy import text

from scanner.domain import Share, SnapshotRecord
from scanner.store.repository import MarketScan, Repository
from tests.conftest import USD, make_sample_scan


def _save_snapshots(repo: Repository) -> dict[str, int]:
    ids = {}
    for name, sample in {
        "old": make_sample_scan(block=100),
        "latest": make_sample_scan(block=300),
        "middle": make_sample_scan(block=200),
        "partial": make_sample_scan(block=400, status="partial"),  # newer but incomplete
        "lower": make_sample_scan(block=50, market_key="other", n_positions=2),  # written last
    }.items():
        ids[name] = repo.save_scan(
            sample.record, sample.positions, sample.bins, sample.bands, sample.discovered,
            sample.record.block,
        )  # fmt: skip
    return ids


def _rows(repo: Repository, sql: str) -> list[dict[str, object]]:
    with repo.engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(sql)).mappings()]


def test_views_and_repository_agree_on_the_latest_snapshot(repo: Repository) -> None:
    ids = _save_snapshots(repo)
    assert repo.latest_snapshot_id() == ids["latest"]  # not "lower", written after it
    (latest,) = _rows(repo, "SELECT id, block FROM v_latest_snapshots")
    assert latest == {"id": ids["latest"], "block": 300}
    for view, count in (("v_latest_positions", 4), ("v_latest_bins", 3), ("v_latest_bands", 2),
                        ("v_latest_scans", 1)):  # fmt: skip
        key = "id" if view == "v_latest_scans" else "snapshot_id"
        column = "snapshot_id" if view == "v_latest_scans" else key
        rows = _rows(repo, f"SELECT {column} FROM {view}")
        assert {r[column] for r in rows} == {ids["latest"]}, view
        assert len(rows) == count, view


def test_latest_is_per_chain(repo: Repository) -> None:
    ethereum = _save_snapshots(repo)["latest"]
    sample = make_sample_scan(block=7)
    base = repo.save_scan(dataclasses.replace(sample.record, chain="base"), sample.positions,
                          [], [], {}, 7)
    rows = _rows(repo, "SELECT id, chain FROM v_latest_snapshots ORDER BY chain")
    assert rows == [{"id": base, "chain": "base"}, {"id": ethereum, "chain": "devnet"}]
    assert (repo.latest_snapshot_id("devnet"), repo.latest_snapshot_id("base")) == (ethereum, base)


def test_a_snapshot_of_two_markets_shows_both(repo: Repository) -> None:
    a, b = make_sample_scan(block=500), make_sample_scan(block=500, market_key="spark",
                                                        n_positions=2)
    shares = (Share("devnet-aave-v3", "aave-v3", 2, 10**30, 0, 0), Share("spark", "spark", 1,
                                                                        USD, 0, 0))
    band = dataclasses.replace(a.bands[0], shares=shares)
    snapshot = SnapshotRecord("devnet", 31337, 500, 0, markets=(a.record, b.record))
    snapshot_id = repo.save_snapshot(
        snapshot, [MarketScan(a.record, a.positions), MarketScan(b.record, b.positions)], [],
        [band])
    rows = _rows(repo, "SELECT market_key, submarket, liquidation_price_native_unit"
                       " FROM v_latest_positions")
    assert sorted({r["market_key"] for r in rows}) == ["devnet-aave-v3", "spark"]  # type: ignore[type-var]
    assert len(rows) == 6 and {r["liquidation_price_native_unit"] for r in rows} == {"USD"}
    (stored_band,) = _rows(repo, "SELECT band_id, snapshot_id FROM v_latest_bands")
    assert stored_band["snapshot_id"] == snapshot_id
    parts = _rows(repo, "SELECT market_key FROM band_shares WHERE band_id = "
                        f"{stored_band['band_id']} ORDER BY market_key")
    assert [p["market_key"] for p in parts] == ["devnet-aave-v3", "spark"]


def test_views_have_readable_columns(repo: Repository, db_backend: str) -> None:
    ids = _save_snapshots(repo)
    (position,) = _rows(
        repo,
        "SELECT liquidation_price_usd, liquidation_price_8dec, health_factor, collateral_usd,"
        " liquidation_price_native FROM v_latest_positions"
        f" WHERE snapshot_id = {ids['latest']} AND account = '0x{0:040x}'",
    )
    assert position["liquidation_price_8dec"] == f"{1_781_09234567 + 300:078d}"  # raw kept
    (band,) = _rows(
        repo,
        "SELECT low_usd, collateral_usd, debt_usd FROM v_latest_bands "
        f"WHERE snapshot_id = {ids['latest']} AND direction = 'down'",
    )
    if db_backend == "postgresql":  # NUMERIC: every digit
        assert position["liquidation_price_usd"] == Decimal("1781.09234867")
        assert position["health_factor"] == Decimal("1.000000000000000000")
        assert band["collateral_usd"] == Decimal(10**22)
        assert str(band["debt_usd"]) == f"{2**200 // 10**8}.{2**200 % 10**8:08d}"
    else:  # SQLite: REAL is for display only
        assert abs(float(str(position["liquidation_price_usd"])) - 1781.09234867) < 1e-6
        assert abs(float(str(band["collateral_usd"])) / 1e22 - 1) < 1e-12
    assert abs(float(str(band["low_usd"])) - 1781.09234567) < 1e-6


def test_band_history_lists_every_complete_snapshot_in_block_order(repo: Repository) -> None:
    ids = _save_snapshots(repo)
    rows = _rows(repo, "SELECT snapshot_id, block, low_usd FROM v_band_history "
                       "WHERE chain = 'devnet' ORDER BY block, rank")
    assert [r["block"] for r in rows] == sorted(r["block"] for r in rows)  # type: ignore[type-var]
    assert {r["snapshot_id"] for r in rows} == {ids["old"], ids["middle"], ids["latest"],
                                                ids["lower"]}
    assert all(float(str(r["low_usd"])) > 0 for r in rows)  # readable USD, not 8-dec


def test_band_views_show_the_kind(repo: Repository) -> None:
    ids = _save_snapshots(repo)
    for view in ("v_latest_bands", "v_band_history"):
        rows = _rows(repo, f"SELECT direction, kind FROM {view}"
                           f" WHERE snapshot_id = {ids['latest']}")
        assert sorted((r["direction"], r["kind"]) for r in rows) == [
            ("down", "band"), ("up", "wall")], view

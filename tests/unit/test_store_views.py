"""Analyst views (migrations 0002, 0003, 0005): the latest complete scan of each market, band
history, band kinds."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from scanner.store.repository import Repository
from tests.conftest import make_sample_scan


def _save_scans(repo: Repository) -> dict[str, int]:
    ids = {}
    for name, sample in {
        "old": make_sample_scan(block=100),
        "latest": make_sample_scan(block=300),
        "middle": make_sample_scan(block=200),
        "partial": make_sample_scan(block=400, status="partial"),  # newer but incomplete
        "other": make_sample_scan(block=50, market_key="other", n_positions=2),
    }.items():
        ids[name] = repo.save_scan(
            sample.record, sample.positions, sample.bins, sample.bands, sample.discovered,
            sample.record.block,
        )  # fmt: skip
    return ids


def _rows(repo: Repository, sql: str) -> list[dict[str, object]]:
    with repo.engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(sql)).mappings()]


def test_views_show_only_the_latest_complete_scan(repo: Repository) -> None:
    ids = _save_scans(repo)
    latest = {ids["latest"], ids["other"]}
    for view, per_scan in (("v_latest_positions", {4, 2}), ("v_latest_bins", {3}),
                           ("v_latest_bands", {2})):  # fmt: skip
        rows = _rows(repo, f"SELECT scan_id, market_key, block FROM {view}")
        assert {r["scan_id"] for r in rows} == latest, view
        counts = {sid: sum(r["scan_id"] == sid for r in rows) for sid in latest}
        assert set(counts.values()) <= per_scan, view
    scans = _rows(repo, "SELECT market_key, block FROM v_latest_scans ORDER BY market_key")
    assert scans == [
        {"market_key": "devnet-aave-v3", "block": 300},
        {"market_key": "other", "block": 50},
    ]


def test_views_have_readable_columns(repo: Repository, db_backend: str) -> None:
    ids = _save_scans(repo)
    (position,) = _rows(
        repo,
        "SELECT liquidation_price_usd, liquidation_price_8dec, health_factor, collateral_usd "
        f"FROM v_latest_positions WHERE scan_id = {ids['latest']} AND account = '0x{0:040x}'",
    )
    assert position["liquidation_price_8dec"] == f"{1_781_09234567 + 300:078d}"  # raw kept
    (band,) = _rows(
        repo,
        "SELECT low_usd, collateral_usd, debt_usd FROM v_latest_bands "
        f"WHERE scan_id = {ids['latest']} AND direction = 'down'",
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


def test_band_history_lists_every_complete_scan_in_block_order(repo: Repository) -> None:
    ids = _save_scans(repo)
    rows = _rows(repo, "SELECT scan_id, block, low_usd FROM v_band_history "
                       "WHERE market_key = 'devnet-aave-v3' ORDER BY block, rank")
    assert [r["block"] for r in rows] == sorted(r["block"] for r in rows)
    assert {r["scan_id"] for r in rows} == {ids["old"], ids["middle"], ids["latest"]}
    assert all(float(str(r["low_usd"])) > 0 for r in rows)  # readable USD, not 8-dec


def test_band_views_show_the_kind(repo: Repository) -> None:
    ids = _save_scans(repo)
    for view in ("v_latest_bands", "v_band_history"):
        rows = _rows(repo, f"SELECT direction, kind FROM {view} WHERE scan_id = {ids['latest']}")
        assert sorted((r["direction"], r["kind"]) for r in rows) == [
            ("down", "band"), ("up", "wall")], view

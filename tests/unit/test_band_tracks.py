"""Band identity over time (issue 12, item 2): rules, storage, views and the SQL history."""

from __future__ import annotations

import dataclasses

from sqlalchemy import text

from scanner.domain import Band, Direction
from scanner.pipeline.band_tracks import NEW_TRACK, TrackLink, link_bands
from scanner.store.repository import Repository
from tests.conftest import USD, make_sample_scan


def band(low_usd: int, high_usd: int, collateral_usd: int, track_id: int = 0,
         direction: Direction = Direction.DOWN) -> Band:
    return Band(axis="ETH", direction=direction, rank=1, low_8dec=low_usd * USD,
                high_8dec=high_usd * USD, positions=5, collateral_usd_8dec=collateral_usd * USD,
                debt_usd_8dec=0, seizable_usd_8dec=0, share_of_at_risk_bps=0,
                distance_low_bps=0, distance_high_bps=0, top_accounts=(), track_id=track_id)


def test_a_band_that_overlaps_its_previous_self_keeps_its_id() -> None:
    previous = [band(1_800, 1_850, 10, track_id=7), band(1_500, 1_520, 5, track_id=9)]
    new = [band(1_790, 1_830, 12), band(1_300, 1_320, 5)]
    assert link_bands(previous, new) == [TrackLink(7, None), TrackLink(NEW_TRACK, None)]


def test_touching_edges_overlap_but_other_directions_do_not() -> None:
    previous = [band(1_800, 1_850, 10, track_id=7)]
    assert link_bands(previous, [band(1_850, 1_900, 1)]) == [TrackLink(7, None)]
    up = band(1_800, 1_850, 10, direction=Direction.UP)
    assert link_bands(previous, [up]) == [TrackLink(NEW_TRACK, None)]


def test_split_the_larger_part_keeps_the_id_the_other_records_its_origin() -> None:
    previous = [band(1_700, 1_900, 30, track_id=3)]
    new = [band(1_700, 1_760, 8), band(1_800, 1_900, 20)]
    assert link_bands(previous, new) == [TrackLink(NEW_TRACK, 3), TrackLink(3, None)]


def test_merge_continues_the_largest_previous_band() -> None:
    previous = [band(1_700, 1_760, 8, track_id=4), band(1_800, 1_900, 20, track_id=5)]
    assert link_bands(previous, [band(1_700, 1_900, 30)]) == [TrackLink(5, None)]


def test_ties_do_not_depend_on_the_order_of_the_bands() -> None:
    previous = [band(1_700, 1_900, 30, track_id=3)]
    new = [band(1_700, 1_760, 8), band(1_800, 1_900, 8)]
    assert link_bands(previous, new)[::-1] == link_bands(previous, new[::-1])


def _save(repo: Repository, block: int, bands: list[Band], market: str = "m") -> int:
    sample = make_sample_scan(block=block, market_key=market)
    ranked = [dataclasses.replace(b, rank=rank) for rank, b in enumerate(bands, start=1)]
    return repo.save_scan(sample.record, sample.positions, sample.bins, ranked,
                          sample.discovered, block)


def test_stored_tracks_follow_a_band_across_snapshots(repo: Repository) -> None:
    first = _save(repo, 100, [band(1_800, 1_850, 10), band(1_500, 1_520, 5)])
    ids = {b.low_8dec // USD: b.track_id for b in repo.load_bands(first)}
    assert ids[1_800] != ids[1_500] and NEW_TRACK not in ids.values()
    second = _save(repo, 200, [band(1_780, 1_820, 11), band(1_200, 1_220, 2)])
    moved, fresh = sorted(repo.load_bands(second), key=lambda b: -b.low_8dec)
    assert moved.track_id == ids[1_800] and fresh.track_id not in ids.values()
    # another market set is another history: not linked to the snapshots above
    other = _save(repo, 300, [band(1_780, 1_820, 11)], market="other")
    assert repo.load_bands(other)[0].track_id not in {moved.track_id, fresh.track_id}
    third = _save(repo, 400, [band(1_700, 1_785, 3), band(1_790, 1_830, 9)])
    split, kept = sorted(repo.load_bands(third), key=lambda b: b.low_8dec)
    assert kept.track_id == ids[1_800] and split.split_from == ids[1_800]
    with repo.engine.connect() as conn:
        history = conn.execute(text(
            "SELECT block, low_usd, axis_price_usd, snapshot_time FROM v_band_history"
            " WHERE track_id = :t ORDER BY block"), {"t": ids[1_800]}).all()
    assert [(row[0], round(float(row[1]))) for row in history] == [
        (100, 1_800), (200, 1_780), (400, 1_790)]
    assert {float(row[2]) for row in history} == {2_000.0}
    assert str(history[0][3]).startswith("2023-11-14")  # 1_700_000_100 UTC


def test_a_rescan_of_the_same_block_compares_equal_despite_track_ids(repo: Repository) -> None:
    stored = repo.load_bands(_save(repo, 100, [band(1_800, 1_850, 10)]))
    assert stored == [dataclasses.replace(band(1_800, 1_850, 10), track_id=0)]


def test_snapshot_axes_hold_the_price_and_totals(repo: Repository) -> None:
    sample = make_sample_scan(block=100, n_positions=8)
    repo.save_scan(sample.record, sample.positions, sample.bins, sample.bands,
                   sample.discovered, 100)
    with repo.engine.connect() as conn:
        rows = {r["axis"]: r for r in conn.execute(text(
            "SELECT axis, price_usd, at_risk_positions, liquidatable_now_positions,"
            " liquidatable_now_collateral_usd, snapshot_time FROM v_latest_axes")).mappings()}
    # sample positions: i % 4 == 0 at risk ETH, 1 at risk BTC, 2 liquidatable ETH, 3 hedged
    assert rows["ETH"]["at_risk_positions"] == 2 and rows["ETH"]["liquidatable_now_positions"] == 2
    assert float(rows["ETH"]["liquidatable_now_collateral_usd"]) == 1_002 + 1_006
    assert rows["BTC"]["at_risk_positions"] == 2 and float(rows["BTC"]["price_usd"]) == 2_000

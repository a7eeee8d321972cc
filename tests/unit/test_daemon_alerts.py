"""Alert rules on one snapshot: near a band, band growth, liquidatable now; and which
conditions fire or clear against the active ones."""

from __future__ import annotations

import dataclasses

from scanner.daemon.alerts import SnapshotFacts, band_distance_bps, changes, true_conditions
from scanner.daemon.settings import AlertRules
from scanner.domain import Band, Direction, PositionStatus
from tests.conftest import USD, make_sample_scan

BAND = Band(axis="ETH", direction=Direction.DOWN, rank=1, low_8dec=2_300 * USD,
            high_8dec=2_400 * USD, positions=90, collateral_usd_8dec=4_600_000 * USD,
            debt_usd_8dec=0, seizable_usd_8dec=0, share_of_at_risk_bps=2_000,
            distance_low_bps=-612, distance_high_bps=-204, top_accounts=())
RULES = AlertRules(webhooks=("http://x",), near_band_bps=300, near_band_min_usd=1_000_000,
                   band_growth_bps=2_000, band_growth_min_usd=1_000_000,
                   liquidatable_now_usd=1_000)


def _facts(bands: list[Band], previous: list[Band] | None = None) -> SnapshotFacts:
    return SnapshotFacts(chain="devnet", snapshot_id=7, block=100,
                         axis_price_8dec={"ETH": 2_450 * USD}, bands=bands,
                         previous_bands=previous, results=[])


def test_band_distance_is_to_the_nearest_edge_and_zero_inside() -> None:
    assert band_distance_bps(BAND) == 204
    up = dataclasses.replace(BAND, direction=Direction.UP, distance_low_bps=150,
                             distance_high_bps=400)
    assert band_distance_bps(up) == 150
    inside = dataclasses.replace(BAND, distance_low_bps=-50, distance_high_bps=30)
    assert band_distance_bps(inside) == 0


def test_near_band_needs_distance_and_size() -> None:
    found = true_conditions(RULES, _facts([BAND]))
    message = found["near_band:ETH:down"]
    assert (message["distance_bps"], message["band"]["low_usd"]) == (204, "2300.00000000")
    assert message["axis_price_usd"] == "2450.00000000" and message["block"] == 100
    far = dataclasses.replace(BAND, distance_high_bps=-301, distance_low_bps=-700)
    small = dataclasses.replace(BAND, collateral_usd_8dec=999_999 * USD)
    assert "near_band:ETH:down" not in true_conditions(RULES, _facts([far, small]))


def test_band_growth_against_the_overlapping_bands_of_the_previous_snapshot() -> None:
    before = dataclasses.replace(BAND, collateral_usd_8dec=3_800_000 * USD,
                                 low_8dec=2_350 * USD)
    grown = true_conditions(RULES, _facts([BAND], [before]))["band_growth:ETH:down"]
    assert grown["previous_collateral_usd"] == "3800000.00000000"
    barely = dataclasses.replace(before, collateral_usd_8dec=3_900_000 * USD)  # +17.9%
    assert "band_growth:ETH:down" not in true_conditions(RULES, _facts([BAND], [barely]))
    elsewhere = dataclasses.replace(before, low_8dec=2_500 * USD, high_8dec=2_600 * USD)
    assert "appeared" in true_conditions(RULES, _facts([BAND], [elsewhere]))[
        "band_growth:ETH:down"]["text"]
    assert "band_growth:ETH:down" not in true_conditions(RULES, _facts([BAND], None))


def test_liquidatable_now_sums_collateral_per_axis() -> None:
    positions = make_sample_scan(n_positions=8).positions  # two liquidatable_now, $1,002+$1,006
    now = [p for p in positions if p.status == PositionStatus.LIQUIDATABLE_NOW]
    facts = dataclasses.replace(_facts([]), results=positions)
    message = true_conditions(RULES, facts)["liquidatable_now:ETH"]
    assert message["collateral_usd"] == f"{sum(p.collateral_usd_8dec for p in now) // USD}" \
        ".00000000"
    strict = dataclasses.replace(RULES, liquidatable_now_usd=2_009)
    assert true_conditions(strict, facts) == {}


def test_a_condition_fires_once_and_clears_when_it_stops_holding() -> None:
    true_now = {"near_band:ETH:down": {}, "liquidatable_now:BTC": {}}
    assert changes(true_now, {}) == (["liquidatable_now:BTC", "near_band:ETH:down"], [])
    assert changes(true_now, {"near_band:ETH:down": 1, "liquidatable_now:BTC": 2}) == ([], [])
    assert changes({}, {"near_band:ETH:down": 1}) == ([], ["near_band:ETH:down"])

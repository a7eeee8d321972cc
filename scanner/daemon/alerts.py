"""Alert conditions of one snapshot, and which of them fired or cleared since the last one.

Pure. A condition is identified by a key (`near_band:ETH:down`, `band_growth:ETH:up`,
`liquidatable_now:BTC`); it fires when it becomes true and stays silent while it holds, so a
price parked next to a band sends one message, not one per block. The state (which keys are
active) lives in the database (scanner/store/daemon_state.py), so a restart sends no duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scanner.daemon.settings import AlertRules
from scanner.domain import Band, PositionResult, PositionStatus
from scanner.report.format import pct_bps, usd_compact, usd_price

USD_8DEC = 10**8
BPS = 10_000


@dataclass(frozen=True)
class SnapshotFacts:
    """What the rules look at: one stored snapshot, and the bands of the one before it."""

    chain: str
    snapshot_id: int
    block: int
    axis_price_8dec: Mapping[str, int]
    bands: Sequence[Band]
    previous_bands: Sequence[Band] | None  # None: no earlier snapshot (growth not judged)
    results: Sequence[PositionResult]


def true_conditions(rules: AlertRules, facts: SnapshotFacts) -> dict[str, dict[str, Any]]:
    """condition key -> the message to post if it fires now."""
    found: dict[str, dict[str, Any]] = {}
    if rules.near_band_bps is not None:
        found |= _near_bands(rules.near_band_bps, rules.near_band_min_usd, facts)
    if rules.band_growth_bps is not None and facts.previous_bands is not None:
        found |= _band_growth(rules.band_growth_bps, rules.band_growth_min_usd, facts)
    if rules.liquidatable_now_usd is not None:
        found |= _liquidatable_now(rules.liquidatable_now_usd, facts)
    return found


def changes(true_now: Mapping[str, Any], active: Mapping[str, int]) -> tuple[list[str], list[str]]:
    """(keys that fire now, keys that cleared), each sorted."""
    return sorted(set(true_now) - set(active)), sorted(set(active) - set(true_now))


def band_distance_bps(band: Band) -> int:
    """How far the price must move to reach the band's nearest edge (0 inside the band)."""
    if band.distance_low_bps <= 0 <= band.distance_high_bps:
        return 0
    return min(abs(band.distance_low_bps), abs(band.distance_high_bps))


def _near_bands(max_bps: int, min_usd: int, facts: SnapshotFacts) -> dict[str, dict[str, Any]]:
    nearest: dict[tuple[str, str], Band] = {}
    for band in facts.bands:
        if band.collateral_usd_8dec < min_usd * USD_8DEC or band_distance_bps(band) > max_bps:
            continue
        key = (band.axis, band.direction.value)
        held = nearest.get(key)
        if held is None or (band_distance_bps(band), -band.collateral_usd_8dec) < (
                band_distance_bps(held), -held.collateral_usd_8dec):
            nearest[key] = band
    found = {}
    for (axis, direction), band in nearest.items():
        price = facts.axis_price_8dec.get(axis, 0)
        text = (f"{axis} {usd_price(price)} is {pct_bps(band_distance_bps(band))} from a "
                f"{usd_compact(band.collateral_usd_8dec)} {band.kind} at "
                f"{usd_price(band.low_8dec)} - {usd_price(band.high_8dec)} ({direction})")
        found[f"near_band:{axis}:{direction}"] = _message(
            "near_band", facts, axis, text, direction=direction, band=_band_json(band),
            distance_bps=band_distance_bps(band))
    return found


def _band_growth(min_growth_bps: int, min_usd: int, facts: SnapshotFacts
                 ) -> dict[str, dict[str, Any]]:
    found = {}
    for band in sorted(facts.bands, key=lambda b: (b.axis, b.direction.value, b.rank)):
        before = sum(p.collateral_usd_8dec for p in facts.previous_bands or ()
                     if _overlap(p, band))
        if band.collateral_usd_8dec < min_usd * USD_8DEC:
            continue
        grown = band.collateral_usd_8dec - before
        if before and grown * BPS < min_growth_bps * before:
            continue
        key = f"band_growth:{band.axis}:{band.direction.value}"
        if key in found:
            continue  # the highest-ranked band that grew speaks for its axis and direction
        growth = f"grew {pct_bps(grown * BPS // before)}" if before else "appeared"
        text = (f"{band.axis} {band.kind} {usd_price(band.low_8dec)} - "
                f"{usd_price(band.high_8dec)} {growth} to {usd_compact(band.collateral_usd_8dec)}")
        found[key] = _message("band_growth", facts, band.axis, text,
                              direction=band.direction.value, band=_band_json(band),
                              previous_collateral_usd=_usd(before))
    return found


def _liquidatable_now(min_usd: int, facts: SnapshotFacts) -> dict[str, dict[str, Any]]:
    totals: dict[str, int] = {}
    for r in facts.results:
        if r.status == PositionStatus.LIQUIDATABLE_NOW:
            totals[r.axis] = totals.get(r.axis, 0) + r.collateral_usd_8dec
    found = {}
    for axis, total_8dec in sorted(totals.items()):
        if total_8dec >= min_usd * USD_8DEC:
            text = f"{usd_compact(total_8dec)} of collateral is liquidatable now on {axis}"
            found[f"liquidatable_now:{axis}"] = _message(
                "liquidatable_now", facts, axis, text, collateral_usd=_usd(total_8dec))
    return found


def _overlap(a: Band, b: Band) -> bool:
    return (a.axis == b.axis and a.direction == b.direction
            and a.low_8dec <= b.high_8dec and b.low_8dec <= a.high_8dec)


def _message(rule: str, facts: SnapshotFacts, axis: str, text: str, **extra: Any
             ) -> dict[str, Any]:
    return {"rule": rule, "chain": facts.chain, "axis": axis, "block": facts.block,
            "snapshot_id": facts.snapshot_id,
            "axis_price_usd": _usd(facts.axis_price_8dec.get(axis, 0)), "text": text, **extra}


def _band_json(band: Band) -> dict[str, Any]:
    return {"kind": band.kind, "rank": band.rank, "low_usd": _usd(band.low_8dec),
            "high_usd": _usd(band.high_8dec), "collateral_usd": _usd(band.collateral_usd_8dec),
            "positions": band.positions}


def _usd(value_8dec: int) -> str:
    """Exact decimal string: JSON numbers would round large values."""
    sign = "-" if value_8dec < 0 else ""
    whole, frac = divmod(abs(value_8dec), USD_8DEC)
    return f"{sign}{whole}.{frac:08d}"

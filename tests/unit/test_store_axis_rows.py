"""Per-axis totals a snapshot stores (scanner/store/tracks.axis_rows): counts and collateral
of the at-risk and liquidatable-now positions of each axis, and a refusal of two prices."""

from __future__ import annotations

import dataclasses

import pytest

from scanner.domain import PositionResult, PositionStatus
from scanner.errors import InconsistentDataError
from scanner.store.tracks import axis_rows
from tests.conftest import make_sample_scan

_PRICES = {"ETH": 3_000 * 10**8, "BTC": 60_000 * 10**8}


def _mixed(n: int) -> list[PositionResult]:
    """Two axes, every status, collateral values that differ per position."""
    base = make_sample_scan(n_positions=1).positions[0]
    statuses = list(PositionStatus)
    return [dataclasses.replace(
        base, account="0x" + f"{i:040x}", axis=("ETH", "BTC")[i % 2],
        axis_price_now_8dec=_PRICES[("ETH", "BTC")[i % 2]],
        status=statuses[i % len(statuses)], collateral_usd_8dec=10**20 + i * 7919)
        for i in range(n)]


def _expected(snapshot_id: int, positions: list[PositionResult]) -> list[dict[str, object]]:
    found = []
    for axis in sorted({p.axis for p in positions}):
        row: dict[str, object] = {"snapshot_id": snapshot_id, "axis": axis,
                                  "price_now_8dec": _PRICES[axis]}
        for status, prefix in ((PositionStatus.AT_RISK, "at_risk"),
                               (PositionStatus.LIQUIDATABLE_NOW, "liquidatable_now")):
            chosen = [p for p in positions if p.axis == axis and p.status is status]
            row[f"{prefix}_positions"] = len(chosen)
            row[f"{prefix}_collateral_usd_8dec"] = sum(p.collateral_usd_8dec for p in chosen)
        found.append(row)
    return found


def test_axis_rows_total_each_axis_and_status_exactly() -> None:
    positions = _mixed(103)
    assert axis_rows(9, positions) == _expected(9, positions)
    assert axis_rows(9, []) == []


def test_an_axis_without_at_risk_positions_totals_zero() -> None:
    positions = [dataclasses.replace(p, status=PositionStatus.NOT_SENSITIVE)
                 for p in _mixed(6)]
    rows = axis_rows(1, positions)
    assert [r["axis"] for r in rows] == ["BTC", "ETH"]
    assert all(r["at_risk_positions"] == r["liquidatable_now_collateral_usd_8dec"] == 0
               for r in rows)


def test_two_prices_of_one_axis_are_refused_naming_the_first_two() -> None:
    positions = _mixed(10)
    positions[6] = dataclasses.replace(positions[6], axis_price_now_8dec=1)
    positions[8] = dataclasses.replace(positions[8], axis_price_now_8dec=2)
    with pytest.raises(InconsistentDataError, match=rf"axis ETH has two prices in one "
                       rf"snapshot \({_PRICES['ETH']} and 1\): nothing was written"):
        axis_rows(1, positions)

"""find_positions sorts on the sort columns alone and reads only the page it returns: the page
must be exactly the first `limit` of every matching position read whole and sorted (the way
it was done before), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import random

import pytest

from scanner.domain import PositionResult, PositionStatus
from scanner.store.queries import SORTS, PositionQuery, _sort_key, find_positions
from scanner.store.repository import Repository
from tests.conftest import make_sample_scan

STATUSES = list(PositionStatus)


def _varied(base: list[PositionResult], n: int) -> list[PositionResult]:
    """n positions with prices, sizes, health and statuses drawn at random (with ties)."""
    rng = random.Random(11)
    out = []
    for i in range(n):
        p = base[i % len(base)]
        status = rng.choice([PositionStatus.AT_RISK, PositionStatus.LIQUIDATABLE_NOW,
                             PositionStatus.NOT_SENSITIVE])
        price = None if status is PositionStatus.NOT_SENSITIVE else rng.randrange(
            1_000 * 10**8, 3_000 * 10**8, 10**8 * rng.choice([1, 50]))
        out.append(dataclasses.replace(
            p, account="0x" + f"{i:040x}", status=status, liquidation_price_8dec=price,
            collateral_usd_8dec=rng.choice([10**10, 10**12, rng.randrange(10**14)]),
            health_factor_wad=rng.randrange(10**17, 3 * 10**18)))
    return out


def _reference(stored: list[PositionResult], q: PositionQuery) -> list[PositionResult]:
    chosen = [p for p in stored
              if (q.axis is None or p.axis == q.axis) and (not q.statuses or p.status in
                                                           q.statuses)]
    chosen.sort(key=_sort_key(q.sort))  # type: ignore[arg-type]  # same fields by name
    return chosen if q.limit is None else chosen[:q.limit]


@pytest.mark.parametrize("sort", SORTS)
def test_page_is_the_head_of_the_full_sort(repo: Repository, sort: str) -> None:
    sample = make_sample_scan(n_positions=8)
    positions = _varied(sample.positions, 400)
    snapshot_id = repo.save_scan(sample.record, positions, sample.bins, sample.bands,
                                 sample.discovered, None)
    stored = find_positions(repo, snapshot_id, PositionQuery(statuses=(), limit=None))
    assert sorted(p.account for p in stored) == sorted(p.account for p in positions)
    for q in (PositionQuery(sort=sort, limit=50),  # type: ignore[arg-type]
              PositionQuery(sort=sort, limit=7, axis="ETH"),  # type: ignore[arg-type]
              PositionQuery(sort=sort, limit=None, statuses=()),  # type: ignore[arg-type]
              PositionQuery(sort=sort, limit=3, statuses=(STATUSES[0],))):  # type: ignore[arg-type]
        found = find_positions(repo, snapshot_id, q)
        expected = _reference(stored, q)
        assert [_sort_key(q.sort)(p) for p in found] == [  # type: ignore[arg-type]
            _sort_key(q.sort)(p) for p in expected]  # type: ignore[arg-type]
        assert all(p in stored for p in found)  # whole rows, as stored


def _around_axis(base: list[PositionResult], n: int, axis_now_8dec: int | None
                 ) -> list[PositionResult]:
    """n positions whose prices sit on both sides of the axis price at equal distances (ties
    across sides and within one), some without a price; `axis_now_8dec` None: two axes with
    their own prices (the store keeps one price per axis and snapshot)."""
    rng = random.Random(16)
    out = []
    for i, p in enumerate(_varied(base, n)):
        axis = p.axis if axis_now_8dec is not None else rng.choice(["ETH", "BTC"])
        now = axis_now_8dec or {"ETH": 2_000 * 10**8, "BTC": 30_000 * 10**8}[axis]
        price = p.liquidation_price_8dec
        if price is not None:
            price = now + rng.choice([-1, 1]) * rng.randrange(0, 40, 5) * 10**8
        status = PositionStatus.UNVERIFIED if i % 37 == 0 else p.status
        out.append(dataclasses.replace(
            p, status=status, axis=axis, axis_price_now_8dec=now,
            liquidation_price_8dec=None if status is PositionStatus.UNVERIFIED else price))
    return out


@pytest.mark.parametrize("axis_now_8dec", [2_000 * 10**8, None])
def test_prefilter_keeps_the_order_with_ties(repo: Repository, axis_now_8dec: int | None
                                             ) -> None:
    """The SQL prefilter (scanner/store/page.py) against the full sort of every stored row,
    on a real database, with ties on every sort column and every status."""
    sample = make_sample_scan(n_positions=8)
    positions = _around_axis(sample.positions, 500, axis_now_8dec)
    snapshot_id = repo.save_scan(sample.record, positions, sample.bins, sample.bands,
                                 sample.discovered, None)
    stored = find_positions(repo, snapshot_id, PositionQuery(statuses=(), limit=None))
    assert len(stored) == len(positions)
    for sort in SORTS:
        for limit in (1, 2, 9, 50, 499, 600):
            for statuses in ((), (PositionStatus.AT_RISK,), (PositionStatus.UNVERIFIED,
                                                              PositionStatus.AT_RISK)):
                q = PositionQuery(sort=sort, limit=limit, statuses=statuses)
                found = find_positions(repo, snapshot_id, q)
                expected = _reference(stored, q)
                assert [p.account for p in found] == [p.account for p in expected], (q,)
        q = PositionQuery(sort=sort, limit=5, protocol="aave-v3", statuses=(),
                          min_collateral_8dec=10**12)
        expected = [p for p in _reference(stored, dataclasses.replace(q, limit=None))
                    if p.collateral_usd_8dec >= 10**12][:5]
        assert [p.account for p in find_positions(repo, snapshot_id, q)] == [
            p.account for p in expected]

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

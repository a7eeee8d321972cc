"""plan_batches cuts calls exactly as the plain rule says: in order, at least one call a
batch, never more than max_calls, and a batch's estimated gas under the cap unless one call
alone exceeds it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scanner.chain.multicall import (
    _BATCH_OVERHEAD_GAS,
    _PER_CALL_OVERHEAD_GAS,
    Call,
    plan_batches,
)


def _plain_rule(gas: list[int], limit: int, max_calls: int) -> list[range]:
    """The rule written as a loop over the calls (how the plan was once computed)."""
    batches, start, spent = [], 0, _BATCH_OVERHEAD_GAS
    for index, estimate in enumerate(gas):
        cost = estimate + _PER_CALL_OVERHEAD_GAS
        full = index - start >= max_calls or spent + cost > limit
        if index > start and full:
            batches.append(range(start, index))
            start, spent = index, _BATCH_OVERHEAD_GAS
        spent += cost
    if start < len(gas):
        batches.append(range(start, len(gas)))
    return batches


@given(st.lists(st.integers(0, 3_000_000), max_size=300), st.integers(0, 20_000_000),
       st.integers(1, 50))
def test_plan_follows_the_plain_rule(gas: list[int], limit: int, max_calls: int) -> None:
    calls = [Call("0x" + "11" * 20, b"", False, g) for g in gas]
    assert plan_batches(calls, limit, max_calls) == _plain_rule(gas, limit, max_calls)


def test_a_snapshot_sized_plan() -> None:
    calls = [Call("0x" + "11" * 20, b"", False, 60_000 if i % 7 else 400_000)
             for i in range(70_000)]
    batches = plan_batches(calls, 15_000_000, 500)
    assert batches == _plain_rule([c.gas_estimate for c in calls], 15_000_000, 500)
    assert sum(len(b) for b in batches) == 70_000

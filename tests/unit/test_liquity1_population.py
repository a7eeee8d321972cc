"""The seeded Liquity v1 troves are a pure function of (seed, n), of every planned shape."""

from __future__ import annotations

import pytest

from scanner.devnet.liquity1_population import (
    ICR_BUCKETS,
    MIN_LUSD,
    WAVES,
    generate_liquity1_population,
)
from scanner.errors import ConfigError


def test_plans_are_deterministic_and_varied() -> None:
    plans = generate_liquity1_population(7, 240)
    assert plans == generate_liquity1_population(7, 240)
    assert plans != generate_liquity1_population(8, 240)
    scanned = [p for p in plans if p.bucket != "victim"]
    victims = [p for p in plans if p.bucket == "victim"]
    assert len(scanned) == 240 and len(victims) == 6
    assert {p.bucket for p in scanned} == set(ICR_BUCKETS)
    assert {p.wave for p in scanned} == set(range(WAVES))
    # one redistribution round after each of the first two waves
    assert {v.wave for v in victims} == {0, 1}
    assert min(p.lusd for p in plans) >= MIN_LUSD
    assert len({p.owner for p in plans}) == len(plans)


def test_no_troves_no_victims_and_a_negative_size_is_refused() -> None:
    assert generate_liquity1_population(7, 0) == []
    with pytest.raises(ConfigError, match="Liquity v1 troves must be >= 0"):
        generate_liquity1_population(7, -1)

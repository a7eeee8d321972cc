"""Maker's integer rules (scanner/protocols/maker/rule.py) on hand-checked values; the same
rules are judged against the devnet's Jug, Spotter and Dog in test_maker_truth."""

from __future__ import annotations

import pytest

from scanner.errors import InconsistentDataError
from scanner.protocols.maker.rule import (
    RAY,
    WAD,
    DogIlk,
    MakerRevertError,
    bark_outcome,
    drip_rate,
    rpow,
    spot_ray,
    unsafe,
)

RAD = 10**45


def test_rpow_is_exponentiation_rounding_half_up_at_each_product() -> None:
    assert rpow(0, 0, RAY) == RAY and rpow(0, 5, RAY) == 0
    assert rpow(2 * RAY, 10, RAY) == 1024 * RAY
    assert rpow(RAY, 10**9, RAY) == RAY
    # base 10: 1.5**2 = 2.25 -> 2.3 (half up), then 2.3 * 1.5**... step by step
    assert rpow(15, 2, 10) == 23
    assert rpow(15, 3, 10) == (15 * 23 + 5) // 10  # z = x, then z*x2 rounded: 34.5 -> 35
    with pytest.raises(MakerRevertError):
        rpow(2**200, 2, RAY)


def test_drip_accrues_from_rho_and_refuses_the_past() -> None:
    duty = RAY + 10**18  # ~3.2%/year per second
    assert drip_rate(RAY, 0, duty, 100, 100) == RAY
    one_day = drip_rate(RAY, 0, duty, 0, 86_400)
    assert one_day == rpow(duty, 86_400, RAY) * RAY // RAY > RAY
    stale = drip_rate(RAY * 11 // 10, 0, duty, 0, 86_400)
    assert stale == rpow(duty, 86_400, RAY) * (RAY * 11 // 10) // RAY
    with pytest.raises(InconsistentDataError, match="after timestamp"):
        drip_rate(RAY, 0, duty, 200, 100)


def test_spot_is_two_floored_rdivs_and_zero_without_a_value() -> None:
    mat = 145 * RAY // 100
    assert spot_ray(3_000 * WAD, True, RAY, mat) == 3_000 * WAD * 10**9 * RAY // RAY * RAY // mat
    assert spot_ray(3_000 * WAD, False, RAY, mat) == 0
    assert not unsafe(10 * WAD, 10**30 * WAD, 0, RAY)  # no price: bark refuses


def test_unsafe_is_strict() -> None:
    spot = 2 * RAY
    assert not unsafe(WAD, 2 * WAD, spot, RAY)  # ink*spot == art*rate: safe
    assert unsafe(WAD, 2 * WAD + 1, spot, RAY)


def _dog(hole_dai: int, dirt_dai: int = 0) -> DogIlk:
    return DogIlk(113 * 10**16, hole_dai * RAD, dirt_dai * RAD, 10**9 * RAD, 0)


def test_bark_takes_the_whole_urn_or_the_room_under_hole() -> None:
    whole = bark_outcome(10 * WAD, 1_000 * WAD, RAY, 100 * RAD, _dog(10**6))
    assert whole is not None and (whole.dink_wad, whole.dart_wad) == (10 * WAD, 1_000 * WAD)
    assert whole.tab_rad == 1_000 * WAD * RAY * 113 // 100
    part = bark_outcome(10 * WAD, 1_000 * WAD, RAY, 100 * RAD, _dog(565))
    assert part is not None and part.dart_wad == 500 * WAD and part.dink_wad == 5 * WAD
    # the rest would be dust: the whole urn goes
    dusty = bark_outcome(10 * WAD, 1_000 * WAD, RAY, 600 * RAD, _dog(565))
    assert dusty is not None and dusty.dart_wad == 1_000 * WAD
    assert bark_outcome(10 * WAD, 1_000 * WAD, RAY, 0, _dog(100, 100)) is None  # limit hit

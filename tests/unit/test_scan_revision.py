"""A pool revision newer than any reviewed is refused before any account is read."""

from __future__ import annotations

import pytest

from scanner.config import MarketConfig
from scanner.domain import AaveMarketState
from scanner.pipeline.aave_math import NEWEST_REVIEWED_REVISION, UnreviewedRevisionError
from scanner.pipeline.scan import _require_reviewed_revision

PROVIDER = "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"


def _market(allow: bool) -> MarketConfig:
    return MarketConfig("aave-x", "ethereum", "aave-v3", PROVIDER, 1, allow)


def _state(revision: int, allow: bool) -> AaveMarketState:
    return AaveMarketState("aave-x", revision, 10**8, 1, 1, {}, {}, allow)


def test_unreviewed_revision_is_refused_naming_market_and_revision() -> None:
    newer = NEWEST_REVIEWED_REVISION + 1
    with pytest.raises(UnreviewedRevisionError) as raised:
        _require_reviewed_revision(_market(False), _state(newer, False))
    assert raised.value.exit_code == 78
    assert raised.value.message.startswith(f"market aave-x: pool revision {newer} is newer")


def test_opt_in_lets_the_scan_go_on() -> None:
    newer = NEWEST_REVIEWED_REVISION + 1
    _require_reviewed_revision(_market(True), _state(newer, True))

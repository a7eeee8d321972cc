"""A pool revision newer than any reviewed is refused before any account is read."""

from __future__ import annotations

import pytest

from scanner.config import MarketConfig
from scanner.errors import ConfigError
from scanner.pipeline.scan import _market_failed
from scanner.protocols.aave_v3.generic_logic import (
    NEWEST_REVIEWED_REVISION,
    UnreviewedRevisionError,
)
from scanner.protocols.aave_v3.read import require_reviewed_revision
from scanner.protocols.aave_v3.state import AaveMarketState

PROVIDER = "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"


def _state(revision: int, allow: bool) -> AaveMarketState:
    return AaveMarketState("aave-x", revision, 10**8, 1, 1, {}, {},
                           allow_unreviewed_revision=allow)


def test_unreviewed_revision_is_refused_naming_market_and_revision() -> None:
    newer = NEWEST_REVIEWED_REVISION + 1
    with pytest.raises(UnreviewedRevisionError) as raised:
        require_reviewed_revision(_state(newer, False))
    market = MarketConfig("aave-x", "ethereum", "aave-v3", 1,
                          addresses={"pool_addresses_provider": PROVIDER})
    named = _market_failed(market, raised.value)
    assert isinstance(named, UnreviewedRevisionError) and isinstance(named, ConfigError)
    assert named.exit_code == 78
    assert named.message.startswith(f"market aave-x: pool revision {newer} is newer")


def test_opt_in_lets_the_scan_go_on() -> None:
    newer = NEWEST_REVIEWED_REVISION + 1
    require_reviewed_revision(_state(newer, True))

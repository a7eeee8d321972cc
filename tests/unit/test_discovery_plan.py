"""The discovery plan (pure): which blocks a scan searches, and what it may store after."""

from __future__ import annotations

import pytest

from scanner.config import MarketConfig
from scanner.domain import MarketIdentity
from scanner.errors import ConfigError
from scanner.pipeline.discovery import DiscoveryPlan, plan_search, rewound_plan

PROVIDER = "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"
OTHER = "0x02C3eA4e34C0cBd694D2adFa2c690EEbbC1BF86d"
LOOKBACK = 64


def market(start_block: int = 1_000, provider: str = PROVIDER, protocol: str = "aave-v3"
           ) -> MarketConfig:
    return MarketConfig(key="m", chain="c", protocol=protocol, start_block=start_block,
                        addresses={"pool_addresses_provider": provider})


def identity(searched_from: int = 1_000, provider: str = PROVIDER, chain_id: int = 1,
             protocol: str = "aave-v3") -> MarketIdentity:
    return MarketIdentity(chain_id, protocol, provider, searched_from)


def plan(m: MarketConfig, block: int, cursor: int | None, stored: MarketIdentity | None,
         head: int = 100_000) -> DiscoveryPlan:
    return plan_search(m, 1, "markets[0]", head, block, cursor, stored, LOOKBACK)


def test_first_scan_searches_from_start_and_records_identity() -> None:
    assert plan(market(), 5_000, None, None) == DiscoveryPlan(1_000, 5_000, identity())


def test_later_scan_continues_from_the_cursor_with_lookback() -> None:
    assert plan(market(), 9_000, 5_000, identity()) == DiscoveryPlan(
        5_000 + 1 - LOOKBACK, 9_000, None)


def test_older_block_inside_the_searched_range_searches_nothing_moves_nothing() -> None:
    assert plan(market(), 3_000, 5_000, identity()) == DiscoveryPlan(None, None, None)


def test_raised_start_block_is_covered_by_the_searched_range() -> None:
    assert plan(market(start_block=2_000), 9_000, 5_000, identity()) == DiscoveryPlan(
        5_000 + 1 - LOOKBACK, 9_000, None)


def test_lowered_start_block_searches_again_from_it() -> None:
    result = plan(market(start_block=500), 9_000, 5_000, identity(searched_from=4_990))
    assert (result.from_block, result.cursor_after) == (500, 9_000)
    assert result.identity_after == identity(searched_from=500)
    assert result.rediscover_reason is not None and "start_block is now 500" in (
        result.rediscover_reason)


def test_lowered_start_at_an_older_block_keeps_the_cursor() -> None:
    # [500, 4_000] joins the old [3_000, 5_000]: the range becomes [500, 5_000]
    joined = plan(market(start_block=500), 4_000, 5_000, identity(searched_from=3_000))
    assert joined == DiscoveryPlan(500, None, identity(searched_from=500), joined.rediscover_reason)
    # [500, 2_000] does not join [3_000, 5_000]: the stored identity stays as it was
    apart = plan(market(start_block=500), 2_000, 5_000, identity(searched_from=3_000))
    assert (apart.from_block, apart.cursor_after, apart.identity_after) == (500, None, None)


def test_database_without_identity_searches_again() -> None:
    result = plan(market(), 9_000, 8_990, None)
    assert (result.from_block, result.cursor_after, result.identity_after) == (
        1_000, 9_000, identity())
    assert result.rediscover_reason is not None


@pytest.mark.parametrize(("stored", "what"), [
    (identity(provider=OTHER), "pool_addresses_provider"),
    (identity(chain_id=10), "chain id"),
    (identity(protocol="spark"), "protocol"),
])
def test_another_market_under_the_same_key_is_refused(stored: MarketIdentity, what: str) -> None:
    with pytest.raises(ConfigError, match=rf"markets\[0\] \('m'\): {what} is .* give this market"):
        plan(market(), 9_000, 5_000, stored)


def test_address_case_is_not_a_change() -> None:
    assert plan(market(), 9_000, 5_000, identity(provider=PROVIDER.lower())).from_block == (
        5_000 + 1 - LOOKBACK)


def test_start_block_beyond_head_or_after_the_block_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"start_block 200000 is beyond the chain head 100000"):
        plan(market(start_block=200_000), 90_000, None, None)
    with pytest.raises(ConfigError, match=r"start_block 95000 is after block 90000"):
        plan(market(start_block=95_000), 90_000, None, None)


# --- after a reorg below the cursor (reorg.py finds the fork point) -------------------------


def test_a_reorg_below_the_cursor_searches_from_the_fork_and_moves_the_cursor_back() -> None:
    before = plan(market(), 9_000, 8_000, identity())
    after = rewound_plan(before, 6_001, 9_000)
    assert after == DiscoveryPlan(6_001, 9_000, None, rewind=True)


def test_a_reorg_seen_from_an_older_block_moves_the_cursor_back_to_it() -> None:
    # the cursor (8_000) is on the abandoned branch; [start, 3_000] was searched before the fork
    before = plan(market(), 3_000, 8_000, identity())
    assert before == DiscoveryPlan(None, None, None)
    after = rewound_plan(before, 2_001, 3_000)
    assert (after.from_block, after.cursor_after, after.rewind) == (2_001, 3_000, True)
    assert rewound_plan(before, 6_001, 3_000) == DiscoveryPlan(None, 3_000, None, rewind=True)

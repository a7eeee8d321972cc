"""The full snapshot's hot path (issue 11, round 8): what was made cheaper returns exactly what
it returned before -- the Aave account calls and answers built and sliced by hand, a market
read in one piece handed to the level worker -- and a snapshot's outcome has a short repr
(asyncio.run formats the main task's result, twice, when it returns)."""

from __future__ import annotations

import asyncio

import pytest
from eth_abi.abi import encode
from hypothesis import given
from hypothesis import strategies as st

from scanner.chain.abi import AbiError, decode_output, encode_call
from scanner.chain.multicall import CallResult
from scanner.config import ChainConfig, MarketConfig
from scanner.domain import ScanRecord, SnapshotRecord
from scanner.errors import InconsistentDataError
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.discovery import DiscoveryPlan
from scanner.pipeline.scan import (
    Discovery,
    MarketOutcome,
    SnapshotOutcome,
    _hand_over_whole,
    liquidation_results,
)
from scanner.pipeline.stream import LevelStream
from scanner.protocols.aave_v3 import read as aave_read
from scanner.protocols.aave_v3.state import AaveMarketState, AaveReserve
from tests.unit.test_level_stream import AXES, _read

ACCOUNTS = ["0x00000000000000000000000000000000000000Aa",
            "0xcA11bde05977b3631167028862bE2a173976CA11",
            "0x" + "ff" * 20, "0x" + "00" * 20]


@pytest.mark.parametrize("account", ACCOUNTS)
@pytest.mark.parametrize("name", ["getUserAccountData", "getUserConfiguration",
                                  "getUserEMode", "balanceOf"])
def test_account_calls_are_the_codecs(account: str, name: str) -> None:
    abi = aave_read.ERC20 if name == "balanceOf" else aave_read.POOL
    assert aave_read._account_call(name, account) == encode_call(abi, name, [account])


@pytest.mark.parametrize("odd", ["0xCA11bde05977b3631167028862bE2a173976CA11", "0x1234",
                                 "0x" + "zz" * 20, "ca11bde05977b3631167028862be2a173976ca11aa"])
def test_odd_addresses_go_to_the_codec(odd: str) -> None:
    """Encoded as the codec encodes them, or refused as it refuses them."""
    try:
        expected = encode_call(aave_read.ERC20, "balanceOf", [odd])
    except AbiError:
        with pytest.raises(AbiError):
            aave_read._account_call("balanceOf", odd)
        return
    assert aave_read._account_call("balanceOf", odd) == expected


def test_word_answers_are_the_codecs() -> None:
    values = (0, 1, 2**256 - 1, 10**27, 12345, 2**255)
    exact = encode(["uint256"] * 6, list(values))
    assert aave_read._uint_words(aave_read.POOL, "getUserAccountData", 6, exact) == values
    assert decode_output(aave_read.POOL, "getUserAccountData", exact) == values
    longer = exact + bytes(32)  # not the usual length: the codec decides, as before
    assert (aave_read._uint_words(aave_read.POOL, "getUserAccountData", 6, longer)
            == decode_output(aave_read.POOL, "getUserAccountData", longer))
    with pytest.raises(InconsistentDataError):  # short: refused, as before
        aave_read._uint_words(aave_read.POOL, "getUserAccountData", 6, exact[:-1])
    word = (2**200 + 7).to_bytes(32, "big")
    assert aave_read._balance(CallResult(True, word)) == 2**200 + 7
    with pytest.raises(InconsistentDataError):  # a reverted balanceOf is never a zero
        aave_read._balance(CallResult(False, word))
    with pytest.raises(InconsistentDataError):
        aave_read._balance(CallResult(True, b""))


def test_a_read_handed_over_whole_gives_the_same_levels() -> None:
    read = _read(40, mismatches=["0x" + f"{3:040x}"])
    axes = resolve_axes(AXES, read.assets)
    with LevelStream(AXES) as stream:
        _hand_over_whole(read, stream.sink(read.market_key))
        ready = stream.precomputed(read.market_key, len(read.positions))
        assert set(ready) == {axis.name for axis in axes}
        assert liquidation_results(read, axes, None, ready) == liquidation_results(read, axes)
    _hand_over_whole(read, None)  # no stream: nothing to do


def _outcome(positions: int) -> SnapshotOutcome:
    read = _read(positions)
    axes = tuple(resolve_axes(AXES, read.assets))
    results = tuple(liquidation_results(read, axes))
    record = ScanRecord("devnet", 31337, "m", "aave-v3", 1, 1, 1)
    discovery = Discovery((), {}, DiscoveryPlan(None, None, None))
    market = MarketOutcome(record, read, discovery, results, axes)
    return SnapshotOutcome(7, SnapshotRecord("devnet", 31337, 1, 1, (record,)), (market,),
                           axes, results, (), ())


def test_an_outcome_repr_is_a_summary_whatever_its_size() -> None:
    small, large = repr(_outcome(2)), repr(_outcome(400))
    assert "results=800" in large and "snapshot_id=7" in large and "'m'" in large
    assert len(large) - len(small) < 10 and len(large) < 300  # not one line per position


class _CountingAave(aave_read.AaveV3Adapter):
    """The adapter with its market read replaced by a counter (the read itself is the
    integration tests'): what prefetch_market / _market_state do with it."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__(None, MarketConfig("m", "c", "aave-v3", 0),  # type: ignore[arg-type]
                         ChainConfig("c", "http://127.0.0.1:1", 1))
        self.reads: list[int] = []
        self.fail = fail

    async def read_market(self, addresses: aave_read.AaveAddresses, block: int
                          ) -> AaveMarketState:
        self.reads.append(block)
        await asyncio.sleep(0)
        if self.fail:
            raise InconsistentDataError("the state read failed")
        return AaveMarketState("m", 1, 10**8, block, 1, {}, {})


ADDRESSES = aave_read.AaveAddresses(ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[2])


def test_a_prefetched_state_is_taken_once_at_its_block_only() -> None:
    async def scan() -> None:
        adapter = _CountingAave()
        adapter.prefetch_market(ADDRESSES, 5)
        assert (await adapter._market_state(ADDRESSES, 5)).block == 5
        assert (await adapter._market_state(ADDRESSES, 5)).block == 5  # read again
        adapter.prefetch_market(ADDRESSES, 6)
        assert (await adapter._market_state(ADDRESSES, 7)).block == 7  # not the one ahead
        adapter.drop_prefetch()
        assert adapter.reads == [5, 5, 7]  # the one ahead at 6 was cancelled before it ran

    asyncio.run(scan())


def test_a_failed_prefetch_raises_where_the_read_was() -> None:
    async def taken() -> None:
        adapter = _CountingAave(fail=True)
        adapter.prefetch_market(ADDRESSES, 5)
        await asyncio.sleep(0.01)  # it failed before anything asked for it
        with pytest.raises(InconsistentDataError, match="the state read failed"):
            await adapter._market_state(ADDRESSES, 5)

    asyncio.run(taken())


def test_a_dropped_prefetch_is_cancelled() -> None:
    async def dropped() -> list[int]:
        adapter = _CountingAave()
        adapter.prefetch_market(ADDRESSES, 5)
        adapter.drop_prefetch()  # the scan failed elsewhere before it ran
        await asyncio.sleep(0.01)
        return adapter.reads

    assert asyncio.run(dropped()) == []


def _plan(reserve_ids: list[int]) -> aave_read._BalancePlan:
    entries = []
    for reserve_id in reserve_ids:
        asset = f"0x{reserve_id + 1:040x}"
        reserve = AaveReserve(asset, f"T{reserve_id}", reserve_id, 18, 8000, 8250, 10500, 0, 1)
        debt = (f"0x{reserve_id + 0x100:040x}",)
        entries.append((reserve, 2 * reserve_id, ((), debt, (asset,), (asset, *debt))))
    return aave_read._BalancePlan(entries, {e[1]: e for e in entries})


@given(st.integers(min_value=0, max_value=2**80 - 1), st.lists(
    st.integers(min_value=0, max_value=39), unique=True, max_size=12))
def test_balances_planned_from_set_bits_are_the_walk_over_every_reserve(
        bitmap: int, reserve_ids: list[int]) -> None:
    """The set bit pairs of a configuration give the reserves the walk over every reserve
    gives, in the same (reserve id) order; pairs of reserves not in the plan are skipped."""
    plan = _plan(sorted(reserve_ids))
    walk = aave_read._used_reserves(plan._replace(by_shift=None), bitmap)
    assert aave_read._used_reserves(plan, bitmap) == walk
    assert [r.reserve_id for r, _bits, _tokens in walk] == sorted(
        i for i in reserve_ids if bitmap >> 2 * i & 3)

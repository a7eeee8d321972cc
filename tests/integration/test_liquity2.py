"""The Liquity v2 adapter against the devnet's own BOLD contracts (DevnetBold*.sol, see their
headers): the shared adapter contract, every trove shape (individual rate, batched, with and
without pending redistributions, on a shut-down branch), and the stale recordedDebt trap."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scanner.config import MarketConfig
from scanner.devnet.liquity2 import SP_DEPOSITS_BOLD
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc
from scanner.errors import InconsistentDataError
from scanner.protocols.liquity_v2.curve import Liquity2Position
from scanner.protocols.liquity_v2.rule import calc_interest, liquidatable
from tests.integration.adapter_contract import AdapterContract, AdapterEnv, read_all, run
from tests.integration.liquity2_helpers import liquity2_env, liquity2_of, move_feeds

pytestmark = pytest.mark.integration
DAY = 86_400


@pytest.fixture
def adapter_env(devnet: Devnet) -> AdapterEnv:
    return liquity2_env(devnet)


@pytest.fixture
def move_prices(devnet: Devnet, devnet_snapshot: DevnetRpc) -> Callable[[], int]:
    return lambda: move_feeds(devnet_snapshot, liquity2_of(devnet), factor_bps=9_000)


def _read(env: AdapterEnv) -> list[Liquity2Position]:
    read = run(env, lambda a: read_all(a, sorted(env.borrowers), env.head_block))
    assert read.mirror_mismatches == ()  # the rule reproduces getLatestTroveData exactly
    states = [p.state for p in read.positions]
    assert all(isinstance(s, Liquity2Position) for s in states)
    return [s for s in states if isinstance(s, Liquity2Position)]


class TestLiquity2Adapter(AdapterContract):
    def test_at_least_200_troves_of_every_shape(self, adapter_env: AdapterEnv,
                                                devnet: Devnet) -> None:
        net = liquity2_of(devnet)
        positions = _read(adapter_env)
        assert {(s.branch.symbol, hex(s.trove.trove_id)) for s in positions} == set(
            net.borrowers)
        live = [s for s in positions if not s.shut_down]
        assert len(live) >= 200
        assert {s.branch.symbol for s in live} == {"WETH", "wstETH"}
        batched = [s for s in live if s.trove.batch_manager is not None]
        assert batched and len(batched) < len(live)
        assert all(s.debt.accrued_management_fee > 0 for s in batched)
        assert all(s.trove.debt == 0 for s in batched)  # a batched trove's debt is its shares'
        with_gain = [s for s in live if s.trove.redist_debt_gain > 0]
        assert with_gain and len(with_gain) < len(live)
        assert all(s.trove.redist_coll_gain > 0 for s in with_gain)
        owners = {p.owner for p in devnet.liquity2_plans}
        assert {s.owner for s in positions} <= owners

    def test_branch_ratios_and_prices_come_from_the_chain(self, adapter_env: AdapterEnv
                                                          ) -> None:
        branches = {s.branch.symbol: s.branch for s in _read(adapter_env)}
        assert (branches["WETH"].mcr, branches["WETH"].ccr, branches["WETH"].scr) == (
            110 * 10**16, 150 * 10**16, 110 * 10**16)
        assert (branches["wstETH"].mcr, branches["wstETH"].scr) == (120 * 10**16, 120 * 10**16)
        # the devnet feeds' fetchPrice answers lastGoodPrice (no oracle behind them)
        assert all(b.price == b.last_good_price > 0 for b in branches.values())
        assert not any(b.oracle_failure for b in branches.values())


def test_recorded_debt_is_stale_and_the_rule_accrues_it(devnet: Devnet) -> None:
    """30+ days since any individual trove's debt was recorded: its stored debt says it is
    safe, the debt accrued to the block (what liquidate uses) says it is not, for some."""
    live = [s for s in _read(liquity2_env(devnet)) if not s.shut_down]
    individual = [s for s in live if s.trove.batch_manager is None]
    assert all(s.branch.timestamp - s.trove.last_debt_update_time >= 30 * DAY
               for s in individual)
    for s in individual:
        period = s.branch.timestamp - s.trove.last_debt_update_time
        assert s.debt.accrued_interest == calc_interest(
            s.trove.debt * s.trove.annual_interest_rate, period) > 0
    trapped = [s for s in live
               if not liquidatable(s.debt.entire_coll,
                                   s.debt.recorded_debt + s.trove.redist_debt_gain,
                                   s.branch.price, s.branch.mcr)
               and liquidatable(s.debt.entire_coll, s.debt.entire_debt, s.branch.price,
                                s.branch.mcr)]
    assert trapped


def test_a_shut_down_branch_is_reported_as_such(devnet: Devnet) -> None:
    """rETH's oracle failed: the branch is shut down, its interest stopped at shutdownTime,
    and its feed is frozen at lastGoodPrice (the label says so; the curve does not move)."""
    shut = [s for s in _read(liquity2_env(devnet)) if s.shut_down]
    assert shut and {s.branch.symbol for s in shut} == {"rETH"}
    branch = shut[0].branch
    assert branch.price_frozen and branch.submarket == "2:rETH:shutdown"
    assert branch.timestamp - branch.shutdown_time >= 30 * DAY
    for s in shut:
        if s.trove.batch_manager is None:
            period = branch.shutdown_time - s.trove.last_debt_update_time
            assert s.debt.accrued_interest == calc_interest(
                s.trove.debt * s.trove.annual_interest_rate, period)


def test_a_registry_that_is_not_one_fails_as_not_the_protocol(devnet: Devnet) -> None:
    env = liquity2_env(devnet)
    tm = liquity2_of(devnet).branch("WETH").trove_manager
    wrong = MarketConfig(key=env.market.key, chain="devnet", protocol="liquity-v2",
                         start_block=env.market.start_block,
                         addresses={"collateral_registry": tm})
    with pytest.raises(InconsistentDataError, match="totalCollaterals"):
        run(env, lambda a: a.resolve(env.head_block), market=wrong)


def test_each_branch_reads_its_stability_pool_deposits(devnet: Devnet) -> None:
    """`TroveManager.stabilityPool()` leads to the pool; its `getTotalBoldDeposits()` is what
    the branch's liquidations offset (the devnet's seeded deposits)."""
    net = liquity2_of(devnet)
    branches = {s.branch.symbol: s.branch for s in _read(liquity2_env(devnet))}
    for symbol, branch in branches.items():
        assert branch.addresses.stability_pool == net.branch(symbol).stability_pool
        assert branch.bold_in_sp == SP_DEPOSITS_BOLD[symbol] * 10**18


def test_a_stability_pool_that_fails_its_read_fails_the_read(devnet: Devnet,
                                                             devnet_snapshot: DevnetRpc) -> None:
    """A pool whose getTotalBoldDeposits reverts is not taken as empty: the read raises."""
    env = liquity2_env(devnet)
    pool = liquity2_of(devnet).branch("WETH").stability_pool
    devnet_snapshot.call("anvil_setCode", [pool, "0xfe"])  # INVALID: every call reverts
    devnet_snapshot.mine()
    block = devnet_snapshot.block_number()
    with pytest.raises(InconsistentDataError, match=f"(?i)to {pool} reverted at block {block}"):
        run(env, lambda a: read_all(a, sorted(env.borrowers), block))

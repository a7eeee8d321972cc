"""The Compound rule (scanner/protocols/compound_v3/rule.py) judged by the Comet itself.

Both devnet Comets, every seeded account, after 31 days nobody touched them (stale stored
indices): the rule accrued to the block's timestamp gives `borrowBalanceOf`; the rule on the
STORED totals gives the `isLiquidatable` view; the rule accrued gives what `absorb` (which
accrues first) does -- a real absorb in eth_call succeeds exactly for the accounts the rule
calls liquidatable and reverts NotLiquidatable for the others; after one `accrueAccount`
transaction the stored indices equal the rule's accrual and `isLiquidatable` agrees again.
A real absorb of every liquidatable account moves exactly what the rule's absorb outcome says.
Then, per borrower, the rule's boundary for one collateral's price: absorb succeeds at the
last liquidatable oracle answer and reverts one oracle unit above it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from eth_abi.abi import decode
from eth_utils.crypto import keccak

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.compound import CometMarket
from scanner.devnet.compound_population import CometPositionPlan
from scanner.devnet.compound_spec import feed_price_8dec
from scanner.devnet.network import Devnet
from scanner.devnet.prices import ANSWER_SLOT, set_prices
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.protocols.compound_v3.rule import (
    CometAccount,
    CometPrices,
    absorb_outcome,
    accrue,
    is_liquidatable,
    present_debt_raw,
)
from tests.integration.compound_reads import (
    NOT_LIQUIDATABLE,
    CometState,
    absorb_outcomes,
    block_timestamp,
    read_accounts,
    read_comet,
    views,
)

pytestmark = pytest.mark.integration

STALE_SECONDS = 31 * 86_400
ABSORBER = "0x00000000000000000000000000000000000Ab50b"
# a drop that pushes the near-liquidation borrowers over the line, on every ETH/BTC asset
STRESS_BPS = {"WETH": 9_400, "wstETH": 9_300, "WBTC": 9_500}
COMETS = ("usdc", "weth")


@pytest.fixture
def stale(devnet: Devnet, devnet_snapshot: DevnetRpc) -> Iterator[DevnetRpc]:
    """The seeded devnet 31 days later, nobody having touched a Comet since."""
    devnet_snapshot.call("evm_increaseTime", [STALE_SECONDS])
    devnet_snapshot.mine()
    yield devnet_snapshot


def _plans(devnet: Devnet, key: str) -> list[CometPositionPlan]:
    plans = [p for p in devnet.compound_plans if p.comet == key]
    assert len(plans) >= 200
    return plans


def _stress(rpc: DevnetRpc, aave: AaveDeployment) -> int:
    today = {s: _answer(rpc, aave, s) for s in STRESS_BPS}
    return set_prices(rpc, aave, {s: today[s] * bps // 10_000 for s, bps in STRESS_BPS.items()})


def _answer(rpc: DevnetRpc, aave: AaveDeployment, symbol: str) -> int:
    raw = rpc.eth_call(aave.aggregators[symbol], calldata("latestAnswer()"))
    (value,) = decode(["int256"], raw)
    return int(value)


@pytest.mark.parametrize("key", COMETS)
def test_rule_matches_views_and_absorb_after_a_stale_month(devnet: Devnet, stale: DevnetRpc,
                                                           key: str) -> None:
    assert devnet.compound is not None
    market = devnet.compound.comet(key)
    accounts = [p.account for p in _plans(devnet, key)]
    block = _stress(stale, devnet.aave)
    state = read_comet(stale, market.comet, block)
    assert state.timestamp - state.totals.last_accrual_time >= STALE_SECONDS
    accrued = accrue(state.totals, state.rates, state.timestamp)
    assert accrued.base_borrow_index > state.totals.base_borrow_index
    users = read_accounts(stale, market.comet, state.assets, accounts, block)
    # 1. debt: borrowBalanceOf accrues in memory to the block's timestamp
    debts = views(stale, market.comet, "borrowBalanceOf(address)", accounts, block)
    assert debts == [present_debt_raw(u.principal, accrued) for u in users]
    # 2. the isLiquidatable view reads the stored (stale) indices
    stored_view = views(stale, market.comet, "isLiquidatable(address)", accounts, block)
    assert stored_view == [_liquidatable(u, state, stored=True) for u in users]
    # 3. absorb accrues first: it succeeds exactly where the accrued rule says liquidatable
    expected = [_liquidatable(u, state, stored=False) for u in users]
    outcomes = absorb_outcomes(stale, market.comet, ABSORBER, accounts, block)
    assert outcomes == ["ok" if e else NOT_LIQUIDATABLE for e in expected]
    assert 0 < sum(expected) < len(expected)  # both sides of the line are exercised
    assert expected != stored_view  # some accounts cross the line through the month's interest
    # 4. one accrueAccount moves the stored indices to the rule's accrual
    receipt = stale.send(Tx(ABSORBER, market.comet, calldata("accrueAccount(address)",
                                                             accounts[0])))
    after = int(receipt["blockNumber"], 16)
    state_after = read_comet(stale, market.comet, after)
    assert state_after.totals == accrue(state.totals, state.rates, state_after.timestamp)
    now_view = views(stale, market.comet, "isLiquidatable(address)", accounts, after)
    assert now_view == [_liquidatable(u, state_after, stored=True) for u in users]


ABSORB_COLLATERAL = "AbsorbCollateral(address,address,address,uint256,uint256)"
ABSORB_DEBT = "AbsorbDebt(address,address,uint256,uint256)"


@pytest.mark.parametrize("key", COMETS)
def test_real_absorb_does_what_the_rule_says(devnet: Devnet, stale: DevnetRpc, key: str) -> None:
    """One real absorb of every account the rule calls liquidatable: each event amount, each
    new principal and the market totals equal the rule's outcome, to the base unit."""
    assert devnet.compound is not None
    market = devnet.compound.comet(key)
    accounts = [p.account for p in _plans(devnet, key)]
    block = _stress(stale, devnet.aave)
    state = read_comet(stale, market.comet, block)
    users = dict(zip(accounts, read_accounts(stale, market.comet, state.assets, accounts, block),
                     strict=True))
    absorb_time = state.timestamp + 12
    accrued = accrue(state.totals, state.rates, absorb_time)
    outcomes = {}
    for account, user in users.items():
        if is_liquidatable(user, state.assets, state.prices, state.base_scale, accrued):
            outcomes[account] = absorb_outcome(user, state.assets, state.prices,
                                               state.base_scale, accrued)
    assert outcomes
    stale.call("evm_setNextBlockTimestamp", [absorb_time])
    receipt = stale.send(Tx(ABSORBER, market.comet, calldata(
        "absorb(address,address[])", ABSORBER, list(outcomes)), gas=30_000_000))
    seen_collateral, seen_debt = _absorb_events(receipt)
    expected_collateral = {(a.lower(), asset): (o.seized_raw[asset], o.seized_value_8dec[asset])
                           for a, o in outcomes.items() for asset in o.seized_raw}
    assert seen_collateral == expected_collateral
    assert seen_debt == {a.lower(): (o.base_paid_out_raw, o.base_paid_out_value_8dec)
                         for a, o in outcomes.items()}
    after = int(receipt["blockNumber"], 16)
    absorbed = read_accounts(stale, market.comet, state.assets, list(outcomes), after)
    assert [u.principal for u in absorbed] == [o.new_principal for o in outcomes.values()]
    assert all(u.assets_in == 0 and not any(u.collateral_raw.values()) for u in absorbed)
    totals_after = read_comet(stale, market.comet, after).totals
    repaid = sum(-users[a].principal for a in outcomes)
    assert totals_after.total_borrow_base == accrued.total_borrow_base - repaid
    assert totals_after.total_supply_base == accrued.total_supply_base + sum(
        o.new_principal for o in outcomes.values())


def _absorb_events(receipt: dict[str, Any]) -> tuple[dict[tuple[str, str], tuple[int, int]],
                                                     dict[str, tuple[int, int]]]:
    collateral: dict[tuple[str, str], tuple[int, int]] = {}
    debt: dict[str, tuple[int, int]] = {}
    for log in receipt["logs"]:
        topic, data = log["topics"][0], bytes.fromhex(log["data"][2:])
        borrower = "0x" + log["topics"][2][-40:]
        if topic == _topic(ABSORB_COLLATERAL):
            asset = "0x" + log["topics"][3][-40:]
            collateral[(borrower, asset)] = tuple(decode(["uint256", "uint256"], data))
        elif topic == _topic(ABSORB_DEBT):
            debt[borrower] = tuple(decode(["uint256", "uint256"], data))
    return collateral, debt


def _topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


def _liquidatable(user: CometAccount, state: CometState, stored: bool) -> bool:
    totals = state.totals if stored else accrue(state.totals, state.rates, state.timestamp)
    return is_liquidatable(user, state.assets, state.prices, state.base_scale, totals)


@pytest.mark.parametrize("key", COMETS)
def test_absorb_flips_at_the_rule_boundary(devnet: Devnet, stale: DevnetRpc, key: str) -> None:
    assert devnet.compound is not None
    market = devnet.compound.comet(key)
    borrowers = [p for p in _plans(devnet, key) if p.borrow_raw > 0]
    block = stale.block_number()
    state = read_comet(stale, market.comet, block)
    accrued = replace(state, totals=accrue(state.totals, state.rates, state.timestamp))
    users = read_accounts(stale, market.comet, state.assets, [p.account for p in borrowers], block)
    today = {s: _answer(stale, devnet.aave, s) for s in devnet.aave.aggregators}
    for plan, user in zip(borrowers, users, strict=True):
        symbol, answers = _boundary(accrued, market, user, plan, today)
        # the oracle moves in place at the head block, so its timestamp (and accrual) stays
        _write_answers(stale, devnet.aave, answers)
        assert absorb_outcomes(stale, market.comet, ABSORBER, [plan.account], block) == ["ok"]
        outcome = absorb_outcome(user, accrued.assets, _prices(accrued, market, answers),
                                 accrued.base_scale, accrued.totals)
        assert set(outcome.seized_raw) == {market.collateral_tokens[s].lower()
                                           for s, amount in plan.collateral if amount > 0}
        _write_answers(stale, devnet.aave, dict(answers, **{symbol: answers[symbol] + 1}))
        assert absorb_outcomes(stale, market.comet, ABSORBER, [plan.account],
                               block) == [NOT_LIQUIDATABLE], plan
        _write_answers(stale, devnet.aave, today)
    assert block_timestamp(stale, block) == state.timestamp


def _prices(state: CometState, market: CometMarket, answers: dict[str, int]) -> CometPrices:
    """The Comet's getPrice for every collateral, with the Aave aggregators at `answers`."""
    collateral = {market.collateral_tokens[s].lower(): feed_price_8dec(answers, s, market.quote)
                  for s in market.collateral_tokens}
    return replace(state.prices, collateral_8dec=collateral)


def _boundary(state: CometState, market: CometMarket, user: CometAccount,
              plan: CometPositionPlan, today: dict[str, int]) -> tuple[str, dict[str, int]]:
    """Aggregator answers at which the accrued rule says liquidatable, and one unit more of the
    returned symbol's answer says not. The symbol is the plan's largest collateral by value;
    when it alone cannot liquidate, the other collaterals are halved until it can."""
    held = [s for s, amount in plan.collateral if amount > 0]
    values = _prices(state, market, today).collateral_8dec
    symbol = max(held, key=lambda s: dict(plan.collateral)[s] * values[
        market.collateral_tokens[s].lower()] // 10 ** _decimals(state, market, s))
    answers = dict(today)

    def liquidatable(answer: int) -> bool:
        prices = _prices(state, market, dict(answers, **{symbol: answer}))
        return is_liquidatable(user, state.assets, prices, state.base_scale, state.totals)

    # the smallest answer whose feed price is positive (Comet reverts BadPrice on 0)
    lowest = 1 if market.quote == "USD" else today[market.quote] // 10**8 + 1
    for _ in range(64):  # halving: a few rounds at most for the seeded shapes
        if liquidatable(lowest):
            break
        for other in held:
            if other != symbol:
                answers[other] = max(answers[other] // 2, lowest)
    low, high = lowest, today[symbol] * 8
    assert liquidatable(low) and not liquidatable(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if liquidatable(middle) else (low, middle)
    return symbol, dict(answers, **{symbol: low})


def _decimals(state: CometState, market: CometMarket, symbol: str) -> int:
    token = market.collateral_tokens[symbol].lower()
    scale = next(a.scale for a in state.assets if a.asset == token)
    return len(str(scale)) - 1


def _write_answers(rpc: DevnetRpc, aave: AaveDeployment, answers: dict[str, int]) -> None:
    rpc.batch([("anvil_setStorageAt", [aave.aggregators[s], ANSWER_SLOT,
                                       "0x" + a.to_bytes(32, "big").hex()])
               for s, a in answers.items()])

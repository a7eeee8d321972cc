"""Liquity v1's rule (scanner/protocols/liquity_v1/rule.py, curve.py) against hand-worked
cases of the deployed TroveManager's arithmetic, and the committed ABIs against the real
signatures (liquity/dev packages/lib-ethers/abi, the deployed contracts' interfaces)."""

from __future__ import annotations

import pytest

from scanner.chain.abi import load_abi
from scanner.domain import Axis
from scanner.pipeline.liquidation import find_boundary
from scanner.protocols.liquity_v1.curve import ETH_ADDRESS, LiquityCurve, LiquityPosition
from scanner.protocols.liquity_v1.rule import (
    CCR,
    MAX_CR,
    MCR,
    LiquidationMode,
    compute_cr,
    liquidation_mode,
    pending_reward,
    seized_coll_wei,
)
from scanner.protocols.liquity_v1.state import LiquitySystem, LiquityTrove

WAD = 10**18
PRICE = 2_000 * WAD
AXIS = Axis("ETH", frozenset({ETH_ADDRESS}), ETH_ADDRESS, 2_000 * 10**8)


def _system(coll_eth: int = 1_000, debt_lusd: int = 1_000_000, sp_lusd: int = 50_000,
            troves: int = 10) -> LiquitySystem:
    # TCR at $2,000: 1,000 ETH * 2,000 / 1,000,000 = 200%
    return LiquitySystem("0x" + "11" * 20, PRICE, coll_eth * WAD, debt_lusd * WAD,
                         sp_lusd * WAD, troves, 0, 0)


def _curve(coll_eth: int, debt_lusd: int, system: LiquitySystem) -> LiquityCurve:
    return LiquityCurve(debt_lusd * WAD, coll_eth * WAD, system, True)


def test_pending_reward_is_stake_times_the_rise_floored() -> None:
    assert pending_reward(3 * WAD, 10 * WAD + 7, 10 * WAD, True) == 21
    assert pending_reward(3, WAD + 1, 1, True) == 3  # 3 * 1e18 / 1e18
    assert pending_reward(3, 5, 1, True) == 0  # 3 * 4 / 1e18 floors to 0
    assert pending_reward(3 * WAD, 10 * WAD, 10 * WAD, True) == 0
    assert pending_reward(3 * WAD, 12 * WAD, 10 * WAD, False) == 0  # only active troves


def test_entire_debt_and_coll_add_the_pending_rewards() -> None:
    system = LiquitySystem("0x" + "11" * 20, PRICE, 0, 0, 0, 2, 5 * 10**16, 7 * 10**17)
    trove = LiquityTrove("0x" + "22" * 20, 3_000 * WAD, 2 * WAD, 2 * WAD, 1, 10**16, 10**17,
                         0, 0)
    # stake 2 ETH: + 2 * 0.04 ETH, + 2 * 0.6 LUSD
    assert trove.entire(system) == (3_000 * WAD + 12 * 10**17, 2 * WAD + 8 * 10**16)


def test_compute_cr_floors_and_is_max_without_debt() -> None:
    assert compute_cr(1, 3, WAD) == WAD // 3
    assert compute_cr(5, 0, WAD) == MAX_CR


def _mode(coll_eth: int, debt_lusd: int, system: LiquitySystem, price: int
          ) -> LiquidationMode | None:
    return liquidation_mode(coll_eth * WAD, debt_lusd * WAD, system.system_coll_wei,
                            system.system_debt_wad, system.lusd_in_sp_wad, system.trove_count,
                            price)


def test_normal_mode_liquidates_below_mcr_only() -> None:
    system = _system()  # TCR 200% at $2,000
    assert _mode(11, 20_000, system, PRICE) is None  # ICR exactly 110%
    assert _mode(11, 20_001, system, PRICE) is LiquidationMode.NORMAL
    assert _mode(12, 20_000, system, PRICE) is None


def test_recovery_mode_conditions() -> None:
    system = _system()
    price = 1_400 * WAD  # TCR 140%: recovery mode
    assert compute_cr(system.system_coll_wei, system.system_debt_wad, price) < CCR
    assert _mode(10, 14_000, system, price) is LiquidationMode.RECOVERY  # ICR 100%
    assert _mode(10, 13_000, system, price) is LiquidationMode.RECOVERY  # 107.7%
    # 120% < TCR 140%, debt 11,666 <= 50,000 in the pool: capped offset
    assert _mode(10, 11_666, system, price) is LiquidationMode.RECOVERY_CAPPED
    # not covered by the pool
    assert _mode(100, 116_666, _system(sp_lusd=100_000), price) is None
    assert _mode(10, 11_666, _system(sp_lusd=0), price) is None
    # ICR 155% >= TCR 140%
    assert _mode(10, 9_000, system, price) is None
    # the last trove is never liquidated
    assert _mode(10, 14_000, _system(troves=1), price) is None


def test_seized_collateral_leaves_the_gas_compensation() -> None:
    assert seized_coll_wei(200 * WAD + 199, 1, PRICE, LiquidationMode.NORMAL) == (
        200 * WAD + 199 - (WAD + 0))
    # capped at 1.1 x debt: 11,000 LUSD at $1,000 -> 12.1 ETH, less 0.5%
    capped = 11_000 * WAD * MCR // (1_000 * WAD)
    assert seized_coll_wei(20 * WAD, 11_000 * WAD, 1_000 * WAD,
                           LiquidationMode.RECOVERY_CAPPED) == capped - capped // 200


def _boundary(curve: LiquityCurve) -> int:
    direction, native = find_boundary(curve)
    assert native is not None and direction is not None and direction.value == "down"
    assert curve.healthy(native) and not curve.healthy(native - 1)
    return native


def test_a_covered_trove_below_the_tcr_is_taken_where_recovery_mode_starts() -> None:
    system = _system()  # recovery mode below $1,500 (TCR = CCR)
    curve = _curve(10, 11_666, system)  # ICR 171% now, < TCR 200%; normal rule at ~$1,283
    assert _boundary(curve) == 1_500 * WAD
    assert curve.mode(1_500 * WAD - 1) is LiquidationMode.RECOVERY_CAPPED


def test_an_uncovered_or_strong_trove_follows_the_normal_rule() -> None:
    uncovered = _curve(100, 116_660, _system(sp_lusd=100_000))
    assert _boundary(uncovered) == -(-MCR * 116_660 * WAD // (100 * WAD))  # ceil
    strong = _curve(10, 9_000, _system())  # ICR 222% > TCR 200%
    assert _boundary(strong) == -(-MCR * 9_000 * WAD // (10 * WAD))


def test_health_factor_is_below_one_exactly_where_liquidate_acts() -> None:
    curves = [_curve(10, 11_666, _system()), _curve(10, 9_000, _system()),
              _curve(100, 116_660, _system(sp_lusd=100_000))]
    for curve in curves:
        for price in range(900 * WAD, 2_100 * WAD, 37 * WAD):
            assert (curve.value(price).health_factor_wad < WAD) == (not curve.healthy(price))


def test_ether_off_the_axis_is_not_sensitive() -> None:
    trove = LiquityTrove("0x" + "22" * 20, 11_666 * WAD, 10 * WAD, 10 * WAD, 1, 0, 0,
                         11_666 * WAD, 10 * WAD)
    other = Axis("BTC", frozenset({"0x" + "33" * 20}), "0x" + "33" * 20, 10**12)
    curve = LiquityPosition(trove, _system()).curve(other)
    assert find_boundary(curve) == (None, None)
    assert curve.axis_collateral_usd_8dec() == 0


# liquity/dev packages/lib-ethers/abi/*.json: name(inputs) -> outputs, state mutability
REAL = {
    "TroveManager": {
        "CCR() -> (uint256) view", "L_ETH() -> (uint256) view",
        "L_LUSDDebt() -> (uint256) view", "MCR() -> (uint256) view",
        "Troves(address) -> (uint256,uint256,uint256,uint8,uint128) view",
        "activePool() -> (address) view", "batchLiquidateTroves(address[]) -> () nonpayable",
        "checkRecoveryMode(uint256) -> (bool) view", "defaultPool() -> (address) view",
        "getCurrentICR(address,uint256) -> (uint256) view",
        "getEntireDebtAndColl(address) -> (uint256,uint256,uint256,uint256) view",
        "getEntireSystemColl() -> (uint256) view", "getEntireSystemDebt() -> (uint256) view",
        "getNominalICR(address) -> (uint256) view",
        "getPendingETHReward(address) -> (uint256) view",
        "getPendingLUSDDebtReward(address) -> (uint256) view",
        "getTCR(uint256) -> (uint256) view",
        "getTroveFromTroveOwnersArray(uint256) -> (address) view",
        "getTroveOwnersCount() -> (uint256) view", "liquidate(address) -> () nonpayable",
        "lusdToken() -> (address) view", "priceFeed() -> (address) view",
        "rewardSnapshots(address) -> (uint256,uint256) view",
        "sortedTroves() -> (address) view", "stabilityPool() -> (address) view",
        "totalStakes() -> (uint256) view"},
    "SortedTroves": {
        "contains(address) -> (bool) view", "getFirst() -> (address) view",
        "getLast() -> (address) view", "getNext(address) -> (address) view",
        "getPrev(address) -> (address) view", "getSize() -> (uint256) view"},
    "PriceFeed": {"fetchPrice() -> (uint256) nonpayable", "lastGoodPrice() -> (uint256) view"},
    "StabilityPool": {"getETH() -> (uint256) view", "getTotalLUSDDeposits() -> (uint256) view",
                      "provideToSP(uint256,address) -> () nonpayable"},
    "ActivePool": {"getETH() -> (uint256) view", "getLUSDDebt() -> (uint256) view"},
    "DefaultPool": {"getETH() -> (uint256) view", "getLUSDDebt() -> (uint256) view"},
}


@pytest.mark.parametrize("contract", sorted(REAL))
def test_committed_abis_are_the_real_signatures(contract: str) -> None:
    committed = {
        f"{e['name']}({','.join(i['type'] for i in e['inputs'])}) -> "
        f"({','.join(o['type'] for o in e['outputs'])}) {e['stateMutability']}"
        for e in load_abi("liquity-v1", contract) if e["type"] == "function"}
    assert committed == REAL[contract]

"""The devnet's second Aave market runs the real v3.6 bytecode, seeded as the generator planned.

Everything is read back from the real Pool (npm @aave-dao/aave-v3-origin 3.6.0, solc 0.8.27):
its revision, the eMode bitmaps, and every seeded account's getUserAccountData -- including the
accounts whose only collateral is wstETH, which has a reserve liquidation threshold of 0 and
counts only inside eModes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi.abi import decode

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.aave36_spec import load_market36_spec
from scanner.devnet.network import Devnet, write_config
from scanner.devnet.population import AavePositionPlan
from scanner.devnet.population36 import account_totals36_8dec, generate_aave36_population
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.errors import ConfigError
from tests.integration.conftest import DEVNET_AAVE36_POSITIONS

pytestmark = pytest.mark.integration

WAD = 10**18
MAX_UINT = 2**256 - 1
LIQUIDATOR = "0x000000000000000000000000000000000000Be36"


def _v36(devnet: Devnet) -> AaveDeployment:
    assert devnet.aave36 is not None, "the session devnet has no v3.6 market"
    return devnet.aave36


def _uint(rpc: DevnetRpc, to: str, signature: str, *args: object) -> int:
    return int(decode(["uint256"], rpc.eth_call(to, calldata(signature, *args)))[0])


def _account_data(rpc: DevnetRpc, pool: str, accounts: list[str]) -> list[tuple[int, ...]]:
    results = rpc.batch([("eth_call", [{"to": pool, "data": calldata(
        "getUserAccountData(address)", a)}, "latest"]) for a in accounts])
    return [decode(["uint256"] * 6, bytes.fromhex(r[2:])) for r in results]


def _reserve_id(rpc: DevnetRpc, aave: AaveDeployment, symbol: str) -> int:
    raw = rpc.eth_call(aave.pool, calldata("getReserveData(address)", aave.tokens[symbol]))
    return int(decode(["uint256"] * 15, raw)[7])


def test_pool_is_revision_10(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    aave = _v36(devnet)
    assert _uint(devnet_rpc, aave.pool, "POOL_REVISION()") == 10
    code = devnet_rpc.call("eth_getCode", [aave.pool, "latest"])
    assert len(code) > 2  # the proxy; its implementation is the v3.6 PoolInstance


def test_emode_bitmaps_and_reserve_flags(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    aave, rpc = _v36(devnet), devnet_rpc
    ids = {s: _reserve_id(rpc, aave, s) for s in aave.tokens}
    collateral_1 = _uint(rpc, aave.pool, "getEModeCategoryCollateralBitmap(uint8)", 1)
    borrowable_1 = _uint(rpc, aave.pool, "getEModeCategoryBorrowableBitmap(uint8)", 1)
    ltvzero_1 = _uint(rpc, aave.pool, "getEModeCategoryLtvzeroBitmap(uint8)", 1)
    assert {s for s, i in ids.items() if collateral_1 >> i & 1} == {"WETH", "wstETH", "rETH"}
    assert {s for s, i in ids.items() if borrowable_1 >> i & 1} == {"WETH", "USDC", "DAI"}
    assert {s for s, i in ids.items() if ltvzero_1 >> i & 1} == {"rETH"}
    config = {s: _uint(rpc, aave.pool, "getConfiguration(address)", t)
              for s, t in aave.tokens.items()}
    assert config["wstETH"] & 0xFFFFFFFF == 0  # LTV 0 and LT 0: collateral only in eModes
    assert not config["DAI"] >> 58 & 1  # borrowing disabled: DAI only borrowable in eModes


def test_every_account_as_planned(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    aave = _v36(devnet)
    plans = list(devnet.aave36_plans)
    assert len(plans) == DEVNET_AAVE36_POSITIONS
    for plan, data in zip(plans, _account_data(devnet_rpc, aave.pool,
                                               [p.account for p in plans]), strict=True):
        health_factor_wad = data[5]
        if plan.kind == "liquidatable":
            assert health_factor_wad < WAD, plan
        else:
            assert health_factor_wad >= WAD, plan
        # interest since seeding only lowers it, by far less than 1e-4
        assert health_factor_wad == pytest.approx(plan.intended_health_factor_wad, rel=1e-4)


def _emode_only(plans: tuple[AavePositionPlan, ...]) -> list[AavePositionPlan]:
    """Accounts whose only collateral is wstETH (reserve LT 0) inside an eMode."""
    return [p for p in plans if [s for s, _ in p.supplies] == ["wstETH"] and p.emode]


def test_pool_counts_emode_only_collateral(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    aave, rpc = _v36(devnet), devnet_rpc
    spec = load_market36_spec()
    plans = _emode_only(devnet.aave36_plans)
    assert len(plans) >= 20
    assert {p.emode for p in plans} == {1, 2}
    price_8dec = _uint(rpc, aave.oracle, "getAssetPrice(address)", aave.tokens["wstETH"])
    for plan, data in zip(plans, _account_data(rpc, aave.pool, [p.account for p in plans]),
                          strict=True):
        balance_raw = _uint(rpc, aave.a_tokens["wstETH"], "balanceOf(address)", plan.account)
        # the whole wstETH balance is collateral (floored), weighted by the eMode's LT
        assert data[0] == balance_raw * price_8dec // 10**18 > 0
        assert data[3] == spec.emode(plan.emode).lt_bps
        assert 0 < data[5] < MAX_UINT


def test_mixed_threshold_and_ltv_zero_accounts(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    aave = _v36(devnet)
    spec = load_market36_spec()
    mixed = [p for p in devnet.aave36_plans if p.kind == "emode_only_wbtc"]
    ltv_zero = [p for p in devnet.aave36_plans if p.kind == "ltv_zero"]
    assert mixed and ltv_zero
    for plan, data in zip(mixed, _account_data(devnet_rpc, aave.pool,
                                               [p.account for p in mixed]), strict=True):
        # wstETH at the eMode's 93%, WBTC (not on eMode 1's bitmap) at its own 78%
        assert spec.reserve("WBTC").lt_bps < data[3] < spec.emode(1).lt_bps, plan
    for plan, data in zip(ltv_zero, _account_data(devnet_rpc, aave.pool,
                                                  [p.account for p in ltv_zero]), strict=True):
        # rETH is now LTV 0 inside eMode 1: the average LTV drops, the LT does not
        assert data[4] < spec.emode(1).ltv_bps, plan
        assert data[3] == spec.emode(1).lt_bps, plan


def test_dai_debt_exists_only_inside_emodes(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    aave = _v36(devnet)
    dai_borrowers = [p for p in devnet.aave36_plans if any(s == "DAI" for s, _ in p.borrows)]
    assert dai_borrowers and all(p.emode for p in dai_borrowers)
    for plan in dai_borrowers[:10]:
        debt_raw = _uint(devnet_rpc, aave.variable_debt_tokens["DAI"], "balanceOf(address)",
                         plan.account)
        assert debt_raw >= dict(plan.borrows)["DAI"]


def test_planned_liquidatable_account_is_liquidated(devnet: Devnet,
                                                    devnet_snapshot: DevnetRpc) -> None:
    aave, rpc = _v36(devnet), devnet_snapshot
    plan = next(p for p in devnet.aave36_plans if p.kind == "liquidatable")
    usdc_budget_raw = 2 * dict(plan.borrows)["USDC"]  # the debt plus interest, with room
    rpc.send_many([
        Tx(LIQUIDATOR, aave.tokens["USDC"], calldata("mint(uint256)", usdc_budget_raw)),
        Tx(LIQUIDATOR, aave.tokens["USDC"], calldata("approve(address,uint256)", aave.pool,
                                                     usdc_budget_raw)),
        Tx(LIQUIDATOR, aave.pool, calldata(
            "liquidationCall(address,address,address,uint256,bool)", aave.tokens["LINK"],
            aave.tokens["USDC"], plan.account, MAX_UINT, False)),
    ])
    link_received_raw = _uint(rpc, aave.tokens["LINK"], "balanceOf(address)", LIQUIDATOR)
    assert link_received_raw > 0


def test_planner_mirror_rounds_debt_up() -> None:
    spec = load_market36_spec()
    # 1 raw unit of USDC debt is worth 1e-6 USD = 100 base units exactly; 1 wei of WETH is
    # 3e-15 USD, which rounds up to one base unit of debt but down to zero of collateral
    _, debt_8dec, _, _ = account_totals36_8dec(spec, (), (("WETH", 1),), 0, {"WETH": 3000 * 10**8})
    collateral_8dec, _, _, _ = account_totals36_8dec(spec, (("WETH", 1),), (), 0,
                                                     {"WETH": 3000 * 10**8})
    assert (debt_8dec, collateral_8dec) == (1, 0)


def test_population_is_deterministic_and_rejects_bad_sizes() -> None:
    first = generate_aave36_population(3, 250)
    assert first == generate_aave36_population(3, 250)
    assert len({p.account for p in first}) == 250
    with pytest.raises(ConfigError, match=">= 0"):
        generate_aave36_population(3, -1)


def test_scan_of_the_v36_market_runs(devnet: Devnet, tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"
    write_config(devnet, config_path, database_url=f"sqlite:///{tmp_path / 'scan.db'}")
    env = {**os.environ, "LIQSCAN_CONFIG": str(config_path)}
    subprocess.run([sys.executable, "-m", "scanner.cli", "db", "upgrade"], env=env, check=True,
                   capture_output=True, timeout=120)
    result = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "scan", "--market", "aave-v36-devnet", "--json"],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    [snapshot] = json.loads(result.stdout)
    [summary] = snapshot["markets"]
    assert summary["market"] == "aave-v36-devnet" and summary["pool_revision"] == 10
    with_debt = sum(1 for p in devnet.aave36_plans if p.borrows)
    assert summary["positions_with_debt"] == with_debt
    assert summary["unverified_accounts"] == []  # the mirror agrees with the v3.6 Pool

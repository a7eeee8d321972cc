"""The seeded Aave devnet is what the generator planned, through the real Pool and oracle."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi.abi import decode
from eth_utils.crypto import keccak

from scanner.devnet.aave_spec import load_market_spec
from scanner.devnet.network import Devnet, write_config
from scanner.devnet.population import AavePositionPlan, account_totals_8dec, final_prices
from scanner.devnet.prices import get_price_usd_8dec, set_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.errors import ConfigError
from tests.integration.conftest import DEVNET_CLUSTER

pytestmark = pytest.mark.integration

ACCOUNT_DATA = "getUserAccountData(address)"
LIQUIDATION_CALL_TOPIC = "0x" + keccak(
    b"LiquidationCall(address,address,address,uint256,uint256,address,bool)").hex()
LIQUIDATOR = "0x000000000000000000000000000000000000Be11"
MAX_UINT = 2**256 - 1
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def account_data(rpc: DevnetRpc, devnet: Devnet, accounts: list[str],
                 block: int | str = "latest") -> list[tuple[int, ...]]:
    """Pool.getUserAccountData for many accounts in one JSON-RPC batch, pinned to `block`."""
    tag = hex(block) if isinstance(block, int) else block
    results = rpc.batch([("eth_call", [{"to": devnet.aave.pool,
                                         "data": calldata(ACCOUNT_DATA, a)}, tag])
                         for a in accounts])
    return [decode(["uint256"] * 6, bytes.fromhex(r[2:])) for r in results]


def _sample(devnet: Devnet) -> list[AavePositionPlan]:
    """Every 7th plan plus the first of every kind."""
    first_of_kind = {p.kind: p for p in reversed(devnet.aave_plans)}
    return list({p.account: p for p in [*devnet.aave_plans[::7], *first_of_kind.values()]}
                .values())


def test_pool_agrees_with_the_plans(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    spec = load_market_spec()
    plans = _sample(devnet)
    for plan, data in zip(plans, account_data(devnet_rpc, devnet, [p.account for p in plans]),
                          strict=True):
        collateral_8dec, debt_8dec, _, _ = account_totals_8dec(
            spec, plan.supplies, plan.borrows, plan.emode, final_prices(spec))
        # rounding of the scaled balances plus seconds of interest: well under 1e-5
        assert data[0] == pytest.approx(collateral_8dec, rel=1e-5, abs=2), plan
        assert data[1] == pytest.approx(debt_8dec, rel=1e-5, abs=2), plan
        assert data[5] == pytest.approx(plan.intended_health_factor_wad, rel=1e-4), plan


def test_every_kind_is_on_chain(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    kinds = {p.kind for p in devnet.aave_plans}
    assert {"weth_only", "emode_loop", "isolated", "eth_short", "liquidatable", "cluster",
            "no_eth", "multi_debt", "dust"} <= kinds
    emode = next(p for p in devnet.aave_plans if p.kind == "emode_loop")
    (category,) = decode(["uint256"], devnet_rpc.eth_call(
        devnet.aave.pool, calldata("getUserEMode(address)", emode.account)))
    assert category == 1


def test_planted_cluster_is_where_it_was_planted(devnet: Devnet, devnet_rpc: DevnetRpc) -> None:
    plans = [p for p in devnet.aave_plans if p.cluster == 0]
    price_8dec = get_price_usd_8dec(devnet_rpc, devnet.aave, DEVNET_CLUSTER.asset)
    collateral_usd = 0.0
    for data in account_data(devnet_rpc, devnet, [p.account for p in plans]):
        collateral_8dec, debt_8dec, _, lt_bps, _, _ = data
        # one collateral: HF = 1 where collateral(price) * LT = debt
        liquidation_8dec = price_8dec * debt_8dec * 10_000 // (collateral_8dec * lt_bps)
        assert DEVNET_CLUSTER.low_usd * 10**8 <= liquidation_8dec <= DEVNET_CLUSTER.high_usd * 10**8
        collateral_usd += collateral_8dec / 10**8
    assert collateral_usd == pytest.approx(DEVNET_CLUSTER.total_usd, rel=0.01)


def test_liquidatable_position_is_liquidated_by_a_real_call(
        devnet: Devnet, devnet_snapshot: DevnetRpc) -> None:
    rpc = devnet_snapshot
    plan = next(p for p in devnet.aave_plans if p.kind == "liquidatable")
    [(_, debt_before_8dec, _, _, _, hf_wad)] = account_data(rpc, devnet, [plan.account])
    assert hf_wad < 10**18
    (collateral_symbol, _), (debt_symbol, debt_raw) = plan.supplies[0], plan.borrows[0]
    collateral_token, debt_token = (devnet.aave.tokens[collateral_symbol],
                                    devnet.aave.tokens[debt_symbol])
    rpc.send_many([
        Tx(LIQUIDATOR, debt_token, calldata("mint(uint256)", 2 * debt_raw)),
        Tx(LIQUIDATOR, debt_token, calldata("approve(address,uint256)", devnet.aave.pool,
                                            MAX_UINT)),
    ])
    receipt = rpc.send(Tx(LIQUIDATOR, devnet.aave.pool, calldata(
        "liquidationCall(address,address,address,uint256,bool)",
        collateral_token, debt_token, plan.account, MAX_UINT, False)))
    topics = [log["topics"][0] for log in receipt["logs"]]
    assert LIQUIDATION_CALL_TOPIC in topics
    (seized_raw,) = decode(["uint256"], rpc.eth_call(
        collateral_token, calldata("balanceOf(address)", LIQUIDATOR)))
    assert seized_raw > 0
    [(_, debt_after_8dec, *_)] = account_data(rpc, devnet, [plan.account])
    assert debt_after_8dec < debt_before_8dec


def test_price_control_moves_the_aave_oracle(devnet: Devnet,
                                              devnet_snapshot: DevnetRpc) -> None:
    rpc = devnet_snapshot
    before_block = rpc.block_number()
    plan = next(p for p in devnet.aave_plans if p.kind == "weth_only")
    [before] = account_data(rpc, devnet, [plan.account])
    block = set_price_usd_8dec(rpc, devnet.aave, "WETH", 2_500 * 10**8)
    assert get_price_usd_8dec(rpc, devnet.aave, "WETH") == 2_500 * 10**8
    assert get_price_usd_8dec(rpc, devnet.aave, "WETH", before_block) == 3_000 * 10**8
    [after] = account_data(rpc, devnet, [plan.account], block)
    assert after[5] < before[5]  # WETH collateral lost value: lower health factor
    set_prices(rpc, devnet.aave, {"WBTC": 50_000 * 10**8, "USDC": 99_990_000})
    assert get_price_usd_8dec(rpc, devnet.aave, "WBTC") == 50_000 * 10**8
    assert get_price_usd_8dec(rpc, devnet.aave, "USDC") == 99_990_000


@pytest.mark.parametrize(("symbol", "price_8dec"), [("NOPE", 10**8), ("WETH", 0)])
def test_price_control_rejects_bad_input(devnet: Devnet, devnet_rpc: DevnetRpc, symbol: str,
                                         price_8dec: int) -> None:
    with pytest.raises(ConfigError):
        set_price_usd_8dec(devnet_rpc, devnet.aave, symbol, price_8dec)


def test_written_config_is_valid(devnet: Devnet, tmp_path: Path) -> None:
    from scanner.config import load_config

    write_config(devnet, tmp_path / "config.toml")
    config = load_config(tmp_path / "config.toml")
    [market, market36, morpho, usdc, weth, aave2, maker, liquity1, liquity2] = config.markets
    assert (market.key, market36.key) == ("aave-v3-devnet", "aave-v36-devnet")
    assert devnet.morpho is not None and morpho.protocol == "morpho-blue"
    assert morpho.address("morpho") == devnet.morpho.morpho
    assert morpho.address("usd_price_oracle") == devnet.aave.oracle
    assert devnet.compound is not None
    assert (usdc.key, weth.key) == ("compound-v3-usdc", "compound-v3-weth")
    assert usdc.address("comet") == devnet.compound.comet("usdc").comet
    assert "quote_usd_feed" not in usdc.addresses  # prices in USD
    assert weth.address("quote_usd_feed") == devnet.compound.comet("usdc").feeds["WETH"]
    assert market.address("pool_addresses_provider") == devnet.aave.provider
    assert devnet.aave36 is not None
    assert market36.address("pool_addresses_provider") == devnet.aave36.provider
    assert market36.start_block == devnet.aave36.deploy_block
    assert devnet.aave2 is not None and aave2.protocol == "aave-v2"
    assert aave2.address("lending_pool_addresses_provider") == devnet.aave2.provider
    assert aave2.address("eth_usd_feed") == devnet.aave.aggregators["WETH"]
    assert devnet.maker is not None and maker.key == "maker-devnet"
    assert maker.addresses == {"chainlog": devnet.maker.chainlog}
    assert devnet.liquity1 is not None and liquity1.protocol == "liquity-v1"
    assert liquity1.addresses == {"trove_manager": devnet.liquity1.trove_manager}
    assert devnet.liquity2 is not None and liquity2.protocol == "liquity-v2"
    assert liquity2.addresses == {"collateral_registry": devnet.liquity2.collateral_registry}
    assert config.chains["devnet"].rpc_url == devnet.rpc_url
    assert config.axes["ETH"].members == ("WETH", "wstETH", "rETH", "ETH")


# --- the CLI's errors: one line on stderr, the error's exit code ---------------------------


def _run_cli(args: list[str], env_extra: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "scanner.devnet.cli", "devnet", "up", *args],
                          capture_output=True, text=True, timeout=120, env=env,
                          cwd=PROJECT_ROOT, check=False)


def _assert_one_line_error(result: subprocess.CompletedProcess[str], exit_code: int,
                           words: str) -> None:
    assert result.returncode == exit_code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("liqscan: error: ") and words in lines[0], lines[0]


@pytest.mark.parametrize(("args", "words"), [
    (["--cluster", "DOGE:1000000:1:2"], "unknown asset 'DOGE'"),
    (["--cluster", "WETH:1000000:2500:2400"], "LOW < HIGH"),
    (["--cluster", "WETH:lots:1:2"], "must be numbers"),
    (["--aave-positions", "-1"], ">= 0"),
    (["--morpho-positions", "-5"], ">= 0"),
    (["--aave36-positions", "-1"], ">= 0"),
])
def test_cli_rejects_bad_specs(args: list[str], words: str) -> None:
    _assert_one_line_error(_run_cli(args), ConfigError.exit_code, words)


def test_cli_reports_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run_cli(["--aave-positions", "5", "--port", str(port)])
    _assert_one_line_error(result, 2, f"port {port}")


def test_cli_reports_missing_node_modules(tmp_path: Path) -> None:
    # a fresh interpreter: the toolchain's lru caches start empty
    empty = tmp_path / "root"
    empty.mkdir()
    (empty / "package.json").write_text("{}")
    result = _run_cli(["--aave-positions", "5", "--no-cache"],
                      {"LIQSCAN_ROOT": str(empty), "LIQSCAN_CACHE_DIR": str(tmp_path / "cache"),
                       "PATH": "/usr/bin:/bin"})
    _assert_one_line_error(result, 69, "npm")

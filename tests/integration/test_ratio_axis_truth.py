"""A ratio axis judged by the contracts themselves: `[axes.wstETH-ETH] members = ["wstETH"],
quote = ["WETH"]` moves wstETH alone against WETH (every other price stays), so the LST loops
that ETH/USD cannot liquidate (Aave eMode wstETH/WETH, Morpho wstETH/WETH, wstETH in the WETH
Comet) get their level on a depeg, in WETH per wstETH.

One snapshot of every devnet market after 31 idle days (stale stored totals everywhere). For
every at-risk position on the ratio axis, the wstETH MockAggregator's answer -- which the Aave
pools, the Morpho oracles and the Comet feeds all read -- is overridden (eth_call state
override) to put wstETH/WETH at the reported level x moved 1e-4 toward today (must be
healthy) and 1e-4 past it (must be liquidatable):
- Aave v3.0 / v3.6: `getUserAccountData` health factor; and exactly: healthy with the answer
  at the reported native level (wstETH's USD price), liquidatable one oracle unit past it;
- Morpho Blue: a real `liquidate` reverts "position is healthy" / goes through;
- Compound v3: a real `absorb` (which accrues first) reverts NotLiquidatable / goes through.
v3.0 floors the average LT, so collateral that mixes LTs across the axis may show a window
narrower than 1e-4 (see test_scan_truth.py); only such positions, and few, may.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_abi.abi import decode

from scanner.config import load_config
from scanner.devnet.aave_spec import load_market_spec
from scanner.devnet.morpho import MARKET_PARAMS, MorphoMarket
from scanner.devnet.network import (
    AAVE36_MARKET_KEY,
    AAVE_MARKET_KEY,
    COMPOUND_MARKET_PREFIX,
    Devnet,
    write_config,
)
from scanner.devnet.prices import ANSWER_SLOT, get_price_usd_8dec
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.domain import Direction, PositionResult, PositionStatus
from scanner.pipeline.scan import SnapshotOutcome
from tests.integration.compound_reads import NOT_LIQUIDATABLE
from tests.integration.scan_helpers import fresh_repo, scan
from tests.integration.test_cli import liqscan

pytestmark = pytest.mark.integration

AXIS = "wstETH-ETH"
RATIO_AXIS = f'\n[axes.{AXIS}]\nmembers = ["wstETH"]\nquote = ["WETH"]\n'
DAYS_31 = 31 * 24 * 3600
PPM = 100  # 1e-4
WAD = 10**18
LIQUIDATOR = "0x000000000000000000000000000000000000b10e"
MORPHO_HEALTHY = "position is healthy"


@dataclass(frozen=True)
class Aged:
    outcome: SnapshotOutcome
    block: int
    wsteth_8dec: int  # the wstETH aggregator's answer at the scan block
    config_path: Path


@pytest.fixture(scope="module")
def aged(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aged]:
    """31 idle days later, a funded liquidator, one snapshot of every market with the axis."""
    rpc = DevnetRpc(devnet.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    try:
        _fund_liquidator(rpc, devnet)
        rpc.call("evm_increaseTime", [DAYS_31])
        rpc.mine()
        folder = tmp_path_factory.mktemp("ratio")
        path = folder / "config.toml"
        write_config(devnet, path, database_url=f"sqlite:///{folder / 'ratio.db'}")
        path.write_text(path.read_text() + RATIO_AXIS)
        config = load_config(path)
        outcome = scan(config, fresh_repo(config))
        block = outcome.record.block
        yield Aged(outcome, block, get_price_usd_8dec(rpc, devnet.aave, "wstETH", block), path)
    finally:
        rpc.call("evm_revert", [snapshot])


def _fund_liquidator(rpc: DevnetRpc, devnet: Devnet) -> None:
    assert devnet.morpho is not None
    txs = []
    for token in {m.loan_token for m in devnet.morpho.markets}:
        txs.append(Tx(LIQUIDATOR, token, calldata("mint(address,uint256)", LIQUIDATOR, 10**40)))
        txs.append(Tx(LIQUIDATOR, token, calldata("approve(address,uint256)",
                                                  devnet.morpho.morpho, 2**256 - 1)))
    rpc.send_many(txs)


def _at_risk(aged: Aged, protocol: str) -> list[PositionResult]:
    return [r for r in aged.outcome.results if r.axis == AXIS and r.protocol == protocol
            and r.status is PositionStatus.AT_RISK]


def _probe_levels(r: PositionResult) -> tuple[int, int]:
    """(x moved 1e-4 toward today: healthy, x moved 1e-4 past: liquidatable), quote 8 dec."""
    assert r.liquidation_price_8dec is not None
    x, step = r.liquidation_price_8dec, 1 if r.direction is Direction.DOWN else -1
    return (x * (1_000_000 + step * PPM) // 1_000_000,
            x * (1_000_000 - step * PPM) // 1_000_000)


def _wsteth_at(aged: Aged, r: PositionResult, level_8dec: int) -> int:
    """The wstETH answer (USD 8 dec) that puts wstETH/WETH at `level` (WETH unmoved)."""
    return aged.wsteth_8dec * level_8dec // r.axis_price_now_8dec


def _override(devnet: Devnet, wsteth_8dec: int) -> dict[str, Any]:
    slot = "0x" + int(ANSWER_SLOT, 16).to_bytes(32, "big").hex()
    return {devnet.aave.aggregators["wstETH"]: {"stateDiff": {slot: f"0x{wsteth_8dec:064x}"}}}


def _eth_calls(devnet: Devnet, block: int, calls: Sequence[tuple[dict[str, Any], int]]
               ) -> list[dict[str, Any]]:
    """One batch of eth_call(call, block, wstETH override); each answer's result or error."""
    body = [{"jsonrpc": "2.0", "id": i, "method": "eth_call",
             "params": [call, hex(block), _override(devnet, wsteth_8dec)]}
            for i, (call, wsteth_8dec) in enumerate(calls)]
    answers = {a["id"]: a for a in requests.post(devnet.rpc_url, json=body, timeout=300).json()}
    return [answers[i] for i in range(len(calls))]


def test_the_axis_is_priced_in_weth_per_wsteth(devnet: Devnet, aged: Aged) -> None:
    (axis,) = [a for a in aged.outcome.axes if a.name == AXIS]
    weth_8dec = get_price_usd_8dec(DevnetRpc(devnet.rpc_url), devnet.aave, "WETH", aged.block)
    assert axis.unit == "WETH"
    assert axis.reference_price_8dec == aged.wsteth_8dec * 10**8 // weth_8dec
    protocols = {r.protocol for r in aged.outcome.results if r.axis == AXIS
                 and r.status is PositionStatus.AT_RISK}
    # the three judged below; Aave v2 and Maker urns holding wstETH are on the axis too (their
    # own truth tests judge their rule on the USD axes)
    assert protocols >= {"aave-v3", "morpho-blue", "compound-v3"}


def test_eth_usd_leaves_the_loops_alone_the_ratio_axis_does_not(aged: Aged) -> None:
    """The LST loops (wstETH against WETH) are not sensitive on ETH but at risk on the ratio."""
    by_key = {(r.market_key, r.submarket, r.account, r.axis): r for r in aged.outcome.results}
    loops = [r for (m, s, a, axis), r in by_key.items() if axis == "ETH"
             and r.status is PositionStatus.NOT_SENSITIVE
             and (ratio := by_key.get((m, s, a, AXIS))) is not None
             and ratio.status is PositionStatus.AT_RISK]
    assert {r.protocol for r in loops} == {"aave-v3", "morpho-blue", "compound-v3"}


def _aave_pool(devnet: Devnet, market_key: str) -> str:
    if market_key == AAVE_MARKET_KEY:
        return devnet.aave.pool
    assert market_key == AAVE36_MARKET_KEY and devnet.aave36 is not None
    return devnet.aave36.pool


def _aave_health_factors(devnet: Devnet, aged: Aged,
                         checks: Sequence[tuple[PositionResult, int]]) -> list[int]:
    calls = [({"to": _aave_pool(devnet, r.market_key),
               "data": calldata("getUserAccountData(address)", r.account)}, wsteth)
             for r, wsteth in checks]
    answers = _eth_calls(devnet, aged.block, calls)
    return [int(decode(["uint256"] * 6, bytes.fromhex(a["result"][2:]))[5]) for a in answers]


def _mixes_lts_across_the_axis(devnet: Devnet, account: str) -> bool:
    """v3.0 collateral in wstETH and in another asset of another LT (the floored avg moves)."""
    spec = load_market_spec()
    (plan,) = [p for p in devnet.aave_plans if p.account == account]

    def lt(symbol: str) -> int:
        reserve = spec.reserve(symbol)
        if plan.emode and reserve.emode_category == plan.emode:
            return spec.emode(plan.emode).lt_bps
        return reserve.lt_bps

    lts = {(s == "wstETH", lt(s)) for s, _ in plan.supplies}
    return {m for m, _ in lts} == {True, False} and len({v for _, v in lts}) > 1


def test_aave_pools_agree_with_every_ratio_level(devnet: Devnet, aged: Aged) -> None:
    positions = _at_risk(aged, "aave-v3")
    assert len(positions) >= 40, len(positions)
    checks: list[tuple[PositionResult, int]] = []
    for r in positions:
        assert r.liquidation_price_native is not None and r.native_price_unit == "USD"
        native, step = r.liquidation_price_native, 1 if r.direction is Direction.DOWN else -1
        safe, past = _probe_levels(r)
        checks += [(r, native), (r, native - step),
                   (r, _wsteth_at(aged, r, safe)), (r, _wsteth_at(aged, r, past))]
    hfs = _aave_health_factors(devnet, aged, checks)
    wrong, narrow = [], []
    for k, r in enumerate(positions):
        at_native, one_past, safe_hf, past_hf = hfs[4 * k: 4 * k + 4]
        if not (at_native >= WAD > one_past and safe_hf >= WAD):
            wrong.append((r.market_key, r.account, r.liquidation_price_8dec))
        elif past_hf >= WAD:
            narrow.append(r)
    assert wrong == []
    assert all(r.market_key == AAVE_MARKET_KEY and _mixes_lts_across_the_axis(devnet, r.account)
               for r in narrow), narrow
    assert len(narrow) <= len(positions) // 50
    loops = [r for r in positions if r.direction is Direction.DOWN
             and r.collateral_usd_8dec == r.axis_collateral_usd_8dec]
    assert {r.market_key for r in loops} == {AAVE_MARKET_KEY, AAVE36_MARKET_KEY}


def _morpho_market(devnet: Devnet, market_id: str) -> MorphoMarket:
    assert devnet.morpho is not None
    return next(m for m in devnet.morpho.markets if m.market_id.lower() == market_id)


def test_morpho_liquidate_agrees_with_every_ratio_level(devnet: Devnet, aged: Aged) -> None:
    positions = _at_risk(aged, "morpho-blue")
    assert len(positions) >= 15, len(positions)
    assert devnet.morpho is not None
    calls = []
    for r in positions:
        market = _morpho_market(devnet, r.submarket)
        call = {"from": LIQUIDATOR, "to": devnet.morpho.morpho, "gas": hex(2_000_000),
                "data": calldata(f"liquidate({MARKET_PARAMS},address,uint256,uint256,bytes)",
                                 market.params, r.account, 1, 0, b"")}
        calls += [(call, _wsteth_at(aged, r, level)) for level in _probe_levels(r)]
    answers = _eth_calls(devnet, aged.block, calls)
    for k, r in enumerate(positions):
        safe, past = answers[2 * k], answers[2 * k + 1]
        assert MORPHO_HEALTHY in str(safe.get("error")), (r.submarket, r.account, safe)
        assert "error" not in past, (r.submarket, r.account, past)
    weth_loans = {r.submarket for r in positions
                  if _morpho_market(devnet, r.submarket).loan_symbol == "WETH"}
    assert weth_loans, "the wstETH/WETH market is judged"


def test_comet_absorb_agrees_with_every_ratio_level(devnet: Devnet, aged: Aged) -> None:
    positions = _at_risk(aged, "compound-v3")
    assert len(positions) >= 20, len(positions)
    absorber = "0x00000000000000000000000000000000000Ab50b"
    calls = []
    for r in positions:
        call = {"from": absorber, "to": r.submarket,
                "data": calldata("absorb(address,address[])", absorber, [r.account])}
        calls += [(call, _wsteth_at(aged, r, level)) for level in _probe_levels(r)]
    answers = _eth_calls(devnet, aged.block, calls)
    for k, r in enumerate(positions):
        safe, past = answers[2 * k], answers[2 * k + 1]
        assert "error" in safe and safe["error"].get("data") == NOT_LIQUIDATABLE, (r, safe)
        assert "error" not in past, (r.market_key, r.account, past)
    assert f"{COMPOUND_MARKET_PREFIX}weth" in {r.market_key for r in positions}


# --- the analyst commands, as a user runs them -------------------------------------------


def _weth(value_8dec: int | None) -> str:
    """How a ratio-axis price must read: quote units to 4 places, never `$`."""
    assert value_8dec is not None
    return f"{Decimal(value_8dec).scaleb(-8):,.4f} WETH"


def _no_dollar_price(text: str) -> list[str]:
    """The lines that show a WETH price; in none is a `$` amount left of the last one (the
    columns and fields to the right are USD amounts: collateral, debt)."""
    lines = [x for x in text.splitlines() if " WETH" in x]
    assert lines and all("$" not in x[:x.rindex(" WETH")] for x in lines), lines
    return lines


def _ratio_cli(aged: Aged, *args: str) -> subprocess.CompletedProcess[str]:
    done = liqscan("--config", str(aged.config_path), *args)
    assert done.returncode == 0, done.stderr
    return done


def test_bands_summary_and_history_show_the_ratio_axis_in_weth(aged: Aged) -> None:
    (axis,) = [a for a in aged.outcome.axes if a.name == AXIS]
    price = _weth(axis.reference_price_8dec)
    text = _ratio_cli(aged, "bands", "--axis", AXIS).stdout
    _no_dollar_price(text)
    assert f"\n{AXIS} {price}   at risk $" in text, text
    bands = [b for b in aged.outcome.bands if b.axis == AXIS]
    assert bands
    for b in bands:
        assert re.search(rf"\s{b.rank}\s+{b.kind}\s+{re.escape(_weth(b.low_8dec))}\s+"
                         rf"{re.escape(_weth(b.high_8dec))}\s", text), (b, text)
    records = json.loads(_ratio_cli(aged, "bands", "--axis", AXIS, "--json").stdout)
    assert len(records) == len(bands) and {r["axis_unit"] for r in records} == {"WETH"}
    history = _ratio_cli(aged, "bands", "--history", "--axis", AXIS).stdout
    assert len(_no_dollar_price(history)) == len(bands) and price in history
    rows = json.loads(_ratio_cli(aged, "bands", "--history", "--axis", AXIS, "--json").stdout)
    assert rows and {r["axis_unit"] for r in rows} == {"WETH"}
    summary = _ratio_cli(aged, "summary").stdout
    lines = _no_dollar_price(summary)
    assert any(x.startswith(f"{AXIS} {price}   liquidatable now: $") for x in lines), lines
    assert any(x.strip().startswith(f"{AXIS} {_weth(bands[0].low_8dec)} - ") for x in lines)
    assert "ETH $3,000.00" in summary  # a USD axis keeps its $
    report = json.loads(_ratio_cli(aged, "summary", "--json").stdout)
    units = {a["axis"]: (a["axis_unit"], a["price_usd"]) for a in report["axes"]}
    assert units[AXIS] == ("WETH", str(Decimal(axis.reference_price_8dec).scaleb(-8)))
    assert units["ETH"][0] == "USD"


def test_positions_chart_and_export_show_the_ratio_axis_in_weth(
        aged: Aged, tmp_path: Path) -> None:
    stored = [r for r in aged.outcome.results if r.axis == AXIS]
    levels: dict[tuple[str, str], set[str]] = {}
    for r in stored:
        if r.liquidation_price_8dec is not None:
            levels.setdefault((r.market_key, r.account), set()).add(_weth(r.liquidation_price_8dec))
    table = _ratio_cli(aged, "positions", "--axis", AXIS, "--status", "at_risk",
                       "--limit", "30").stdout
    rows = [x.split() for x in _no_dollar_price(table)]
    assert len(rows) == 30
    for row in rows:  # axis, market, account, status, side, price (2 words), move, ...
        assert " ".join(row[5:7]) in levels[(row[1], row[2])], row
    positions = json.loads(_ratio_cli(aged, "positions", "--axis", AXIS, "--status", "all",
                                      "--json", "--limit", "100000").stdout)
    assert len(positions) == len(stored) and {p["axis_unit"] for p in positions} == {"WETH"}
    for out in (tmp_path / "x.png", tmp_path / "x.svg"):
        _ratio_cli(aged, "chart", "--axis", AXIS, "--out", str(out))
    assert (tmp_path / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "x.svg").read_text()
    assert "liquidated (WETH)" in svg and re.search(rf"{AXIS} now [0-9.]+ WETH", svg)
    assert f"{AXIS} now $" not in svg
    for what in ("positions", "bins", "bands"):
        done = _ratio_cli(aged, "export", "--what", what, "--axis", AXIS, "--format", "ndjson",
                          "--out", "-")
        records = [json.loads(x) for x in done.stdout.splitlines()]
        assert records and {(r["axis"], r["axis_unit"]) for r in records} == {(AXIS, "WETH")}
        if what == "positions":
            assert sorted(r["liquidation_price_8dec"] or 0 for r in records) == sorted(
                r.liquidation_price_8dec or 0 for r in stored)

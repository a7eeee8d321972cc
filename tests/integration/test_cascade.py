"""`liqscan cascade` on a scanned devnet snapshot (every protocol of the session devnet),
each round checked against an independent recomputation from the STORED snapshot.

The cascade reads the snapshot's markets again at its block and follows the protocols' own
liquidation rules; the check uses only what the scan stored (each position's exact level,
status and direction, the bands) and the depth model's arithmetic redone in fractions:
- round k liquidates, for the first time, exactly the stored longs whose level lies in
  (price_k, price_{k-1}] (round 0: above the shocked price; those liquidatable now are
  reported apart), except a few a protocol refuses at that price (Aave v3.3+'s dust rule,
  Maker's room used up) and Liquity troves a redistribution of the cascade pushed under;
- price_{k+1} = price_k x (1 - k x tokens sold) per axis asset, as the linear market says;
- the bands crossed are the stored bands overlapping [price_{k+1}, price_k];
- the totals are the sums of the rounds, and what the CLI printed is what was stored and
  what the library computes.
The depth is a deterministic linear-impact market (tests/unit/cascade_fixtures.py): a model
of a market, not a stand-in for the node.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import decode

from scanner.cascade import depth_source
from scanner.cascade.depth import DepthModel, SaleResult
from scanner.cascade.depth_build import build_depth_model
from scanner.cascade.depth_models import UniswapDepth, human_price, sqrt_x96_for
from scanner.cascade.engine import Exposure
from scanner.cascade.exposures import AxisBook, axis_book
from scanner.cascade.live import reread_snapshot
from scanner.cascade.run import cascade_to
from scanner.cascade.sale import LiquidationSale, SoldCollateral, merge_sold
from scanner.cascade.shock import shocked_price_8dec
from scanner.cascade.uniswap_v3 import OutsideReadWindowError
from scanner.chain.rpc import RpcClient
from scanner.cli import main
from scanner.config import ChainConfig, Config
from scanner.devnet.network import AAVE36_MARKET_KEY, AAVE_MARKET_KEY, Devnet
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.uniswap import FAR_DEADLINE
from scanner.domain import Direction, PositionStatus
from scanner.pipeline.axes import resolve_axes
from scanner.store.cascades import load_cascades
from scanner.store.repository import Repository
from tests.integration.aave_liquidations import ExecutedCall, liquidate_until_healthy
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan
from tests.integration.test_liquidation_call import (
    _assets,
    _fund_liquidator,
    _move_axis,
    _read,
)
from tests.integration.test_uniswap_depth import EXACT_INPUT_SINGLE, SWAP_TOPIC, TRADER
from tests.unit.cascade_fixtures import LinearDepth

pytestmark = pytest.mark.integration

IMPACT_PER_TOKEN = 0.00001  # 1% per 1,000 ETH-like tokens sold
SHOCK = "-12%"


@pytest.fixture(scope="module")
def scanned(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Config, Repository, int, Path]:
    folder = tmp_path_factory.mktemp("cascade")
    config = devnet_config(devnet, folder, f"sqlite:///{folder / 'scan.db'}")
    repo = fresh_repo(config)
    outcome = scan(config, repo)
    return config, repo, outcome.snapshot_id, folder / "config.toml"


def _linear(config: Config, chain: ChainConfig, rpc: object, block: int) -> LinearDepth:
    return LinearDepth(IMPACT_PER_TOKEN)


async def _linear_factory(config: Config, chain: ChainConfig, rpc: object, block: int
                          ) -> LinearDepth:
    return _linear(config, chain, rpc, block)


def _run_cli(config_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["--config", str(config_path), "cascade", "--axis", "ETH", "--shock", SHOCK,
                 "--json"]) == 0
    printed: dict[str, Any] = json.loads(capsys.readouterr().out)
    return printed


def test_cascade_rounds_match_a_recomputation_from_the_stored_snapshot(
        scanned: tuple[Config, Repository, int, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """With a linear market: the rounds and the price steps, redone exactly."""
    config, repo, snapshot_id, config_path = scanned
    monkeypatch.setattr(depth_source, "build_depth", _linear_factory)
    printed = _run_cli(config_path, capsys)
    stored = load_cascades(repo, snapshot_id, "ETH")[0]
    assert {k: v for k, v in stored.items() if k != "id"} == printed

    def linear_after(price_8dec: int, sold: Sequence[SoldCollateral], book: AxisBook
                     ) -> Fraction:
        """One market in reference tokens: each member's amount at its price in WETH."""
        usd = book.member_usd_now_8dec
        reference_usd = usd[book.axis.reference]
        tokens = sum((Fraction(s.amount_raw, 10**s.decimals) * Fraction(usd[s.asset],
                                                                          reference_usd)
                      for s in sold if s.asset in usd), Fraction(0))
        return Fraction(price_8dec) * (1 - Fraction(IMPACT_PER_TOKEN) * tokens)

    _check_rounds(config, repo, snapshot_id, printed, _linear_factory, linear_after)


def test_cascade_through_the_configured_uniswap_and_external_depth(
        scanned: tuple[Config, Repository, int, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    """With the devnet's [cascade.depth] (its Uniswap v3 pools and the external model): the
    rounds, and each price step as the model itself prices the round's sales."""
    config, repo, snapshot_id, config_path = scanned
    printed = _run_cli(config_path, capsys)
    assert printed["depth_model"].startswith(config.cascade_depth.model)  # type: ignore[union-attr]
    record = repo.get_snapshot(snapshot_id).record
    model = asyncio.run(_built(config, record.block))

    def model_after(price_8dec: int, sold: Sequence[SoldCollateral], book: AxisBook
                    ) -> Fraction:
        """The round's members sold as the model's one basket, the axis its reference."""
        usd, now_8dec = book.member_usd_now_8dec, book.axis.reference_price_8dec
        reference = book.axis.reference
        amounts = {s.asset: s.amount_raw for s in sold if s.asset in usd and s.amount_raw > 0}
        starts = {asset: usd[asset] * price_8dec / now_8dec / 10**8
                  for asset in [*amounts, reference]}
        basket = model.sell_basket(amounts, starts, reference)
        return Fraction(price_8dec) * Fraction(basket.reference_price_after_usd) / Fraction(
            starts[reference])

    _check_rounds(config, repo, snapshot_id, printed, _built_factory, model_after)


async def _built(config: Config, block: int) -> DepthModel:
    assert config.cascade_depth is not None
    async with RpcClient.for_chain(next(iter(config.chains.values()))) as rpc:
        return await depth_source.build_depth(config, next(iter(config.chains.values())),
                                              rpc, block)


async def _built_factory(config: Config, chain: ChainConfig, rpc: RpcClient, block: int
                         ) -> DepthModel:
    return await depth_source.build_depth(config, chain, rpc, block)


# the protocols whose liquidations move other positions' levels within a cascade
_REDISTRIBUTING = ("liquity-v1", "liquity-v2")


def _check_rounds(config: Config, repo: Repository, snapshot_id: int, printed: dict[str, Any],
                  factory: Any, price_after: Any) -> None:
    record = repo.get_snapshot(snapshot_id).record
    outcome, depth = asyncio.run(reread_snapshot(config, repo, snapshot_id, record, factory))
    book = axis_book(outcome.markets, outcome.axes, "ETH")
    bands = repo.load_bands(snapshot_id, axis="ETH")
    now = book.axis.reference_price_8dec
    result = cascade_to(book, depth, shocked_price_8dec(now, -1_200), bands, include_now=False)
    assert printed["final_price_8dec"] == result.final_price_8dec
    assert len(result.rounds) >= 2, "the devnet's book and this market make a spiral"
    rows = [r for r in repo.load_positions(snapshot_id, axis="ETH")
            if r.direction is Direction.DOWN
            and r.status in (PositionStatus.AT_RISK, PositionStatus.LIQUIDATABLE_NOW)]
    seen: set[tuple[str, str]] = set()
    refused: list[tuple[str, str]] = []
    previous = None
    sold_since_shock: list[SoldCollateral] = []  # the price follows everything sold since
    for r in result.rounds:
        first_time = {(x.market_key, x.account) for x in r.liquidations} - seen
        expected = {(p.market_key, p.account) for p in rows
                    if (p.market_key, p.account) not in seen and _reached(p, r.price_8dec,
                                                                           previous)}
        # only a redistribution (Liquity v1 and v2) moves a level during the cascade; and a
        # Maker urn the Dog's room refused is barked once the round's takes give it back
        assert all(x.protocol in _REDISTRIBUTING or (x.market_key, x.account) in refused
                   for x in r.liquidations
                   if (x.market_key, x.account) in first_time - expected), r.index
        refused += sorted(expected - first_time)
        seen |= first_time
        sold_since_shock += r.sold
        after = price_after(result.shock_price_8dec, merge_sold(sold_since_shock), book)
        assert abs(Fraction(r.price_after_8dec) - after) <= 2 + after / 10**9, r.index
        crossed = sorted(b.rank for b in bands if b.direction is Direction.DOWN
                         and b.low_8dec <= r.price_8dec and b.high_8dec >= r.price_after_8dec)
        assert list(r.bands_crossed) == crossed
        previous = r.price_8dec
    # a protocol may refuse a liquidation the level allows: only these rules do -- and
    # Liquity once the cascade has used up its Stability Pool (the devnet's holds 27k LUSD):
    # recovery mode's capped offset needs the pool to cover the debt
    protocols = {p.market_key: p.protocol for p in rows}
    assert all(protocols[m] in ("aave-v3", "maker", "liquity-v1") for m, _ in refused), refused
    assert len([m for m, _ in refused if protocols[m] != "liquity-v1"]) <= len(seen) // 20
    assert printed["positions_liquidated"] == len(seen) == result.positions_liquidated
    now_rows = [p for p in repo.load_positions(snapshot_id, axis="ETH")
                if p.status is PositionStatus.LIQUIDATABLE_NOW and p.direction is not None]
    assert 0 < printed["liquidatable_now"]["positions"] <= len(now_rows)
    assert not printed["includes_now"] and not seen & {(p.market_key, p.account)
                                                       for p in now_rows}
    assert printed["sold_usd_8dec"] == sum(x["sold_usd_8dec"] for x in printed["path"])
    assert [x["price_after_8dec"] for x in printed["path"]] == [
        r.price_after_8dec for r in result.rounds]


def _reached(p: object, price_8dec: int, previous: int | None) -> bool:
    from scanner.domain import PositionResult

    assert isinstance(p, PositionResult)
    if p.status is PositionStatus.LIQUIDATABLE_NOW:
        return False  # reported apart (liquidatable_now), out of the spiral by default
    assert p.liquidation_price_8dec is not None
    upper = previous if previous is not None else 2**256
    return price_8dec < p.liquidation_price_8dec <= upper


def test_cascade_bad_inputs_are_one_line_errors(
        scanned: tuple[Config, Repository, int, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, _, config_path = scanned
    for argv, code, fix in [
        (["--shock", "abc"], 2, "--shock 'abc': write a signed percentage"),
        (["--shock", "50%"], 2, "--shock '50%': write a signed percentage"),
        (["--shock", "-100%"], 2, "at most -99%"),
        (["--to", "zero"], 2, "--to 'zero': not a price"),
        (["--axis", "DOGE", "--shock", "-5%"], 2, "--axis DOGE: snapshot"),
    ]:
        args = ["--config", str(config_path), "cascade", *argv]
        if "--axis" not in argv:
            args += ["--axis", "ETH"]
        assert main(args) == code, argv
        err = capsys.readouterr().err
        assert fix in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_cascade_curve_stored_served_and_charted(
        scanned: tuple[Config, Repository, int, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, repo, snapshot_id, config_path = scanned
    monkeypatch.setattr(depth_source, "build_depth", _linear_factory)
    assert main(["--config", str(config_path), "cascade", "--axis", "ETH", "--curve",
                 "--json"]) == 0
    points = json.loads(capsys.readouterr().out)
    falls = [p for p in points if p["direction"] == "down"]
    assert [p["shock_bps"] for p in falls] == [-100 * pct for pct in range(1, 41)]
    assert all(p["final_price_8dec"] <= p["shock_price_8dec"] for p in falls)
    # the deeper the shock, the lower the spiral ends on this book
    finals = [p["final_price_8dec"] for p in falls]
    assert finals == sorted(finals, reverse=True)
    stored = load_cascades(repo, snapshot_id, "ETH", curve=True)[:len(points)]
    assert sorted(({k: v for k, v in s.items() if k != "id"} for s in stored),
                  key=lambda p: p["shock_bps"]) == sorted(points, key=lambda p: p["shock_bps"])
    out = tmp_path / "cascade.png"
    assert main(["--config", str(config_path), "chart", "--cascade", "--axis", "ETH",
                 "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
    capsys.readouterr()
    assert main(["--config", str(config_path), "chart", "--cascade", "--axis", "BTC",
                 "--out", str(tmp_path / "btc.png")]) == 2
    err = capsys.readouterr().err
    assert "no stored cascade of BTC" in err and err.count("\n") == 1


EXECUTED_PER_MARKET = 4


def test_aave_liquidations_of_the_first_round_executed_for_real(
        devnet: Devnet, devnet_snapshot: DevnetRpc,
        scanned: tuple[Config, Repository, int, Path]) -> None:
    """The first round's Aave liquidations, executed by the real Pools: the oracle moved to the
    round's price, then `liquidationCall`s of the largest debt against the largest collateral
    until the Pool says HF >= 1 (or refuses). The calls and the collateral the liquidator gets,
    by asset, are what the cascade predicted (to 1e-6: interest accrues over the few seconds
    between the snapshot and the calls)."""
    config, repo, snapshot_id, _ = scanned
    record = repo.get_snapshot(snapshot_id).record
    outcome, _ = asyncio.run(reread_snapshot(config, repo, snapshot_id, record, _linear_factory))
    book = axis_book(outcome.markets, outcome.axes, "ETH")
    shock_8dec = shocked_price_8dec(book.axis.reference_price_8dec, -1_200)
    checked = repeated = 0
    for key, aave in ((AAVE_MARKET_KEY, devnet.aave), (AAVE36_MARKET_KEY, devnet.aave36)):
        assert aave is not None
        picks = _picks([e for e in book.exposures if e.market_key == key], shock_8dec)
        assert picks, key
        snapshot = devnet_snapshot.call("evm_snapshot")
        try:
            _fund_liquidator(devnet_snapshot, aave)
            state, _ = asyncio.run(_read(config, key, devnet_snapshot.block_number(), []))
            (axis,) = [a for a in resolve_axes(config.axes, _assets(state)) if a.name == "ETH"]
            _move_axis(devnet_snapshot, aave, axis, state, picks[0][0].native(shock_8dec))
            for exposure, sale in picks:
                executed = liquidate_until_healthy(devnet_snapshot, config, key, aave,
                                                   exposure.account)
                calls, received = len(executed), _received(executed)
                assert calls == sale.calls, exposure.account
                predicted = {s.asset: s.amount_raw for s in sale.sold}
                assert set(received) == set(predicted), exposure.account
                for asset, amount in predicted.items():
                    assert abs(received[asset] - amount) <= 1 + amount // 10**6, (
                        exposure.account, asset, received[asset], amount)
                checked += 1
                repeated += calls > 1
        finally:
            assert devnet_snapshot.call("evm_revert", [snapshot]) is True
    assert checked == 2 * EXECUTED_PER_MARKET and repeated >= 1


def _picks(exposures: Sequence[Exposure], shock_8dec: int
           ) -> list[tuple[Exposure, LiquidationSale]]:
    """Positions the first round liquidates, those needing several calls first."""
    sales = [(e, s) for e in exposures
             if (s := e.sale(e.curve, e.native(shock_8dec))) is not None]
    sales.sort(key=lambda pair: (-pair[1].calls, pair[0].account))
    return sales[:EXECUTED_PER_MARKET]


def _received(calls: Sequence[ExecutedCall]) -> dict[str, int]:
    """The collateral the liquidator received, by asset."""
    received: dict[str, int] = {}
    for call in calls:
        asset = call.collateral_asset
        received[asset] = received.get(asset, 0) + call.collateral_raw
    return received


def test_first_round_weth_sale_through_the_real_pool(
        devnet: Devnet, devnet_snapshot: DevnetRpc,
        scanned: tuple[Config, Repository, int, Path]) -> None:
    """WETH a first-round liquidation sells, swapped for real through the devnet's Uniswap v3
    WETH/USDC pool: the pool first arbitraged to the shocked price (a price-limited swap),
    then that WETH sold through the SwapRouter. The price it leaves is the one the cascade's
    pool model predicts for that sale (to 1e-9). The devnet's pools are thin next to its book:
    the whole round's WETH walks past the ticks read (the pools-only model refuses it, exit
    65), so the largest single liquidation's sale the pool holds is the one swapped."""
    config, repo, snapshot_id, _ = scanned
    assert config.cascade_depth is not None and devnet.uniswap is not None
    pools_only = dataclasses.replace(config.cascade_depth, model="uniswap")
    record = repo.get_snapshot(snapshot_id).record

    async def build(config: Config, chain: ChainConfig, rpc: RpcClient, block: int
                    ) -> DepthModel:
        return await build_depth_model(pools_only, rpc, block, chain.multicall_address)

    outcome, depth = asyncio.run(reread_snapshot(config, repo, snapshot_id, record, build))
    assert isinstance(depth, UniswapDepth)
    book = axis_book(outcome.markets, outcome.axes, "ETH")
    now = book.axis.reference_price_8dec
    weth = devnet.aave.tokens["WETH"]
    shock_8dec = shocked_price_8dec(now, -500)
    start_usd = book.member_usd_now_8dec[weth] * shock_8dec / now / 10**8
    amount_raw, predicted = _largest_weth_sale_the_pool_takes(book.exposures, shock_8dec, weth,
                                                              depth, start_usd)
    (pool,) = depth.routes[weth]
    weth_is_0 = pool.token0 == weth
    usdc = pool.token1 if weth_is_0 else pool.token0
    # 1. arbitrage to the shocked price: sell WETH into the pool until it stops there
    target_x96 = sqrt_x96_for(pool, weth, start_usd)
    huge = 10**30
    _send_swap(devnet_snapshot, devnet.uniswap.swap_router, weth, usdc, pool.fee_pips, huge,
               target_x96)
    # 2. the round's WETH, sold for real
    receipt = _send_swap(devnet_snapshot, devnet.uniswap.swap_router, weth, usdc,
                         pool.fee_pips, amount_raw, 0)
    (log,) = [lg for lg in receipt["logs"] if lg["topics"][0] == SWAP_TOPIC]
    sqrt_after_x96 = decode(["int256", "int256", "uint160", "uint128", "int24"],
                           bytes.fromhex(log["data"][2:]))[2]
    executed_usd = human_price(pool, weth, sqrt_after_x96)
    assert executed_usd < start_usd
    assert abs(executed_usd - predicted.price_after_usd) <= predicted.price_after_usd * 1e-9


def _largest_weth_sale_the_pool_takes(
        exposures: Sequence[Exposure], shock_8dec: int, weth: str, depth: UniswapDepth,
        start_usd: float) -> tuple[int, SaleResult]:
    amounts = sorted((s.amount_raw for e in exposures
                      if (sale := e.sale(e.curve, e.native(shock_8dec))) is not None
                      for s in e.named(sale.sold) if s.asset == weth), reverse=True)
    for amount_raw in amounts:
        try:
            return amount_raw, depth.sell(weth, amount_raw, start_usd)
        except OutsideReadWindowError:
            continue
    raise AssertionError("no first-round WETH sale fits the pool")


def _send_swap(rpc: DevnetRpc, router: str, token_in: str, token_out: str, fee_pips: int,
               amount_in: int, limit_x96: int) -> dict[str, Any]:
    receipts = rpc.send_many([
        Tx(TRADER, token_in, calldata("mint(uint256)", amount_in)),
        Tx(TRADER, token_in, calldata("approve(address,uint256)", router, amount_in)),
        Tx(TRADER, router, calldata(EXACT_INPUT_SINGLE, (
            token_in, token_out, fee_pips, TRADER, FAR_DEADLINE, amount_in, 0, limit_x96)))])
    receipt: dict[str, Any] = receipts[-1]
    return receipt

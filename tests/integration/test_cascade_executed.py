"""Cascades executed for real on a small dedicated devnet, round by round, against the ones
the engine predicts from the scan of the same pre-shock block.

The devnet: 30 Aave v3 background positions plus clusters of USDC loans against one
collateral each, whose levels lie about $2,450-2,600 in ETH terms (ETH at 3,000): $2M of WETH,
$1.5M of wstETH, $0.8M of rETH; 60 Morpho Blue and 40+40 Comet positions; the real Uniswap v3
pools -- pools only, no external depth, so every price move of the executed path happens on
chain. Each of the first tests follows one collateral: the ETH longs whose axis collateral is
that asset alone (Aave accounts, Morpho <asset>/USDC loans, USDC-Comet accounts), sold along
its route as the engine routes it: WETH through WETH/USDC; an LST through its own pool first,
wstETH/WETH or rETH/WETH, then WETH/USDC (two real hops). The last follows WETH and wstETH
together (every other position of the two books, Aave accounts holding both included; the
devnet's pools run out of liquidity under both whole books): both are seized in the same
rounds and sold as the engine's basket, each wstETH through wstETH/WETH and its WETH into
WETH/USDC, then the WETH into the same WETH/USDC. "The axis price" of the executed path is the
axis reference's, WETH's price on WETH/USDC, taken back to the axis (price / price at the scan
x axis at the scan), as the engine moves it; an LST's own pool moves the LST's market price
only. Other positions are left alone by the executing liquidator, and the prediction runs on
the same book.

Executed, on the node:
  1. the oracle moved to the shocked price (Aave's oracle: Morpho's and the Comets' feeds read
     it), WETH/USDC arbitraged to WETH's shocked price (a price-limited swap); an LST's own pool
     keeps its ratio, as the model has it;
  2. every position of the book the protocol lets liquidate: Aave `liquidationCall`s (largest
     debt against largest collateral, repeated until the Pool says HF >= 1 or refuses),
     Morpho `liquidate` of the whole debt (or of all the collateral when it cannot cover the
     debt with the incentive), Comet `absorb` (the DevnetComet has no `buyCollateral` store
     front: the absorbed collateral is sold on by the test, as the store front's buyer would);
  3. the collateral seized, swapped hop by hop to USDC through the real SwapRouter, the LSTs
     first, then WETH (the engine's basket order);
  4. the oracle set to the price WETH/USDC leaves (how the model moves the axis);
  5. repeat from 2 until a round liquidates nothing.

Compared with the engine's path, every round: the price before and after, the positions
liquidated (exactly), the collateral sold by asset, its USD value and the debt repaid, each
within TOLERANCE = 1e-6 relative. Why not exact: debt accrues interest between the scan block
and each call (blocks are pinned one second apart, so this is deterministic: ~1e-9 of a debt
per block at the devnet's rates, over the few hundred blocks the execution mines; the largest
relative error is on the last, smallest rounds), the oracle takes 8-decimal prices (1e-11 at
$2,000) while the model carries the pool price as a float (1e-15), and USD figures floor to
1e-8 USD. Measured (the test prints it): WETH 2.8e-7 over 9 rounds and 135 liquidations;
wstETH 1.6e-7 over 4 rounds and 72 liquidations; rETH 3.6e-9 over 6 rounds and 11
liquidations; WETH with wstETH 1.9e-7 over 4 rounds (each selling both) and 90 liquidations
-- with the old product of ratios in the engine that one fails.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest

from scanner.cascade.depth import DepthModel
from scanner.cascade.depth_build import build_depth_model
from scanner.cascade.depth_models import UniswapDepth
from scanner.cascade.engine import CascadeResult
from scanner.cascade.exposures import AxisBook, axis_book
from scanner.cascade.live import reread_snapshot
from scanner.cascade.run import cascade_to
from scanner.cascade.shock import shocked_price_8dec
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, Config
from scanner.devnet.network import AAVE_MARKET_KEY, MORPHO_MARKET_KEY, Devnet, seeded_devnet
from scanner.devnet.population import ClusterSpec
from scanner.devnet.rpc import DevnetRpc
from scanner.domain import Direction
from tests.integration.cascade_execution import COMET_USDC, ExecutedRound, execute_cascade
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan
from tests.integration.test_liquidation_call import _read

pytestmark = pytest.mark.integration

SEED = 13
POSITIONS = 30
MORPHO_POSITIONS = 60
COMET_POSITIONS = 40  # per Comet
# loans against USDC of one collateral each, whose levels lie about $2,450-2,600 in ETH terms
# (ETH at 3,000; wstETH at 3,540; rETH at 3,345): the spiral's fuel
CLUSTERS = (ClusterSpec(asset="WETH", total_usd=2_000_000, low_usd=2_450, high_usd=2_600),
            ClusterSpec(asset="wstETH", total_usd=1_500_000, low_usd=2_890, high_usd=3_070),
            ClusterSpec(asset="rETH", total_usd=800_000, low_usd=2_730, high_usd=2_900))
SHOCK_BPS = -1_500
TOLERANCE = Fraction(1, 10**6)  # relative, on every compared price and amount
SOLD = ("WETH", "wstETH", "rETH")  # the collateral each executed cascade follows
BASKET = ("WETH", "wstETH")  # followed together: sold in the same rounds


@dataclass(frozen=True)
class Scanned:
    config: Config
    whole: AxisBook
    depth: UniswapDepth
    block: int


@pytest.fixture(scope="module")
def small() -> Iterator[Devnet]:
    with seeded_devnet(seed=SEED, aave_positions=POSITIONS, clusters=CLUSTERS,
                       morpho_positions=MORPHO_POSITIONS, compound_positions=COMET_POSITIONS,
                       uniswap=True) as net:
        yield net


@pytest.fixture(scope="module")
def scanned(small: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    folder: Path = tmp_path_factory.mktemp("cascade_executed")
    config = devnet_config(small, folder, f"sqlite:///{folder / 'scan.db'}")
    assert config.cascade_depth is not None
    pools_only = dataclasses.replace(config.cascade_depth, model="uniswap")
    repo = fresh_repo(config)
    snapshot_id = scan(config, repo).snapshot_id
    record = repo.get_snapshot(snapshot_id).record

    async def build(config: Config, chain: ChainConfig, rpc: RpcClient, block: int
                    ) -> DepthModel:
        return await build_depth_model(pools_only, rpc, block, chain.multicall_address)

    outcome, depth = asyncio.run(reread_snapshot(config, repo, snapshot_id, record, build))
    assert isinstance(depth, UniswapDepth)
    return Scanned(config, axis_book(outcome.markets, outcome.axes, "ETH"), depth, record.block)


def _longs_of(scanned: Scanned, symbols: tuple[str, ...], tokens: set[str]) -> AxisBook:
    """The longs whose axis collateral is among `tokens` (of `symbols`): Aave accounts, Morpho
    <symbol>/USDC loans, USDC-Comet accounts."""
    whole = scanned.whole
    longs = [e for e in whole.exposures
             if e.market_key == AAVE_MARKET_KEY and e.direction is Direction.DOWN]
    _, accounts = asyncio.run(_read(scanned.config, AAVE_MARKET_KEY, scanned.block,
                                    [e.account for e in longs]))
    members = set(whole.axis.members)
    keep = {a.account for a in accounts if _only(
        {r.asset for r in a.reserves if r.used_as_collateral and r.supplied_raw > 0} & members,
        tokens)}
    morpho = [e for e in whole.exposures
              if e.market_key == MORPHO_MARKET_KEY and e.direction is Direction.DOWN
              and e.curve.collateral.symbol in symbols and e.curve.loan.symbol == "USDC"]
    comet = [e for e in whole.exposures
             if e.market_key == COMET_USDC and e.direction is Direction.DOWN and _only(
                 {a for a, raw in e.curve.user.basic.collateral_raw.items() if raw > 0}
                 & members, tokens)]
    return AxisBook(whole.axis, (*(e for e in longs if e.account in keep), *morpho, *comet),
                    whole.member_usd_now_8dec)


def _only(held: set[str], tokens: set[str]) -> bool:
    """Some axis collateral, all of it among `tokens`."""
    return bool(held) and held <= tokens


def _execute(small: Devnet, scanned: Scanned, book: AxisBook, result: CascadeResult,
             tokens: set[str]) -> list[ExecutedRound]:
    """The cascade played on the node from the scan block, then the node put back."""
    rpc = DevnetRpc(small.rpc_url)
    assert rpc.block_number() == scanned.block, "the scan pinned the devnet's head"
    snapshot = rpc.call("evm_snapshot")
    # one second per mined block, whatever the wall clock: the interest accrued between the
    # scan and each call depends on the number of transactions only
    rpc.call("anvil_setBlockTimestampInterval", [1])
    try:
        return execute_cascade(rpc, scanned.config, small, book, scanned.depth, sorted(tokens),
                               result.shock_price_8dec, scanned.block)
    finally:
        rpc.call("anvil_removeBlockTimestampInterval")
        assert rpc.call("evm_revert", [snapshot]) is True


@pytest.mark.parametrize("symbol", SOLD)
def test_cascade_executed_for_real_matches_the_prediction(
        small: Devnet, scanned: Scanned, symbol: str) -> None:
    token = small.aave.tokens[symbol]
    book = _longs_of(scanned, (symbol,), {token})
    shock_8dec = shocked_price_8dec(scanned.whole.axis.reference_price_8dec, SHOCK_BPS)
    result = cascade_to(book, scanned.depth, shock_8dec, ())
    assert len(book.exposures) >= 10, f"the book followed is the devnet's {symbol} longs"
    assert len(result.rounds) >= 3 and result.converged, "the pools make a spiral"
    by_protocol = Counter(liq.protocol for r in result.rounds for liq in r.liquidations)
    assert by_protocol["aave-v3"] >= 10, by_protocol
    if symbol != "rETH":  # the devnet's Morpho and Comet take no rETH
        assert by_protocol["morpho-blue"] >= 2 and by_protocol["compound-v3"] >= 2, by_protocol
    rounds_of = Counter((liq.market_key, liq.account) for r in result.rounds
                        for liq in r.liquidations)
    if symbol != "rETH":  # the rETH book is small: each position goes in one call
        assert max(rounds_of.values()) > 1, "Aave's close factor leaves positions in play"
    executed = _execute(small, scanned, book, result, {token})
    errors = _compare(result, executed)
    worst = max(errors)
    print(f"\nexecuted {symbol} cascade: {len(executed)} rounds, {dict(by_protocol)} "
          f"liquidations, worst relative error {float(worst):.2e}")
    assert worst <= TOLERANCE, float(worst)
    if symbol != "WETH":  # the LST's own pool moved: the axis followed a two-hop route
        assert result.final_price_8dec < result.shock_price_8dec


def test_weth_and_wsteth_liquidated_in_the_same_rounds_executed_as_one_basket(
        small: Devnet, scanned: Scanned) -> None:
    """The WETH and the wstETH longs in one cascade: both collaterals seized in the same
    rounds, the wstETH swapped through wstETH/WETH and its WETH into WETH/USDC, then the WETH
    into the same WETH/USDC (the engine's basket order); the axis is WETH/USDC's price after
    it all. Aave accounts holding both as collateral are in the book too."""
    tokens = {small.aave.tokens["WETH"], small.aave.tokens["wstETH"]}
    both = _longs_of(scanned, BASKET, tokens)
    # every other one: the devnet's pools hold about $2M of forced selling before they run
    # out of liquidity, the two clusters together are $3.5M
    followed = sorted(both.exposures, key=lambda e: (e.market_key, e.account, e.protocol))
    book = dataclasses.replace(both, exposures=tuple(followed[::2]))
    shock_8dec = shocked_price_8dec(scanned.whole.axis.reference_price_8dec, SHOCK_BPS)
    result = cascade_to(book, scanned.depth, shock_8dec, ())
    assert len(result.rounds) >= 3 and result.converged, "the pools make a spiral"
    together = [r.index for r in result.rounds
                if tokens <= {s.asset for s in r.sold if s.amount_raw > 0}]
    assert len(together) >= 2, "WETH and wstETH sold in the same rounds"
    executed = _execute(small, scanned, book, result, tokens)
    errors = _compare(result, executed)
    worst = max(errors)
    liquidations = sum(r.positions for r in result.rounds)
    print(f"\nexecuted WETH+wstETH basket cascade: {len(executed)} rounds ({len(together)} "
          f"selling both), {liquidations} liquidations, worst relative error {float(worst):.2e}")
    assert worst <= TOLERANCE, float(worst)


def _compare(result: CascadeResult, executed: Sequence[ExecutedRound]) -> list[Fraction]:
    """The relative error of every compared figure; positions and rounds must match exactly."""
    assert len(executed) == len(result.rounds)
    errors: list[Fraction] = []
    for want, got in zip(result.rounds, executed, strict=True):
        assert {(liq.market_key, liq.account) for liq in want.liquidations} == got.accounts, (
            want.index)
        predicted_raw = {s.asset: s.amount_raw for s in want.sold}
        assert set(predicted_raw) == set(got.sold_raw), want.index
        pairs = [(want.price_8dec, got.price_8dec), (want.price_after_8dec, got.price_after_8dec),
                 (want.sold_usd_8dec, got.sold_usd_8dec),
                 (want.debt_repaid_usd_8dec, got.debt_repaid_usd_8dec),
                 *((amount, got.sold_raw[asset]) for asset, amount in predicted_raw.items())]
        errors += [_relative(p, e) for p, e in pairs]
    return errors


def _relative(predicted: int, executed: int) -> Fraction:
    return Fraction(abs(predicted - executed), max(abs(executed), 1))

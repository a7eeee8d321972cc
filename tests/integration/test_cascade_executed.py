"""A cascade executed for real on a small dedicated devnet, round by round, against the one
the engine predicts from the scan of the same pre-shock block.

The devnet: 30 Aave v3 background positions plus a $2M cluster of WETH loans whose levels lie
in [2,450, 2,600] (ETH at 3,000), 60 Morpho Blue and 40+40 Comet positions, and the real
Uniswap v3 pools -- pools only, no external depth, so every price move of the executed path
happens on chain. The book followed is the ETH longs whose axis collateral is WETH alone (Aave
accounts, Morpho WETH/USDC loans, USDC-Comet accounts): WETH is what the WETH/USDC pool prices
directly, so "the axis price" of the executed path is that pool's price, with no modelling
choice between several pools (LST collateral, sold through wstETH/WETH first, is not part of
this test). Other positions are left alone by the executing liquidator, and the prediction
runs on the same book.

Executed, on the node:
  1. the oracle moved to the shocked price (Aave's oracle: Morpho's and the Comets' feeds read
     it), the WETH/USDC pool arbitraged to it (a price-limited swap);
  2. every position of the book the protocol lets liquidate: Aave `liquidationCall`s (largest
     debt against largest collateral, repeated until the Pool says HF >= 1 or refuses),
     Morpho `liquidate` of the whole debt (or of all the collateral when it cannot cover the
     debt with the incentive), Comet `absorb` (the DevnetComet has no `buyCollateral` store
     front: the absorbed collateral is sold on by the test, as the store front's buyer would);
  3. the WETH seized, swapped for USDC through the real SwapRouter;
  4. the oracle set to the pool's price after the swap (how the model moves the axis);
  5. repeat from 2 until a round liquidates nothing.

Compared with the engine's path, every round: the price before and after, the positions
liquidated (exactly), the collateral sold by asset, its USD value and the debt repaid, each
within TOLERANCE = 1e-6 relative. Why not exact: debt accrues interest between the scan block
and each call (blocks are pinned one second apart, so this is deterministic: ~1e-9 of a debt
per block at the devnet's rates, over the few hundred blocks the execution mines; the largest
relative error is on the last, smallest rounds), the oracle takes 8-decimal prices (1e-11 at
$2,000) while the model carries the pool price as a float (1e-15), and USD figures floor to
1e-8 USD. Measured: at most 2.6e-7 over 9 rounds and 135 liquidations (the test prints it).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.cascade.depth import DepthModel
from scanner.cascade.depth_build import build_depth_model
from scanner.cascade.depth_models import UniswapDepth, human_price, sqrt_x96_for
from scanner.cascade.engine import CascadeResult
from scanner.cascade.exposures import AxisBook, axis_book
from scanner.cascade.live import reread_snapshot
from scanner.cascade.run import cascade_to
from scanner.cascade.shock import shocked_price_8dec
from scanner.cascade.uniswap_v3 import PoolState
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, Config
from scanner.devnet.aave import AaveDeployment
from scanner.devnet.morpho import MARKET_PARAMS, MorphoMarket
from scanner.devnet.network import (
    AAVE_MARKET_KEY,
    COMPOUND_MARKET_PREFIX,
    MORPHO_MARKET_KEY,
    Devnet,
    seeded_devnet,
)
from scanner.devnet.population import ClusterSpec
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.domain import Direction
from scanner.pipeline.axes import resolve_axes
from scanner.protocols.aave_v3.generic_logic import account_totals
from scanner.protocols.aave_v3.rule import liquidation_call_at
from scanner.protocols.aave_v3.state import AaveMarketState
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan
from tests.integration.test_cascade import _send_swap
from tests.integration.test_liquidation_call import (
    LIQUIDATOR,
    _assets,
    _executed,
    _fund_liquidator,
    _move_axis,
    _read,
)
from tests.integration.test_morpho_rule_truth import HEALTHY
from tests.integration.test_uniswap_depth import SWAP_TOPIC

pytestmark = pytest.mark.integration

SEED = 13
POSITIONS = 30
MORPHO_POSITIONS = 60
COMET_POSITIONS = 40  # per Comet
COMET_USDC = f"{COMPOUND_MARKET_PREFIX}usdc"
# WETH loans against USDC whose levels lie in [2,450, 2,600] (ETH at 3,000): the spiral's fuel
CLUSTER = ClusterSpec(asset="WETH", total_usd=2_000_000, low_usd=2_450, high_usd=2_600)
SHOCK_BPS = -1_500
TOLERANCE = Fraction(1, 10**6)  # relative, on every compared price and amount
MAX_EXECUTED_ROUNDS = 50
ABSORB_COLLATERAL_TOPIC = "0x" + keccak(
    b"AbsorbCollateral(address,address,address,uint256,uint256)").hex()
MORPHO_LIQUIDATE_TOPIC = "0x" + keccak(
    b"Liquidate(bytes32,address,address,uint256,uint256,uint256,uint256,uint256)").hex()


@dataclass
class ExecutedRound:
    price_8dec: int
    accounts: set[tuple[str, str]] = field(default_factory=set)  # (market key, account)
    sold_raw: dict[str, int] = field(default_factory=dict)
    sold_usd_8dec: int = 0
    debt_repaid_usd_8dec: int = 0
    price_after_8dec: int = 0


@pytest.fixture(scope="module")
def small() -> Iterator[Devnet]:
    with seeded_devnet(seed=SEED, aave_positions=POSITIONS, clusters=(CLUSTER,),
                       morpho_positions=MORPHO_POSITIONS, compound_positions=COMET_POSITIONS,
                       uniswap=True) as net:
        yield net


@pytest.fixture(scope="module")
def predicted(small: Devnet, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Config, AxisBook, UniswapDepth, CascadeResult, int]:
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
    whole = axis_book(outcome.markets, outcome.axes, "ETH")
    book = _weth_longs(config, whole, small.aave, record.block)
    shock_8dec = shocked_price_8dec(whole.axis.reference_price_8dec, SHOCK_BPS)
    result = cascade_to(book, depth, shock_8dec, ())
    return config, book, depth, result, record.block


def _weth_longs(config: Config, whole: AxisBook, aave: AaveDeployment, block: int) -> AxisBook:
    """The longs whose only axis collateral is WETH: Aave accounts, Morpho WETH/USDC loans."""
    longs = [e for e in whole.exposures
             if e.market_key == AAVE_MARKET_KEY and e.direction is Direction.DOWN]
    _, accounts = asyncio.run(_read(config, AAVE_MARKET_KEY, block, [e.account for e in longs]))
    members = set(whole.axis.members)
    weth = aave.tokens["WETH"]
    keep = {a.account for a in accounts
            if {r.asset for r in a.reserves if r.used_as_collateral and r.supplied_raw > 0}
            & members == {weth}}
    morpho = [e for e in whole.exposures
              if e.market_key == MORPHO_MARKET_KEY and e.direction is Direction.DOWN
              and e.curve.collateral.symbol == "WETH" and e.curve.loan.symbol == "USDC"]
    comet = [e for e in whole.exposures
             if e.market_key == COMET_USDC and e.direction is Direction.DOWN
             and {a for a, raw in e.curve.user.basic.collateral_raw.items() if raw > 0}
             & members == {weth}]
    return AxisBook(whole.axis, (*(e for e in longs if e.account in keep), *morpho, *comet),
                    whole.member_usd_now_8dec)


def test_cascade_executed_for_real_matches_the_prediction(
        small: Devnet, predicted: tuple[Config, AxisBook, UniswapDepth, CascadeResult, int]
) -> None:
    config, book, depth, result, block = predicted
    assert len(book.exposures) >= 10, "the book followed is the devnet's WETH longs"
    assert len(result.rounds) >= 3 and result.converged, "the pools make a spiral"
    by_protocol = Counter(liq.protocol for r in result.rounds for liq in r.liquidations)
    assert by_protocol["aave-v3"] >= 10 and by_protocol["morpho-blue"] >= 2, by_protocol
    assert by_protocol["compound-v3"] >= 2, by_protocol
    rounds_of = Counter((liq.market_key, liq.account) for r in result.rounds
                        for liq in r.liquidations)
    assert max(rounds_of.values()) > 1, "Aave's close factor leaves positions in play"
    rpc = DevnetRpc(small.rpc_url)
    assert rpc.block_number() == block, "the scan pinned the devnet's head"
    snapshot = rpc.call("evm_snapshot")
    # one second per mined block, whatever the wall clock: the interest accrued between the
    # scan and each call depends on the number of transactions only
    rpc.call("anvil_setBlockTimestampInterval", [1])
    try:
        executed = _execute(rpc, config, small, book, depth, result.shock_price_8dec, block)
    finally:
        rpc.call("anvil_removeBlockTimestampInterval")
        assert rpc.call("evm_revert", [snapshot]) is True
    errors = _compare(result, executed, small.aave)
    worst = max(errors)
    print(f"\nexecuted cascade: {len(executed)} rounds, {dict(by_protocol)} liquidations, "
          f"worst relative error {float(worst):.2e}")
    assert worst <= TOLERANCE, float(worst)


def _execute(rpc: DevnetRpc, config: Config, net: Devnet, book: AxisBook, depth: UniswapDepth,
             shock_8dec: int, block: int) -> list[ExecutedRound]:
    aave = net.aave
    assert net.uniswap is not None
    state, _ = asyncio.run(_read(config, AAVE_MARKET_KEY, block, []))
    (axis,) = [a for a in resolve_axes(config.axes, _assets(state)) if a.name == "ETH"]
    weth = aave.tokens["WETH"]
    (pool,) = depth.routes[weth]
    usdc = pool.token1 if pool.token0 == weth else pool.token0
    weth_now_8dec = book.member_usd_now_8dec[weth]
    _fund_liquidator(rpc, aave)
    _arbitrage_to(rpc, net.uniswap.swap_router, pool, weth, usdc,
                  weth_now_8dec * shock_8dec / axis.reference_price_8dec / 10**8)
    morpho = _morpho_weth_usdc(net)
    rpc.send(Tx(LIQUIDATOR, aave.tokens["USDC"], calldata(
        "approve(address,uint256)", morpho.morpho, 2**256 - 1)))
    aave_accounts = sorted(e.account for e in book.exposures if e.market_key == AAVE_MARKET_KEY)
    morpho_accounts = sorted(e.account for e in book.exposures
                             if e.market_key == MORPHO_MARKET_KEY)
    assert net.compound is not None
    comet = net.compound.comet("usdc").comet
    comet_accounts = sorted(e.account for e in book.exposures if e.market_key == COMET_USDC)
    rounds: list[ExecutedRound] = []
    price_8dec = shock_8dec
    for _ in range(MAX_EXECUTED_ROUNDS):
        _move_axis(rpc, aave, axis, state, price_8dec)
        current = ExecutedRound(price_8dec)
        for account in aave_accounts:
            _liquidate_until_healthy(rpc, config, aave, account, current)
        moved, _ = asyncio.run(_read(config, AAVE_MARKET_KEY, rpc.block_number(), []))
        for account in morpho_accounts:
            _morpho_liquidate(rpc, moved, morpho, account, current)
        for account in comet_accounts:
            _comet_absorb(rpc, moved, comet, account, current)
        if not current.accounts:
            return rounds
        sold_weth = current.sold_raw.get(weth, 0)
        receipt = _send_swap(rpc, net.uniswap.swap_router, weth, usdc, pool.fee_pips,
                             sold_weth, 0)
        usd_after = human_price(pool, weth, _sqrt_after(receipt))
        price_8dec = int(Fraction(usd_after) * 10**8 * axis.reference_price_8dec
                         / weth_now_8dec)
        current.price_after_8dec = price_8dec
        rounds.append(current)
    raise AssertionError("the executed cascade did not stop")


def _arbitrage_to(rpc: DevnetRpc, router: str, pool: PoolState, weth: str, usdc: str,
                  weth_usd: float) -> None:
    """Sell WETH into the pool until it prices WETH at `weth_usd` (arbitrage after a shock)."""
    target_x96 = sqrt_x96_for(pool, weth, weth_usd)
    assert human_price(pool, weth, pool.sqrt_x96) > weth_usd, "a shock down: the pool is above"
    receipt = _send_swap(rpc, router, weth, usdc, pool.fee_pips, 10**30, target_x96)
    assert _sqrt_after(receipt) == target_x96


def _sqrt_after(receipt: dict[str, Any]) -> int:
    (log,) = [lg for lg in receipt["logs"] if lg["topics"][0] == SWAP_TOPIC]
    sqrt_x96: int = decode(["int256", "int256", "uint160", "uint128", "int24"],
                           bytes.fromhex(log["data"][2:]))[2]
    return sqrt_x96


def _liquidate_until_healthy(rpc: DevnetRpc, config: Config, aave: AaveDeployment,
                             account: str, into: ExecutedRound) -> None:
    """Real liquidationCalls on `account` while the Pool allows them, booked into `into`."""
    for _ in range(64):
        state, read = asyncio.run(_read(config, AAVE_MARKET_KEY, rpc.block_number(), [account]))
        if not read:  # no debt left: closed
            return
        (position,) = read
        if account_totals(position, state).health_factor_wad >= 10**18:
            return
        (moved,) = [a for a in resolve_axes(config.axes, _assets(state)) if a.name == "ETH"]
        model = liquidation_call_at(position, state, moved, moved.reference_price_8dec)
        if model is None:
            return
        receipt = rpc.send(Tx(LIQUIDATOR, aave.pool, calldata(
            "liquidationCall(address,address,address,uint256,bool)",
            model.collateral_asset, model.debt_asset, account, 2**256 - 1, False)))
        debt_raw, collateral_raw, _ = _executed(receipt, aave, model, account)
        into.accounts.add((AAVE_MARKET_KEY, account))
        asset = model.collateral_asset
        into.sold_raw[asset] = into.sold_raw.get(asset, 0) + collateral_raw
        into.sold_usd_8dec += _usd_8dec(state, asset, collateral_raw)
        into.debt_repaid_usd_8dec += _usd_8dec(state, model.debt_asset, debt_raw)


def _morpho_weth_usdc(net: Devnet) -> _MorphoMarket:
    assert net.morpho is not None
    (market,) = [m for m in net.morpho.markets
                 if m.collateral_symbol == "WETH" and m.loan_symbol == "USDC"]
    return _MorphoMarket(net.morpho.morpho, market)


@dataclass(frozen=True)
class _MorphoMarket:
    morpho: str
    market: MorphoMarket


def _morpho_liquidate(rpc: DevnetRpc, state: AaveMarketState, where: _MorphoMarket,
                      borrower: str, into: ExecutedRound) -> None:
    """A real `liquidate` of the whole debt (or of all the collateral, when it does not cover
    the debt with the incentive), if Morpho allows one at the oracle's price."""
    market = where.market
    _, borrow_shares, collateral_raw = decode(["uint256", "uint128", "uint128"], rpc.eth_call(
        where.morpho, calldata("position(bytes32,address)", bytes.fromhex(market.market_id[2:]),
                               borrower)))
    if borrow_shares == 0 or collateral_raw == 0:
        return
    args: tuple[int, int] = (0, borrow_shares)
    try:
        rpc.call("eth_call", [{"from": LIQUIDATOR, "to": where.morpho, "gas": hex(3_000_000),
                               "data": _liquidate_data(market, borrower, *args)}, "latest"])
    except RpcCallError as exc:
        if HEALTHY in str(exc):
            return
        args = (collateral_raw, 0)  # the debt is worth more than the collateral can pay for
    receipt = rpc.send(Tx(LIQUIDATOR, where.morpho, _liquidate_data(market, borrower, *args)))
    (log,) = [lg for lg in receipt["logs"] if lg["topics"][0] == MORPHO_LIQUIDATE_TOPIC]
    repaid_raw, _, seized_raw, _, _ = decode(["uint256"] * 5, bytes.fromhex(log["data"][2:]))
    into.accounts.add((MORPHO_MARKET_KEY, borrower))
    weth = market.collateral_token
    into.sold_raw[weth] = into.sold_raw.get(weth, 0) + seized_raw
    into.sold_usd_8dec += _usd_8dec(state, weth, seized_raw)
    into.debt_repaid_usd_8dec += _usd_8dec(state, market.loan_token, repaid_raw)


def _comet_absorb(rpc: DevnetRpc, state: AaveMarketState, comet: str, account: str,
                  into: ExecutedRound) -> None:
    """A real `absorb`, if the Comet allows it: all the collateral is seized and reaches the
    market (the DevnetComet has no `buyCollateral` store front: the test sells it on as its
    buyer would), the debt is cleared."""
    (liquidatable,) = decode(["bool"], rpc.eth_call(comet, calldata(
        "isLiquidatable(address)", account)))
    if not liquidatable:
        return
    (debt_raw,) = decode(["uint256"], rpc.eth_call(comet, calldata(
        "borrowBalanceOf(address)", account)))
    receipt = rpc.send(Tx(LIQUIDATOR, comet, calldata(
        "absorb(address,address[])", LIQUIDATOR, [account])))
    into.accounts.add((COMET_USDC, account))
    for log in receipt["logs"]:
        if log["topics"][0] != ABSORB_COLLATERAL_TOPIC:
            continue
        asset = to_checksum_address("0x" + log["topics"][3][-40:])
        seized_raw, _ = decode(["uint256", "uint256"], bytes.fromhex(log["data"][2:]))
        into.sold_raw[asset] = into.sold_raw.get(asset, 0) + seized_raw
        into.sold_usd_8dec += _usd_8dec(state, asset, seized_raw)
    base = decode(["address"], rpc.eth_call(comet, calldata("baseToken()")))[0]
    into.debt_repaid_usd_8dec += _usd_8dec(state, to_checksum_address(base), debt_raw)


def _liquidate_data(market: MorphoMarket, borrower: str, seized_raw: int, shares: int) -> str:
    return calldata(f"liquidate({MARKET_PARAMS},address,uint256,uint256,bytes)",
                    market.params, borrower, seized_raw, shares, b"")


def _usd_8dec(state: AaveMarketState, asset: str, amount_raw: int) -> int:
    reserve = state.reserves[asset]
    return amount_raw * reserve.price_8dec // 10**reserve.decimals


def _compare(result: CascadeResult, executed: Sequence[ExecutedRound], aave: AaveDeployment
             ) -> list[Fraction]:
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

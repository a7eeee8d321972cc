"""Maker and Liquity v1/v2 liquidations of a cascade's shock round executed for real on the
session devnet's own contracts (contracts/src/DevnetMaker*, DevnetLiquity*, DevnetBold*),
against what the cascade engine predicts from the scan of the same block.

Executed, after the shock (-12% on the ETH axis), on the node, Liquity v2 first at the scan
block's timestamp (blocks zero seconds apart), then the others in blocks one second apart:
  - Maker: each ETH-axis ilk dripped (as a keeper does first) and its OSM current value set to
    the shocked price (what the engine's curve takes: `val x x / now`), the Spotter poked, then
    `Dog.bark` of every urn of the book (a revert is "not liquidated"): each bark kicks an
    auction on the ilk's Clipper (the Bark and Kick events give lot, tab, top and tic);
  - Liquity v1: the PriceFeed set to the shocked price, `liquidate(borrower)` of every trove,
    in passes until one liquidates nothing (a redistribution can push a trove passed over);
    the debt offset is the Stability Pool's fall;
  - Liquity v2: each live branch's feed set to the shocked price, `batchLiquidateTroves([id])`
    of every trove, in passes likewise, first of all and in blocks at the scan block's time
    (no interest accrues); the branch's Stability Pool holds deposits that cover part of
    them: the debt offset is the pool's fall (`getTotalBoldDeposits`), and the real
    `Liquidation` event gives the debt offset and redistributed per call;
  - Maker's auctions (after Liquity: 28.5 minutes pass): a keeper with real DAI (its own urn,
    frobbed) takes each whole at the first price step at or below the feed price it was kicked
    from -- the moment the engine's keeper takes at -- then barks again (the takes gave the
    room back, as the engine's next round has it) until nothing is barked; it exits the gem it
    bought (GemJoin.exit) and sells the WETH through the real WETH/USDC pool, arbitraged first
    to the shocked price.
Predicted: `cascade_to` with a market of no impact, so every round stays at the shocked price;
its rounds summed per position (the engine asks troves a redistribution pushed under again in
the next round). Compared: the urns and Liquity v1 troves liquidated, exactly; Maker's debt
taken (`dart x rate`) per urn and the gem the keeper bought -- what the engine sells on the
market: min(lot, tab / price) -- by asset, within TOLERANCE = 1e-6 (the interest of the
seconds between the scan and the drip; measured 2.8e-9 over 84 urns); every take at the
engine's price (step 19, the step before above the feed), paying exactly the engine's take
rule, the bad debt per urn the engine's; the price the WETH sale leaves in the pool the
pools-only model's for the engine's WETH (measured 4.7e-10); Liquity sells nothing; Liquity
v1's Stability Pool offset per trove, exactly (the engine uses the pool up and follows the
redistributions: measured equal for all 57 troves); Liquity v2: the troves liquidated,
exactly (the engine follows each branch's redistributions by stake, so the troves they push
under are predicted too), and per trove the debt offset (repaid) and the debt redistributed,
exactly: the engine draws each branch's pool down as the contract does (measured equal for
all 93 troves: 29 offset whole, 2 in part, 62 redistributed whole; 699,998 BOLD offset,
1,451,476.55 redistributed).
What is not executed: the rounds the WETH sale's impact would set off (the prediction is at
the shocked price; tests/integration/test_cascade_executed.py plays whole cascades for the
lending protocols), and the wstETH bought is exited but not sold (its route ends in the same
WETH/USDC pool, which the engine walks apart for each member).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import pytest
from eth_abi.abi import decode
from eth_utils.crypto import keccak

from scanner.cascade.depth import DepthModel
from scanner.cascade.depth_build import build_depth_model
from scanner.cascade.depth_models import UniswapDepth, human_price
from scanner.cascade.engine import CascadeRound, Exposure, PositionLiquidation
from scanner.cascade.exposures import AxisBook, axis_book
from scanner.cascade.live import reread_snapshot
from scanner.cascade.run import cascade_to
from scanner.cascade.sale import merge_sold
from scanner.cascade.shock import shocked_price_8dec
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, Config
from scanner.devnet.liquity1 import Liquity1Deployment, set_price
from scanner.devnet.liquity2 import trove_account
from scanner.devnet.maker import HOLE_TOTAL_DAI, RAD, b32
from scanner.devnet.network import (
    LIQUITY1_MARKET_KEY,
    LIQUITY2_MARKET_KEY,
    MAKER_MARKET_KEY,
    Devnet,
)
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.devnet.uniswap import FAR_DEADLINE
from scanner.domain import Direction
from scanner.protocols.maker.auction import stairstep_price, take_whole
from tests.integration.cascade_execution import Routes, _arbitrage_to, swap_out
from tests.integration.maker_auctions import (
    KEEPER,
    PARAMS,
    Auction,
    Taken,
    bark,
    dirt_rad,
    exit_gem,
    fund_keeper,
    take_all,
)
from tests.integration.maker_helpers import OSM_CUR_SLOT
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan
from tests.integration.test_uniswap_depth import EXACT_INPUT_SINGLE
from tests.unit.cascade_fixtures import LinearDepth

pytestmark = pytest.mark.integration

SHOCK_BPS = -1_200
TOLERANCE = Fraction(1, 10**6)  # the interest of the seconds between scan and bark
CDP_MARKETS = (MAKER_MARKET_KEY, LIQUITY1_MARKET_KEY, LIQUITY2_MARKET_KEY)
V2_LIQUIDATION_TOPIC = "0x" + keccak(b"Liquidation(" + b",".join([b"uint256"] * 10) + b")").hex()
WAD_TO_8DEC = 10**10


def _first_round(devnet: Devnet, folder: Path
                 ) -> tuple[AxisBook, CascadeRound, int, UniswapDepth]:
    """The book, the engine's rounds at the shocked price (a market of no impact) merged,
    the shocked price, and the devnet's pools as the pools-only model reads them at the scan
    block (what the gem's sale is checked against)."""
    config = devnet_config(devnet, folder, f"sqlite:///{folder / 'scan.db'}")
    repo = fresh_repo(config)
    snapshot_id = scan(config, repo).snapshot_id
    record = repo.get_snapshot(snapshot_id).record
    assert config.cascade_depth is not None
    pools_only = dataclasses.replace(config.cascade_depth, model="uniswap")

    async def build(config: Config, chain: ChainConfig, rpc: RpcClient, block: int
                    ) -> DepthModel:
        return await build_depth_model(pools_only, rpc, block, chain.multicall_address)

    outcome, pools = asyncio.run(reread_snapshot(config, repo, snapshot_id, record, build))
    assert isinstance(pools, UniswapDepth)
    depth = LinearDepth(0.0)  # every round at the shocked price
    whole = axis_book(outcome.markets, outcome.axes, "ETH")
    book = AxisBook(whole.axis, tuple(e for e in whole.exposures if e.market_key in CDP_MARKETS
                                      and e.direction is Direction.DOWN),
                    whole.member_usd_now_8dec)
    shock_8dec = shocked_price_8dec(whole.axis.reference_price_8dec, SHOCK_BPS)
    result = cascade_to(book, depth, shock_8dec, ())
    assert all(r.price_8dec == shock_8dec for r in result.rounds), "a market with no impact"
    return book, _merged(result.rounds), shock_8dec, pools


def _merged(rounds: Sequence[CascadeRound]) -> CascadeRound:
    """The rounds at the shocked price as one: every position's liquidations summed (the
    engine asks troves a redistribution pushed under again in the next round)."""
    by_position: dict[tuple[str, str], PositionLiquidation] = {}
    for r in rounds:
        for liq in r.liquidations:
            key = (liq.market_key, liq.account)
            seen = by_position.get(key)
            by_position[key] = liq if seen is None else dataclasses.replace(
                seen, calls=seen.calls + liq.calls,
                sold_usd_8dec=seen.sold_usd_8dec + liq.sold_usd_8dec,
                debt_repaid_usd_8dec=seen.debt_repaid_usd_8dec + liq.debt_repaid_usd_8dec,
                debt_redistributed_usd_8dec=seen.debt_redistributed_usd_8dec
                + liq.debt_redistributed_usd_8dec)
    return dataclasses.replace(rounds[0], liquidations=tuple(by_position.values()),
                               sold=merge_sold([s for r in rounds for s in r.sold]))


def test_maker_and_liquity_liquidations_of_the_shock_round_executed_for_real(
        devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path) -> None:
    rpc = devnet_snapshot
    book, predicted, shock_8dec, depth = _first_round(devnet, tmp_path)
    by_key = {key: [e for e in book.exposures if e.market_key == key] for key in CDP_MARKETS}
    assert all(len(v) >= 5 for v in by_key.values()), {k: len(v) for k, v in by_key.items()}
    want = {(liq.market_key, liq.account): liq for liq in predicted.liquidations}
    assert {k for k, _ in want} == set(CDP_MARKETS), "the shock liquidates in every protocol"
    urns = by_key[MAKER_MARKET_KEY]
    redistributed: dict[tuple[str, str], int] = {}
    # Liquity v2 first, its blocks at the scan block's time: no interest accrues between the
    # scan and the liquidations, so the debts split are the scanned ones to the wei
    rpc.call("anvil_setBlockTimestampInterval", [0])
    try:
        v2_got = _liquidate_v2(rpc, devnet, by_key[LIQUITY2_MARKET_KEY], shock_8dec,
                               redistributed)
        assert _timestamp(rpc) == by_key[LIQUITY2_MARKET_KEY][0].curve.branch.timestamp
        rpc.call("anvil_setBlockTimestampInterval", [1])
        val_of = _set_maker_prices(rpc, devnet, urns, shock_8dec)
        first = _bark_all(rpc, devnet, urns)
        got = {**_liquidate_v1(rpc, devnet, by_key[LIQUITY1_MARKET_KEY], shock_8dec),
               **v2_got}
        # the takes come 28.5 minutes after the barks
        taken = _maker_rounds(rpc, devnet, urns, val_of, first)
    finally:
        rpc.call("anvil_removeBlockTimestampInterval")
    got.update(_per_urn(taken))
    maker_got = {k for k in got if k[0] == MAKER_MARKET_KEY}
    assert maker_got == {k for k in want if k[0] == MAKER_MARKET_KEY}
    # Liquity: what the pool does not offset is redistributed to the other troves, which can
    # push more of them under the MCR at the same price; both ledgers follow them
    assert set(got) == set(want), (sorted(set(got) - set(want)), sorted(set(want) - set(got)))
    v2 = [k for k in got if k[0] == LIQUITY2_MARKET_KEY]
    print(f"\nshock round: {len(want)} liquidations predicted, all executed, none more "
          f"({len(v2)} Liquity v2 troves)")
    maker_sold = {s.asset: s.amount_raw for s in predicted.sold}
    errors: list[Fraction] = []
    executed_sold: dict[str, int] = {}
    for (key, account), (sold, repaid_usd_8dec) in got.items():
        for asset, raw in sold.items():
            executed_sold[asset] = executed_sold.get(asset, 0) + raw
        if key == MAKER_MARKET_KEY:
            predicted_8dec = want[key, account].debt_repaid_usd_8dec
            errors.append(Fraction(abs(repaid_usd_8dec - predicted_8dec), predicted_8dec))
        if key != MAKER_MARKET_KEY:
            assert not sold, (key, account)  # Liquity sells nothing
    assert all(liq.sold_usd_8dec == 0
               for liq in predicted.liquidations if liq.market_key == LIQUITY2_MARKET_KEY)
    assert executed_sold.keys() == maker_sold.keys()
    errors += [Fraction(abs(executed_sold[a] - raw), raw) for a, raw in maker_sold.items()]
    print(f"Maker: {len(maker_got)} urns barked, {len(taken)} auctions taken, worst relative "
          f"error (debt taken, gem sold) {float(max(errors)):.2e}")
    assert max(errors) <= TOLERANCE, "the gem the keeper bought is what the engine sells"
    _check_takes(taken, val_of, want)
    _check_offsets(predicted, got)
    _check_v2_split(predicted, got, redistributed)
    _check_the_pool_sale(rpc, devnet, depth, book, shock_8dec, maker_sold, taken)


def _check_takes(taken: Sequence[Taken], val_of: dict[str, int],
                 want: dict[tuple[str, str], PositionLiquidation]) -> None:
    """Every take at the price the engine's keeper takes at (the first step at or below the
    feed: the step before is above it), paying what the engine's take rule pays, and the bad
    debt per urn (dart x rate the DAI paid does not cover) the engine's."""
    owe_rad = due_rad = 0
    bad_8dec: dict[str, int] = {}
    for t in taken:
        a = t.auction
        feed_ray = val_of[a.ilk.name] * 10**9
        step = PARAMS.step_s
        before = stairstep_price(a.top_ray, (t.steps - 1) * step, step, PARAMS.cut_ray)
        assert t.price_ray <= feed_ray < before, "taken at the first step at or below the feed"
        assert (t.owe_rad, t.slice_wad) == take_whole(a.tab_rad, a.lot_wad, t.price_ray)
        owe_rad += t.owe_rad
        due_rad += a.due_rad
        bad_8dec[a.urn] = bad_8dec.get(a.urn, 0) + max(a.due_rad - t.owe_rad, 0) // 10**37
    for (key, account), liq in want.items():
        if key == MAKER_MARKET_KEY:  # the seconds of interest: within TOLERANCE of the debt
            assert abs(bad_8dec[account] - liq.bad_debt_usd_8dec) <= (
                TOLERANCE * liq.debt_repaid_usd_8dec), account
    steps = sorted({t.steps for t in taken})
    print(f"Maker auctions taken at step(s) {steps} ({steps[0] * PARAMS.step_s} s after the "
          f"kick): DAI paid {owe_rad / 10**45:,.0f} for {due_rad / 10**45:,.0f} of debt taken, "
          f"bad debt {sum(bad_8dec.values()) / 10**8:,.0f} as predicted")


def _check_offsets(predicted: CascadeRound, got: dict[tuple[str, str], tuple[dict[str, int],
                                                                             int]]) -> None:
    """Liquity v1: the Stability Pool's offset per trove, as the engine uses the pool up."""
    v1 = [liq for liq in predicted.liquidations if liq.market_key == LIQUITY1_MARKET_KEY]
    executed = [got[LIQUITY1_MARKET_KEY, liq.account][1] for liq in v1]
    exact = sum(liq.debt_repaid_usd_8dec == e for liq, e in zip(v1, executed, strict=True))
    total = Fraction(abs(sum(liq.debt_repaid_usd_8dec for liq in v1) - sum(executed)),
                     max(sum(executed), 1))
    print(f"\nLiquity v1: {len(v1)} troves liquidated, offset as predicted for {exact}; "
          f"total offset relative error {float(total):.2e}")
    assert exact == len(v1) and total == 0, float(total)


def _check_v2_split(predicted: CascadeRound,
                    got: dict[tuple[str, str], tuple[dict[str, int], int]],
                    redistributed: dict[tuple[str, str], int]) -> None:
    """Liquity v2: per trove, the debt offset against the branch's pool (repaid) and the debt
    redistributed, executed against predicted."""
    v2 = [liq for liq in predicted.liquidations if liq.market_key == LIQUITY2_MARKET_KEY]
    want = [(liq.debt_repaid_usd_8dec, liq.debt_redistributed_usd_8dec) for liq in v2]
    executed = [(got[LIQUITY2_MARKET_KEY, liq.account][1],
                 redistributed[LIQUITY2_MARKET_KEY, liq.account]) for liq in v2]
    whole = sum(o > 0 and r == 0 for o, r in executed)
    part = sum(o > 0 and r > 0 for o, r in executed)
    none = sum(o == 0 for o, _ in executed)
    exact = sum(w == e for w, e in zip(want, executed, strict=True))
    print(f"Liquity v2: {len(v2)} troves liquidated ({whole} offset whole, {part} in part, "
          f"{none} redistributed whole); offset and redistributed debt as predicted for "
          f"{exact}; offset {sum(o for o, _ in executed) / 1e8:,.2f} BOLD executed, "
          f"{sum(o for o, _ in want) / 1e8:,.2f} predicted; redistributed "
          f"{sum(r for _, r in executed) / 1e8:,.2f} executed, "
          f"{sum(r for _, r in want) / 1e8:,.2f} predicted")
    assert whole + part > 0 and part + none > 0, "the pools cover part of the shock, not all"
    assert exact == len(v2), [(liq.account, w, e) for liq, w, e in zip(v2, want, executed,
                                                                       strict=True) if w != e]


def _set_maker_prices(rpc: DevnetRpc, devnet: Devnet, urns: Sequence[Exposure],
                      shock_8dec: int) -> dict[str, int]:
    """Each ilk's OSM current value set to the shocked price, dripped and poked as a keeper
    does first (the engine takes the rate the Jug would charge at the scan); the values set."""
    maker = devnet.maker
    assert maker is not None
    ilk_of = {urn: ilk for ilk, urn in maker.borrowers}
    val_of: dict[str, int] = {}
    for name in sorted({ilk_of[e.account] for e in urns}):
        first = next(e for e in urns if ilk_of[e.account] == name)
        val_of[name] = first.curve.val_wad(first.native(shock_8dec))
        rpc.call("anvil_setStorageAt", [maker.ilk(name).pip, OSM_CUR_SLOT, "0x" + (
            val_of[name] | 1 << 128).to_bytes(32, "big").hex()])
        rpc.send_many([Tx(KEEPER, maker.jug, calldata("drip(bytes32)", b32(name))),
                       Tx(maker.deployer, maker.spotter, calldata("poke(bytes32)", b32(name)))])
    return val_of


def _bark_all(rpc: DevnetRpc, devnet: Devnet, urns: Sequence[Exposure]) -> list[Auction]:
    """`Dog.bark` of every urn, in the book's order (a revert is "not liquidated")."""
    maker = devnet.maker
    assert maker is not None
    ilk_of = {urn: ilk for ilk, urn in maker.borrowers}
    kicked = (bark(rpc, maker, maker.ilk(ilk_of[e.account]), e.account) for e in urns)
    return [a for a in kicked if a is not None]


def _maker_rounds(rpc: DevnetRpc, devnet: Devnet, urns: Sequence[Exposure],
                  val_of: dict[str, int], first: list[Auction]) -> list[Taken]:
    """The auctions of the first barks taken, then barks again (the takes gave the room back,
    as the engine's next round has it) and taken, until a pass barks nothing."""
    maker = devnet.maker
    assert maker is not None
    tabs_rad = sum(a.tab_rad for a in first)
    fund_keeper(rpc, maker, 2 * tabs_rad + HOLE_TOTAL_DAI * RAD, val_of["ETH-A"])
    taken: list[Taken] = []
    auctions = first
    while auctions:
        taken += take_all(rpc, auctions, val_of)
        auctions = _bark_all(rpc, devnet, urns)
    assert dirt_rad(rpc, maker) == 0, "every auction taken whole gave its room back"
    return taken


def _per_urn(taken: Sequence[Taken]) -> dict[tuple[str, str], tuple[dict[str, int], int]]:
    """(gem bought by the keeper -- what reaches the market --, debt taken) per urn."""
    out: dict[tuple[str, str], tuple[dict[str, int], int]] = {}
    for t in taken:
        a = t.auction
        sold, due_rad = out.get((MAKER_MARKET_KEY, a.urn), ({}, 0))
        sold = {a.ilk.gem: sold.get(a.ilk.gem, 0) + t.slice_wad}
        out[MAKER_MARKET_KEY, a.urn] = (sold, due_rad + a.due_rad)
    return {k: (sold, due_rad // 10**27 // WAD_TO_8DEC) for k, (sold, due_rad) in out.items()}


def _liquidate_v1(rpc: DevnetRpc, devnet: Devnet, troves: Sequence[Exposure], shock_8dec: int
                  ) -> dict[tuple[str, str], tuple[dict[str, int], int]]:
    liquity = devnet.liquity1
    assert liquity is not None
    set_price(rpc, liquity, troves[0].curve.price(troves[0].native(shock_8dec)))
    out: dict[tuple[str, str], tuple[dict[str, int], int]] = {}
    # passes until one liquidates nothing: a redistribution can push a trove passed over
    while passed := [e for e in troves if (LIQUITY1_MARKET_KEY, e.account) not in out]:
        if not _v1_pass(rpc, liquity, passed, out):
            break
    return out


def _v1_pass(rpc: DevnetRpc, liquity: Liquity1Deployment, troves: Sequence[Exposure],
             out: dict[tuple[str, str], tuple[dict[str, int], int]]) -> int:
    done = 0
    for e in troves:
        before = _deposits(rpc, liquity.stability_pool)
        try:
            rpc.send(Tx(KEEPER, liquity.trove_manager, calldata("liquidate(address)",
                                                                 e.account)))
        except RpcCallError:
            continue
        offset_wad = before - _deposits(rpc, liquity.stability_pool)
        out[LIQUITY1_MARKET_KEY, e.account] = ({}, offset_wad // WAD_TO_8DEC)
        done += 1
    return done


def _deposits(rpc: DevnetRpc, pool: str) -> int:
    (value,) = decode(["uint256"], rpc.eth_call(pool, calldata("getTotalLUSDDeposits()")))
    return int(value)


def _liquidate_v2(rpc: DevnetRpc, devnet: Devnet, troves: Sequence[Exposure], shock_8dec: int,
                  redistributed: dict[tuple[str, str], int]
                  ) -> dict[tuple[str, str], tuple[dict[str, int], int]]:
    """Each trove liquidated alone: (nothing sold, debt offset) per trove, and its debt
    redistributed into `redistributed`."""
    net = devnet.liquity2
    assert net is not None
    where = {trove_account(tid): (symbol, int(tid, 16)) for symbol, tid in net.borrowers}
    for symbol in sorted({where[e.account][0] for e in troves}):
        e = next(e for e in troves if where[e.account][0] == symbol)
        # a shut branch refuses: its price is frozen, as the engine has it
        with contextlib.suppress(RpcCallError):
            rpc.send(Tx(net.deployer, net.branch(symbol).price_feed, calldata(
                "setPrice(uint256)", e.curve.price(e.native(shock_8dec)))))
    out: dict[tuple[str, str], tuple[dict[str, int], int]] = {}
    progress = True
    while progress:  # passes: a redistribution can push a trove passed over
        progress = False
        for e in troves:
            symbol, tid = where[e.account]
            if (LIQUITY2_MARKET_KEY, e.account) in out:
                continue
            branch = net.branch(symbol)
            before = _bold_deposits(rpc, branch.stability_pool)
            try:
                receipt = rpc.send(Tx(KEEPER, branch.trove_manager, calldata(
                    "batchLiquidateTroves(uint256[])", [tid])))
            except RpcCallError:
                continue
            (log,) = [lg for lg in receipt["logs"] if lg["topics"][0] == V2_LIQUIDATION_TOPIC]
            offset_wad, redistributed_wad = decode(["uint256"] * 10,
                                                   bytes.fromhex(log["data"][2:]))[:2]
            assert before - _bold_deposits(rpc, branch.stability_pool) == offset_wad
            out[LIQUITY2_MARKET_KEY, e.account] = ({}, offset_wad // WAD_TO_8DEC)
            redistributed[LIQUITY2_MARKET_KEY, e.account] = redistributed_wad // WAD_TO_8DEC
            progress = True
    return out


def _timestamp(rpc: DevnetRpc) -> int:
    return int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


def _bold_deposits(rpc: DevnetRpc, pool: str) -> int:
    (value,) = decode(["uint256"], rpc.eth_call(pool, calldata("getTotalBoldDeposits()")))
    return int(value)


def _check_the_pool_sale(rpc: DevnetRpc, devnet: Devnet, depth: UniswapDepth, book: AxisBook,
                         shock_8dec: int, predicted_sold: dict[str, int],
                         taken: Sequence[Taken]) -> None:
    """The keeper exits the gem it bought (GemJoin.exit) and sells the WETH through the real
    WETH/USDC pool, arbitraged first to the shocked price; the price the pool is left at is
    the one the pools-only model predicts for the engine's WETH sale (to TOLERANCE)."""
    maker, uniswap = devnet.maker, devnet.uniswap
    assert maker is not None and uniswap is not None
    bought: dict[str, int] = {}
    for t in taken:
        bought[t.auction.ilk.name] = bought.get(t.auction.ilk.name, 0) + t.slice_wad
    tokens = {name: exit_gem(rpc, maker.ilk(name), wad) for name, wad in bought.items()}
    weth = maker.ilk("ETH-A").gem
    start_usd = (book.member_usd_now_8dec[weth] * shock_8dec / book.axis.reference_price_8dec
                 / 10**8)
    predicted = depth.sell(weth, predicted_sold[weth], start_usd)
    routes = Routes(depth)
    _arbitrage_to(rpc, uniswap.swap_router, routes, weth, start_usd)
    (pool,) = depth.routes[weth]
    receipts = rpc.send_many([
        Tx(KEEPER, weth, calldata("approve(address,uint256)", uniswap.swap_router,
                                  tokens["ETH-A"])),
        Tx(KEEPER, uniswap.swap_router, calldata(EXACT_INPUT_SINGLE, (
            weth, routes.tokens(weth)[1], pool.fee_pips, KEEPER, FAR_DEADLINE, tokens["ETH-A"], 0,
            0)))])
    usdc_raw, sqrt_after_x96 = swap_out(receipts[-1])
    executed_usd = human_price(pool, weth, sqrt_after_x96)
    error = abs(executed_usd - predicted.price_after_usd) / predicted.price_after_usd
    print(f"the keeper's {tokens['ETH-A'] / 10**18:,.2f} WETH sold through the WETH/USDC "
          f"pool for {usdc_raw / 10**6:,.0f} USDC: ${start_usd:,.2f} -> ${executed_usd:,.2f} "
          f"(predicted ${predicted.price_after_usd:,.2f}, relative error {error:.2e})")
    assert executed_usd < start_usd and error <= TOLERANCE

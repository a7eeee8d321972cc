"""A lending cascade executed for real on the devnet, round by round (the machinery of
test_cascade_executed.py): the oracle moved to the round's price, every position of the book
the protocol lets go liquidated by real transactions (Aave `liquidationCall`s repeated while
the Pool allows, Morpho `liquidate`, Comet `absorb`), the seized axis collateral swapped for
real along its Uniswap v3 route in the engine's basket order (each LST through LST/WETH then
WETH/USDC, then the WETH into the same WETH/USDC), and the oracle set to the price the pools
leave the axis reference (WETH on WETH/USDC) -- then again, until a round liquidates nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.cascade.basket import basket_order
from scanner.cascade.depth_models import UniswapDepth, human_price, sqrt_x96_for
from scanner.cascade.exposures import AxisBook
from scanner.cascade.uniswap_v3 import PoolState
from scanner.config import Config
from scanner.devnet.morpho import MARKET_PARAMS, MorphoMarket
from scanner.devnet.network import (
    AAVE_MARKET_KEY,
    COMPOUND_MARKET_PREFIX,
    MORPHO_MARKET_KEY,
    Devnet,
)
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.pipeline.axes import resolve_axes
from scanner.protocols.aave_v3.state import AaveMarketState
from tests.integration.aave_liquidations import liquidate_until_healthy
from tests.integration.comet_store_buyer import StoreBuyer
from tests.integration.test_cascade import _send_swap
from tests.integration.test_liquidation_call import (
    LIQUIDATOR,
    _assets,
    _fund_liquidator,
    _move_axis,
    _read,
)
from tests.integration.test_morpho_rule_truth import HEALTHY
from tests.integration.test_uniswap_depth import SWAP_TOPIC

COMET_USDC = f"{COMPOUND_MARKET_PREFIX}usdc"
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

    def book_sale(self, state: AaveMarketState, asset: str, seized_raw: int) -> None:
        self.sold_raw[asset] = self.sold_raw.get(asset, 0) + seized_raw
        self.sold_usd_8dec += usd_8dec(state, asset, seized_raw)


@dataclass
class Routes:
    """The sold assets' pools to a stablecoin, as the depth model read them, with the price
    each pool is at now on the node (moved by the arbitrage and the swaps): one price per
    pool, shared by every route through it."""

    depth: UniswapDepth
    sqrt_x96: dict[str, int] = field(default_factory=dict)  # by pool address, once moved

    def tokens(self, asset: str) -> list[str]:
        tokens = [asset]
        for pool in self.depth.routes[asset]:
            tokens.append(pool.token1 if tokens[-1] == pool.token0 else pool.token0)
        return tokens

    def now_x96(self, pool: PoolState) -> int:
        return self.sqrt_x96.get(pool.address, pool.sqrt_x96)

    def usd_price(self, asset: str, hops: int | None = None) -> float:
        """The asset's price along its route (its first `hops` pools), in the last token."""
        price = 1.0
        pools = self.depth.routes[asset][:hops]
        for pool, token in zip(pools, self.tokens(asset), strict=False):
            price *= human_price(pool, token, self.now_x96(pool))
        return price


def execute_cascade(rpc: DevnetRpc, config: Config, net: Devnet, book: AxisBook,
                    depth: UniswapDepth, assets: Sequence[str], shock_8dec: int, block: int
                    ) -> list[ExecutedRound]:
    """Play the cascade of `book` (whose axis collateral is among `assets`) on the node."""
    aave = net.aave
    assert net.uniswap is not None and net.compound is not None
    router = net.uniswap.swap_router
    state, _ = asyncio.run(_read(config, AAVE_MARKET_KEY, block, []))
    (axis,) = [a for a in resolve_axes(config.axes, _assets(state)) if a.name == "ETH"]
    reference = book.axis.reference
    routes = Routes(depth)
    reference_now_8dec = book.member_usd_now_8dec[reference]
    _fund_liquidator(rpc, aave)
    _arbitrage_to(rpc, router, routes, reference, reference_now_8dec * shock_8dec
                  / axis.reference_price_8dec / 10**8)
    morpho = sorted((e.account, e.curve.collateral.symbol) for e in book.exposures
                    if e.market_key == MORPHO_MARKET_KEY)  # a borrower may be in two markets
    if morpho:
        assert net.morpho is not None
        rpc.send(Tx(LIQUIDATOR, aave.tokens["USDC"], calldata(
            "approve(address,uint256)", net.morpho.morpho, 2**256 - 1)))
    buyer = StoreBuyer(net.compound.comet("usdc").comet, depth, tuple(assets))
    accounts = {key: sorted(e.account for e in book.exposures if e.market_key == key)
                for key in (AAVE_MARKET_KEY, COMET_USDC)}
    rounds: list[ExecutedRound] = []
    price_8dec = shock_8dec
    for round_index in range(MAX_EXECUTED_ROUNDS):
        _move_axis(rpc, aave, axis, state, price_8dec)
        current = ExecutedRound(price_8dec)
        for account in accounts[AAVE_MARKET_KEY]:
            _aave_liquidate(rpc, config, net, account, current)
        moved, _ = asyncio.run(_read(config, AAVE_MARKET_KEY, rpc.block_number(), []))
        for account, symbol in morpho:
            where = _morpho_market(net, aave.tokens[symbol])
            assert where is not None
            _morpho_liquidate(rpc, moved, where, account, current)
        for account in accounts[COMET_USDC]:
            _comet_absorb(rpc, moved, buyer, account, current, round_index)
        if not current.accounts:
            return rounds
        sold_raw = {asset: current.sold_raw.get(asset, 0) for asset in assets}
        for asset in basket_order(sold_raw, reference):  # the engine's order
            _sell_along(rpc, router, routes, asset, sold_raw[asset])
        price_8dec = int(Fraction(routes.usd_price(reference)) * 10**8
                         * axis.reference_price_8dec / reference_now_8dec)
        current.price_after_8dec = price_8dec
        rounds.append(current)
    raise AssertionError("the executed cascade did not stop")


def _aave_liquidate(rpc: DevnetRpc, config: Config, net: Devnet, account: str,
                    into: ExecutedRound) -> None:
    for call in liquidate_until_healthy(rpc, config, AAVE_MARKET_KEY, net.aave, account):
        into.accounts.add((AAVE_MARKET_KEY, account))
        into.book_sale(call.state, call.collateral_asset, call.collateral_raw)
        into.debt_repaid_usd_8dec += usd_8dec(call.state, call.debt_asset, call.debt_raw)


def _arbitrage_to(rpc: DevnetRpc, router: str, routes: Routes, reference: str,
                  reference_usd: float) -> None:
    """Sell into the reference route's last pool until it prices the reference at
    `reference_usd` (arbitrage after a shock; the LSTs' ratio pools keep their price, as the
    model has it)."""
    pools, tokens = routes.depth.routes[reference], routes.tokens(reference)
    ratio = routes.usd_price(reference, len(pools) - 1)
    last, token_in = pools[-1], tokens[-2]
    target_x96 = sqrt_x96_for(last, token_in, reference_usd / ratio)
    assert human_price(last, token_in, last.sqrt_x96) > reference_usd / ratio, "a fall: above"
    receipt = _send_swap(rpc, router, token_in, tokens[-1], last.fee_pips, 10**30, target_x96)
    _, routes.sqrt_x96[last.address] = swap_out(receipt)
    assert routes.sqrt_x96[last.address] == target_x96


def _sell_along(rpc: DevnetRpc, router: str, routes: Routes, asset: str, amount_raw: int
                ) -> None:
    """Swap `amount_raw` of `asset` hop by hop to the stablecoin through the SwapRouter."""
    tokens = routes.tokens(asset)
    for i, pool in enumerate(routes.depth.routes[asset]):
        if amount_raw == 0:
            return
        receipt = _send_swap(rpc, router, tokens[i], tokens[i + 1], pool.fee_pips, amount_raw, 0)
        amount_raw, routes.sqrt_x96[pool.address] = swap_out(receipt)


def swap_out(receipt: dict[str, Any]) -> tuple[int, int]:
    """(amount out, sqrtPriceX96 after) of the receipt's one Uniswap v3 Swap."""
    (log,) = [lg for lg in receipt["logs"] if lg["topics"][0] == SWAP_TOPIC]
    amount0, amount1, sqrt_x96, _, _ = decode(
        ["int256", "int256", "uint160", "uint128", "int24"], bytes.fromhex(log["data"][2:]))
    return -min(amount0, amount1), int(sqrt_x96)


@dataclass(frozen=True)
class _MorphoMarket:
    morpho: str
    market: MorphoMarket


def _morpho_market(net: Devnet, asset: str) -> _MorphoMarket | None:
    assert net.morpho is not None
    found = [m for m in net.morpho.markets
             if m.collateral_token == asset and m.loan_symbol == "USDC"]
    return _MorphoMarket(net.morpho.morpho, found[0]) if found else None


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
    into.book_sale(state, market.collateral_token, seized_raw)
    into.debt_repaid_usd_8dec += usd_8dec(state, market.loan_token, repaid_raw)


def _liquidate_data(market: MorphoMarket, borrower: str, seized_raw: int, shares: int) -> str:
    return calldata(f"liquidate({MARKET_PARAMS},address,uint256,uint256,bytes)",
                    market.params, borrower, seized_raw, shares, b"")


def _comet_absorb(rpc: DevnetRpc, state: AaveMarketState, buyer: StoreBuyer, account: str,
                  into: ExecutedRound, round_index: int) -> None:
    """A real `absorb`, if the Comet allows it: all the collateral is seized, the debt is
    cleared; then the store front's buyer buys for real what pays (comet_store_buyer.py), and
    that reaches the market."""
    comet = buyer.comet
    (liquidatable,) = decode(["bool"], rpc.eth_call(comet, calldata(
        "isLiquidatable(address)", account)))
    if not liquidatable:
        return
    (debt_raw,) = decode(["uint256"], rpc.eth_call(comet, calldata(
        "borrowBalanceOf(address)", account)))
    receipt = rpc.send(Tx(LIQUIDATOR, comet, calldata(
        "absorb(address,address[])", LIQUIDATOR, [account])))
    into.accounts.add((COMET_USDC, account))
    assert any(log["topics"][0] == ABSORB_COLLATERAL_TOPIC for log in receipt["logs"])
    for asset, bought_raw in buyer.buy_after_absorb(rpc, round_index):
        into.book_sale(state, to_checksum_address(asset), bought_raw)
    base = decode(["address"], rpc.eth_call(comet, calldata("baseToken()")))[0]
    into.debt_repaid_usd_8dec += usd_8dec(state, to_checksum_address(base), debt_raw)


def usd_8dec(state: AaveMarketState, asset: str, amount_raw: int) -> int:
    reserve = state.reserves[asset]
    return amount_raw * reserve.price_8dec // 10**reserve.decimals

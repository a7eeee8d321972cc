"""A lending cascade executed for real on the devnet, round by round (the machinery of
test_cascade_executed.py): the oracle moved to the round's price, every position of the book
the protocol lets go liquidated by real transactions (Aave `liquidationCall`s repeated while
the Pool allows, Morpho `liquidate`, Comet `absorb`), the seized axis collateral swapped for
real along its Uniswap v3 route (an LST through LST/WETH then WETH/USDC), and the oracle set
to the price the pools leave -- then again, until a round liquidates nothing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

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
class Route:
    """The sold asset's pools to a stablecoin, as the depth model read them, with the price
    each one is at now on the node (moved by the arbitrage and the swaps)."""

    pools: tuple[PoolState, ...]
    tokens: tuple[str, ...]  # the asset, ..., the stablecoin
    sqrt_x96: list[int]

    @classmethod
    def of(cls, depth: UniswapDepth, asset: str) -> Route:
        pools = depth.routes[asset]
        tokens = [asset]
        for pool in pools:
            tokens.append(pool.token1 if tokens[-1] == pool.token0 else pool.token0)
        return cls(pools, tuple(tokens), [pool.sqrt_x96 for pool in pools])

    def usd_price(self) -> float:
        """The asset's price in the stablecoin along the route, hop by hop."""
        price = 1.0
        for pool, token, sqrt_x96 in zip(self.pools, self.tokens, self.sqrt_x96, strict=False):
            price *= human_price(pool, token, sqrt_x96)
        return price


def execute_cascade(rpc: DevnetRpc, config: Config, net: Devnet, book: AxisBook,
                    depth: UniswapDepth, asset: str, shock_8dec: int, block: int
                    ) -> list[ExecutedRound]:
    """Play the cascade of `book` (whose axis collateral is `asset` alone) on the node."""
    aave = net.aave
    assert net.uniswap is not None and net.compound is not None
    router = net.uniswap.swap_router
    state, _ = asyncio.run(_read(config, AAVE_MARKET_KEY, block, []))
    (axis,) = [a for a in resolve_axes(config.axes, _assets(state)) if a.name == "ETH"]
    route = Route.of(depth, asset)
    asset_now_8dec = book.member_usd_now_8dec[asset]
    _fund_liquidator(rpc, aave)
    _arbitrage_to(rpc, router, route, asset_now_8dec * shock_8dec / axis.reference_price_8dec
                  / 10**8)
    morpho = _morpho_market(net, asset)
    if morpho is not None:
        rpc.send(Tx(LIQUIDATOR, aave.tokens["USDC"], calldata(
            "approve(address,uint256)", morpho.morpho, 2**256 - 1)))
    buyer = StoreBuyer(net.compound.comet("usdc").comet, depth, asset)
    accounts = {key: sorted(e.account for e in book.exposures if e.market_key == key)
                for key in (AAVE_MARKET_KEY, MORPHO_MARKET_KEY, COMET_USDC)}
    rounds: list[ExecutedRound] = []
    price_8dec = shock_8dec
    for round_index in range(MAX_EXECUTED_ROUNDS):
        _move_axis(rpc, aave, axis, state, price_8dec)
        current = ExecutedRound(price_8dec)
        for account in accounts[AAVE_MARKET_KEY]:
            _aave_liquidate(rpc, config, net, account, current)
        moved, _ = asyncio.run(_read(config, AAVE_MARKET_KEY, rpc.block_number(), []))
        for account in accounts[MORPHO_MARKET_KEY]:
            assert morpho is not None
            _morpho_liquidate(rpc, moved, morpho, account, current)
        for account in accounts[COMET_USDC]:
            _comet_absorb(rpc, moved, buyer, account, current, round_index)
        if not current.accounts:
            return rounds
        _sell_along(rpc, router, route, current.sold_raw.get(asset, 0))
        price_8dec = int(Fraction(route.usd_price()) * 10**8 * axis.reference_price_8dec
                         / asset_now_8dec)
        current.price_after_8dec = price_8dec
        rounds.append(current)
    raise AssertionError("the executed cascade did not stop")


def _aave_liquidate(rpc: DevnetRpc, config: Config, net: Devnet, account: str,
                    into: ExecutedRound) -> None:
    for call in liquidate_until_healthy(rpc, config, AAVE_MARKET_KEY, net.aave, account):
        into.accounts.add((AAVE_MARKET_KEY, account))
        into.book_sale(call.state, call.collateral_asset, call.collateral_raw)
        into.debt_repaid_usd_8dec += usd_8dec(call.state, call.debt_asset, call.debt_raw)


def _arbitrage_to(rpc: DevnetRpc, router: str, route: Route, asset_usd: float) -> None:
    """Sell into the route's last pool until it prices the asset at `asset_usd` (arbitrage
    after a shock; the ratio pools before it keep their price, as the model has it)."""
    ratio = Route(route.pools[:-1], route.tokens[:-1], route.sqrt_x96[:-1]).usd_price()
    last, token_in = route.pools[-1], route.tokens[-2]
    target_x96 = sqrt_x96_for(last, token_in, asset_usd / ratio)
    assert human_price(last, token_in, last.sqrt_x96) > asset_usd / ratio, "a fall: above"
    receipt = _send_swap(rpc, router, token_in, route.tokens[-1], last.fee_pips, 10**30,
                         target_x96)
    _, route.sqrt_x96[-1] = swap_out(receipt)
    assert route.sqrt_x96[-1] == target_x96


def _sell_along(rpc: DevnetRpc, router: str, route: Route, amount_raw: int) -> None:
    """Swap `amount_raw` of the asset hop by hop to the stablecoin through the SwapRouter."""
    for i, pool in enumerate(route.pools):
        if amount_raw == 0:
            return
        receipt = _send_swap(rpc, router, route.tokens[i], route.tokens[i + 1], pool.fee_pips,
                             amount_raw, 0)
        amount_raw, route.sqrt_x96[i] = swap_out(receipt)


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

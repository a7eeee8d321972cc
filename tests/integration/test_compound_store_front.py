"""The Comet store front on the devnet: real absorbs, then real buyCollateral calls at
quoteCollateral's price, against what the cascade's Comet sale predicts.

The USDC Comet after a 6% ETH/BTC drop, one account absorbed before the scan block (its
collateral held by the Comet, unsold): the adapter reads the market at the block
(storeFrontPriceFactor, targetReserves, getReserves, getCollateralReserves included); the
sale function predicts, account after account on the store the previous one left (its
LEDGER), what each absorb seizes and what the buyer pays and receives -- the collateral held
before included. Every base unit paid and collateral unit bought is compared exactly, the
collateral reserves too; the reserves within RESERVES_TOLERANCE_RAW (the real ones accrue a
few seconds of interest between the read and each transaction). With the real Uniswap v3
WETH/USDC pool as the market (arbitraged to the oracle price) and more WETH in the Comet than
a buyer can resell, the buyer stops where the pool model says: it buys that, swaps it
through the real pool, and the pool's price lands on the store's price (within
STOP_TOLERANCE); 1% more would sell below it. With targetReserves reached the store front is
closed: buyCollateral reverts NotForSale and the sale sells nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from eth_abi.abi import decode
from eth_utils.crypto import keccak

from scanner.cascade.depth_build import build_depth_model
from scanner.cascade.depth_models import UniswapDepth
from scanner.chain.rpc import RpcClient
from scanner.config import load_config
from scanner.devnet.network import Devnet, write_config
from scanner.devnet.prices import get_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.protocols.compound_v3.curve import CometCurve
from scanner.protocols.compound_v3.liquidation_sale import (
    LEDGER,
    buy_base_raw,
    discounted_price_8dec,
    liquidation_sale,
)
from scanner.protocols.compound_v3.rule import accrue
from scanner.protocols.compound_v3.state import CometMarketState, StoreStock
from tests.integration.adapter_contract import read_all, run
from tests.integration.cascade_execution import Routes, _arbitrage_to, _sell_along
from tests.integration.test_compound_v3 import comet_env

pytestmark = pytest.mark.integration

ABSORBER = "0x00000000000000000000000000000000000Ab50b"
BUYER = "0x00000000000000000000000000000000000B0b0b"
NOT_FOR_SALE = "0x" + keccak(text="NotForSale()")[:4].hex()
RESERVES_TOLERANCE_RAW = 10**4  # 0.01 USDC: interest accrued over a few seconds
ACCOUNTS = 3
STOP_TOLERANCE = 1e-9  # the float prices the model is asked at (measured 1.2e-14)
DONATED_WETH = 10**6 * 10**18  # more than the devnet pool takes before it falls 2.5%


def _drop(rpc: DevnetRpc, devnet: Devnet) -> int:
    today = {s: get_price_usd_8dec(rpc, devnet.aave, s) for s in ("WETH", "wstETH", "WBTC")}
    return set_prices(rpc, devnet.aave, {s: p * 94 // 100 for s, p in today.items()})


def _read(devnet: Devnet, block: int) -> tuple[CometMarketState, list[CometCurve]]:
    env = comet_env(devnet, "usdc")
    read = run(env, lambda a: read_all(a, sorted(env.borrowers), block))
    market: CometMarketState = read.positions[0].state.market
    weth = devnet.compound.comet("usdc").collateral_tokens["WETH"] if devnet.compound else ""
    now = market.prices.collateral_8dec[weth]
    curves = [CometCurve(p.state.user, market, frozenset({weth}), now) for p in read.positions]
    return market, [c for c in curves if not c.healthy(now)]


def _reserves(rpc: DevnetRpc, comet: str) -> int:
    (value,) = decode(["int256"], rpc.eth_call(comet, calldata("getReserves()")))
    return int(value)


def _at_market(curve: CometCurve, market: CometMarketState) -> CometCurve:
    """The same account and axis against the market as another block leaves it."""
    return CometCurve(curve.user, market, curve.axis_members, curve.ref_now_usd_8dec,
                      curve.stock, curve.resale)


def _at_next_block(market: CometMarketState, rpc: DevnetRpc) -> CometMarketState:
    """The market as absorb sees it in the next block (one second later): accrued there."""
    timestamp = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16) + 1
    rpc.call("evm_setNextBlockTimestamp", [timestamp])
    return replace(market, accrued_totals=accrue(market.stored_totals, market.rates, timestamp))


def _buy_revert(rpc: DevnetRpc, comet: str, asset: str, base_raw: int) -> str | None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [
        {"from": BUYER, "to": comet, "data": calldata(
            "buyCollateral(address,uint256,uint256,address)", asset, 0, base_raw, BUYER)},
        "latest"]}
    answer = requests.post(rpc.url, json=body, timeout=60).json()
    return str(answer["error"]["data"]) if "error" in answer else None


def _fund_buyer(rpc: DevnetRpc, token: str, comet: str, amount_raw: int) -> None:
    rpc.send(Tx(BUYER, token, calldata("mint(uint256)", amount_raw)))
    rpc.send(Tx(BUYER, token, calldata("approve(address,uint256)", comet, 2**256 - 1)))


def test_absorb_then_buy_collateral_is_what_the_sale_predicts(
        devnet: Devnet, devnet_snapshot: DevnetRpc) -> None:
    rpc = devnet_snapshot
    assert devnet.compound is not None
    comet = devnet.compound.comet("usdc")
    _, curves = _read(devnet, _drop(rpc, devnet))
    first = curves[0]  # absorbed before the scan block: its collateral is held, unsold
    rpc.send(Tx(ABSORBER, comet.comet, calldata("absorb(address,address[])", ABSORBER,
                                                [first.user.account]), gas=5_000_000))
    market, curves = _read(devnet, rpc.block_number())
    store = market.store_front
    assert store.price_factor_wad == 5 * 10**17 and store.is_open(store.reserves_raw)
    held = {a: n for a, n in first.user.basic.collateral_raw.items() if n}
    assert held and {a: store.collateral_reserves_raw[a] for a in held} == held
    assert len(curves) >= ACCOUNTS
    _fund_buyer(rpc, comet.base_token, comet.comet, 10**12 * 10**6)
    stock = StoreStock.at_block(store)
    for curve in curves[:ACCOUNTS]:
        next_market = _at_next_block(market, rpc)
        bound = LEDGER.bind(_at_market(curve, next_market), stock)
        sale = liquidation_sale(bound, curve.price_now)
        assert sale is not None and sale.sold
        rpc.send(Tx(ABSORBER, comet.comet, calldata("absorb(address,address[])", ABSORBER,
                                                    [curve.user.account]), gas=5_000_000))
        for item in sale.sold:
            _buy(rpc, comet.comet, bound, item.asset, item.amount_raw, BUYER)
        assert isinstance(sale.ledger_after, StoreStock)
        stock = sale.ledger_after
        assert abs(_reserves(rpc, comet.comet) - stock.reserves_raw) <= RESERVES_TOLERANCE_RAW
        for asset in (a.asset for a in market.assets):
            assert _collateral_reserves(rpc, comet.comet, asset) == stock.collateral_raw.get(
                asset, 0)
    # the sales took what the first absorb left in the Comet, too (but the dust a whole USDC
    # unit cannot buy: quoteCollateral rounds down)
    assert all(stock.collateral_raw.get(a, 0) < held[a] // 10**6 for a in held)


def test_the_buyer_stops_where_the_pool_reaches_the_store_price(
        devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path) -> None:
    rpc = devnet_snapshot
    assert devnet.compound is not None and devnet.uniswap is not None
    comet = devnet.compound.comet("usdc")
    weth = comet.collateral_tokens["WETH"]
    _drop(rpc, devnet)
    _fund_buyer(rpc, weth, comet.comet, DONATED_WETH)  # WETH the Comet holds, for sale
    rpc.send(Tx(BUYER, weth, calldata("transfer(address,uint256)", comet.comet, DONATED_WETH)))
    market, curves = _read(devnet, rpc.block_number())
    depth = _pools_depth(devnet, tmp_path, rpc.block_number())
    curve = _at_market(curves[0], _at_next_block(market, rpc)).with_resale(depth)
    sale = liquidation_sale(curve, curve.price_now)
    assert sale is not None and isinstance(sale.ledger_after, StoreStock)
    (bought,) = [item for item in sale.sold if item.asset == weth]
    assert bought.amount_raw > 0 and sale.ledger_after.collateral_raw[weth] > 0  # it stopped
    # the market: the real WETH/USDC pool, arbitraged to the oracle price
    prices = curve.prices_at(curve.price_now)
    info = next(a for a in market.assets if a.asset == weth)
    routes = Routes(depth)
    _arbitrage_to(rpc, devnet.uniswap.swap_router, routes, weth,
                  prices.collateral_8dec[weth] / 10**8)
    rpc.send(Tx(ABSORBER, comet.comet, calldata("absorb(address,address[])", ABSORBER,
                                                [curve.user.account]), gas=5_000_000))
    _fund_buyer(rpc, comet.base_token, comet.comet, 10**12 * 10**6)
    _buy(rpc, comet.comet, curve, weth, bought.amount_raw, BUYER)
    _sell_along(rpc, devnet.uniswap.swap_router, routes, weth, bought.amount_raw)
    store_usd = discounted_price_8dec(market.store_front, info, prices.collateral_8dec[weth]) / 1e8
    assert store_usd <= routes.usd_price(weth) <= store_usd * (1 + STOP_TOLERANCE)
    _sell_along(rpc, devnet.uniswap.swap_router, routes, weth, bought.amount_raw // 100)
    assert routes.usd_price(weth) < store_usd  # buying 1% more would not have paid


def _pools_depth(devnet: Devnet, tmp_path: Path, block: int) -> UniswapDepth:
    """The devnet's [cascade.depth], pools only, read at `block`."""
    path = tmp_path / "config.toml"
    write_config(devnet, path)
    config = load_config(path)
    assert config.cascade_depth is not None
    pools_only = replace(config.cascade_depth, model="uniswap")

    async def build() -> UniswapDepth:
        async with RpcClient(devnet.rpc_url) as client:
            model = await build_depth_model(pools_only, client, block)
        assert isinstance(model, UniswapDepth)
        return model

    return asyncio.run(build())


def _buy(rpc: DevnetRpc, comet: str, curve: CometCurve, asset: str, amount_raw: int,
         recipient: str) -> None:
    """buyCollateral of exactly `amount_raw` for what the model's buyer pays."""
    base_raw = _predicted_base(curve, asset, amount_raw)
    (quote,) = decode(["uint256"], rpc.eth_call(comet, calldata(
        "quoteCollateral(address,uint256)", asset, base_raw)))
    assert quote == amount_raw
    before = _balance(rpc, asset, recipient)
    rpc.send(Tx(BUYER, comet, calldata("buyCollateral(address,uint256,uint256,address)", asset,
                                       quote, base_raw, recipient)))
    assert _balance(rpc, asset, recipient) - before == amount_raw


def _collateral_reserves(rpc: DevnetRpc, comet: str, asset: str) -> int:
    (value,) = decode(["uint256"], rpc.eth_call(comet, calldata(
        "getCollateralReserves(address)", asset)))
    return int(value)


def test_closed_store_front_reverts_and_sells_nothing(
        devnet: Devnet, devnet_snapshot: DevnetRpc) -> None:
    rpc = devnet_snapshot
    assert devnet.compound is not None
    comet = devnet.compound.comet("usdc")
    block = _drop(rpc, devnet)
    store = _read(devnet, block)[0].store_front
    # a donation of base tokens fills the reserves far past targetReserves
    donation = 3 * store.target_reserves_raw
    _fund_buyer(rpc, comet.base_token, comet.comet, donation)
    rpc.send(Tx(BUYER, comet.base_token, calldata("transfer(address,uint256)", comet.comet,
                                                   donation)))
    market, curves = _read(devnet, rpc.block_number())
    assert not market.store_front.is_open(market.store_front.reserves_raw)
    curve = curves[0]
    sale = liquidation_sale(_at_market(curve, _at_next_block(market, rpc)), curve.price_now)
    assert sale is not None and sale.sold == () and sale.debt_repaid_usd_8dec > 0
    rpc.send(Tx(ABSORBER, comet.comet, calldata("absorb(address,address[])", ABSORBER,
                                                [curve.user.account]), gas=5_000_000))
    assert _reserves(rpc, comet.comet) >= market.store_front.target_reserves_raw
    held = [a.asset for a in market.assets if curve.user.basic.collateral_raw.get(a.asset)]
    for asset in held:
        (reserve,) = decode(["uint256"], rpc.eth_call(comet.comet, calldata(
            "getCollateralReserves(address)", asset)))
        assert reserve >= curve.user.basic.collateral_raw[asset]
        assert _buy_revert(rpc, comet.comet, asset, 10**6) == NOT_FOR_SALE


def _predicted_base(curve: CometCurve, asset: str, amount_raw: int) -> int:
    """What the modelled buyer pays for `amount_raw` (the sale's own rule)."""
    market = curve.market
    info = next(a for a in market.assets if a.asset == asset)
    return buy_base_raw(market.store_front, info, curve.prices_at(curve.price_now),
                        market.base_scale, amount_raw)


def _balance(rpc: DevnetRpc, token: str, owner: str) -> int:
    (value,) = decode(["uint256"], rpc.eth_call(token, calldata("balanceOf(address)", owner)))
    return int(value)

"""The Comet store front on the devnet: real absorbs, then real buyCollateral calls at
quoteCollateral's price, against what the cascade's Comet sale predicts.

The USDC Comet after a 6% ETH/BTC drop: the adapter reads the market at the block
(storeFrontPriceFactor, targetReserves, getReserves included); the sale function predicts,
account after account on the reserves the previous one left (its LEDGER), what each absorb
seizes and what the buyer pays and receives. Every base unit paid and collateral unit bought
is compared exactly; the reserves within RESERVES_TOLERANCE_RAW (the real ones accrue a few
seconds of interest between the read and each transaction). With targetReserves reached the
store front is closed: buyCollateral reverts NotForSale and the sale sells nothing.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from eth_abi.abi import decode
from eth_utils.crypto import keccak

from scanner.devnet.network import Devnet
from scanner.devnet.prices import get_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.protocols.compound_v3.curve import CometCurve
from scanner.protocols.compound_v3.liquidation_sale import LEDGER, buy_base_raw, liquidation_sale
from scanner.protocols.compound_v3.rule import accrue
from scanner.protocols.compound_v3.state import CometMarketState
from tests.integration.adapter_contract import read_all, run
from tests.integration.test_compound_v3 import comet_env

pytestmark = pytest.mark.integration

ABSORBER = "0x00000000000000000000000000000000000Ab50b"
BUYER = "0x00000000000000000000000000000000000B0b0b"
NOT_FOR_SALE = "0x" + keccak(text="NotForSale()")[:4].hex()
RESERVES_TOLERANCE_RAW = 10**4  # 0.01 USDC: interest accrued over a few seconds
ACCOUNTS = 3


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
    market, curves = _read(devnet, _drop(rpc, devnet))
    store = market.store_front
    assert store.price_factor_wad == 5 * 10**17 and store.is_open(store.reserves_raw)
    assert len(curves) >= ACCOUNTS
    _fund_buyer(rpc, comet.base_token, comet.comet, 10**12 * 10**6)
    reserves = store.reserves_raw
    for curve in curves[:ACCOUNTS]:
        next_market = _at_next_block(market, rpc)
        bound = LEDGER.bind(replace(curve, market=next_market), reserves)
        sale = liquidation_sale(bound, curve.price_now)
        assert sale is not None and sale.sold
        rpc.send(Tx(ABSORBER, comet.comet, calldata("absorb(address,address[])", ABSORBER,
                                                    [curve.user.account]), gas=5_000_000))
        for item in sale.sold:
            base_raw = _predicted_base(bound, item.asset, item.amount_raw)
            (quote,) = decode(["uint256"], rpc.eth_call(comet.comet, calldata(
                "quoteCollateral(address,uint256)", item.asset, base_raw)))
            assert quote == item.amount_raw
            before = _balance(rpc, item.asset, BUYER)
            rpc.send(Tx(BUYER, comet.comet, calldata(
                "buyCollateral(address,uint256,uint256,address)", item.asset, quote, base_raw,
                BUYER)))
            assert _balance(rpc, item.asset, BUYER) - before == item.amount_raw
        assert sale.ledger_after is not None
        reserves = sale.ledger_after
        assert abs(_reserves(rpc, comet.comet) - reserves) <= RESERVES_TOLERANCE_RAW


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
    sale = liquidation_sale(replace(curve, market=_at_next_block(market, rpc)), curve.price_now)
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

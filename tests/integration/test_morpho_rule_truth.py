"""Morpho Blue's rule judged by the real Morpho Blue (npm sources, compiled) on the devnet.

- accrual: after 31 days without any interaction, the totals liqscan computes from the stale
  stored ones equal what the contract stores when `accrueInterest` runs, fee shares included;
- the liquidation price: with the market oracle pinned to liqscan's price p (eth_call code and
  storage override), a real `liquidate` reverts "position is healthy" at p and at p(1+1e-4),
  and goes through at p - 1 and at p(1-1e-4) -- for every seeded borrower, after 31 days of
  interest that the stored totals do not show;
- a price computed from the stale stored totals is wrong for borrowers the contract then
  liquidates: accrual is not optional.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from eth_abi.abi import decode

from scanner.devnet.morpho import MARKET_PARAMS, MorphoDeployment, MorphoMarket
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.protocols.morpho_blue.rule import (
    MarketTotals,
    accrue_interest,
    borrowed_assets,
    liquidation_price_1e36,
)

pytestmark = pytest.mark.integration

DAYS_31 = 31 * 24 * 3600
LIQUIDATOR = "0x000000000000000000000000000000000000b10e"
FEE_WAD = 10**17
# runtime code answering every call with storage slot 0: a fixed-price oracle
FIXED_PRICE_ORACLE = "0x60005460005260206000f3"
HEALTHY = "position is healthy"


def _market(rpc: DevnetRpc, morpho: str, market: MorphoMarket, block: int) -> MarketTotals:
    raw = rpc.eth_call(morpho, calldata("market(bytes32)", bytes.fromhex(market.market_id[2:])),
                       block)
    values = decode(["uint128"] * 6, raw)
    return MarketTotals(*(int(v) for v in values))


def _position(rpc: DevnetRpc, morpho: str, market: MorphoMarket, borrower: str, block: int
              ) -> tuple[int, int]:
    raw = rpc.eth_call(morpho, calldata("position(bytes32,address)",
                                        bytes.fromhex(market.market_id[2:]), borrower), block)
    _supply, borrow_shares, collateral = decode(["uint256", "uint128", "uint128"], raw)
    return int(collateral), int(borrow_shares)


def _rate(rpc: DevnetRpc, market: MorphoMarket, totals: MarketTotals, block: int) -> int:
    stored = (totals.total_supply_assets, totals.total_supply_shares,
              totals.total_borrow_assets, totals.total_borrow_shares, totals.last_update,
              totals.fee_wad)
    raw = rpc.eth_call(market.irm, calldata(
        f"borrowRateView({MARKET_PARAMS},(uint128,uint128,uint128,uint128,uint128,uint128))",
        market.params, stored), block)
    return int(decode(["uint256"], raw)[0])


def _timestamp(rpc: DevnetRpc, block: int) -> int:
    return int(rpc.call("eth_getBlockByNumber", [hex(block), False])["timestamp"], 16)


def _warp(rpc: DevnetRpc, seconds: int) -> int:
    """An empty block `seconds` later: nobody touches the markets; returns its number."""
    rpc.call("evm_increaseTime", [seconds])
    rpc.mine()
    return rpc.block_number()


def test_accrual_matches_the_contract_after_31_idle_days(
    devnet: Devnet, devnet_snapshot: DevnetRpc
) -> None:
    rpc, morpho = devnet_snapshot, _deployment(devnet)
    fee_market = morpho.markets[0]
    rpc.send(Tx(morpho.owner, morpho.morpho, calldata(
        f"setFee({MARKET_PARAMS},uint256)", fee_market.params, FEE_WAD)))
    block = _warp(rpc, DAYS_31)
    before = {m.market_id: _market(rpc, morpho.morpho, m, block) for m in morpho.markets}
    assert before[fee_market.market_id].fee_wad == FEE_WAD
    target = _timestamp(rpc, block) + 12
    rpc.call("evm_setNextBlockTimestamp", [target])
    rpc.send_many([Tx(morpho.owner, morpho.morpho, calldata(
        f"accrueInterest({MARKET_PARAMS})", market.params)) for market in morpho.markets])
    after_block = rpc.block_number()
    assert _timestamp(rpc, after_block) == target
    for market in morpho.markets:
        stale = before[market.market_id]
        expected = accrue_interest(stale, _rate(rpc, market, stale, block), target)
        assert _market(rpc, morpho.morpho, market, after_block) == expected, market.market_id
        assert expected.total_borrow_assets > stale.total_borrow_assets


def _fund(rpc: DevnetRpc, morpho: MorphoDeployment) -> None:
    txs = []
    for token in {m.loan_token for m in morpho.markets}:
        txs.append(Tx(LIQUIDATOR, token, calldata("mint(address,uint256)", LIQUIDATOR, 10**40)))
        txs.append(Tx(LIQUIDATOR, token, calldata("approve(address,uint256)", morpho.morpho,
                                                  2**256 - 1)))
    rpc.send_many(txs)


def _liquidatable_at(rpc: DevnetRpc, morpho: MorphoDeployment, market: MorphoMarket,
                     borrower: str, price_1e36: int, block: int) -> bool:
    """A real `liquidate(seizedAssets = 1)` with the oracle pinned to `price_1e36`."""
    call = {"from": LIQUIDATOR, "to": morpho.morpho, "gas": hex(2_000_000), "data": calldata(
        f"liquidate({MARKET_PARAMS},address,uint256,uint256,bytes)",
        market.params, borrower, 1, 0, b"")}
    override = {market.oracle: {"code": FIXED_PRICE_ORACLE,
                                "stateDiff": {"0x" + "00" * 32: "0x" + f"{price_1e36:064x}"}}}
    try:
        rpc.call("eth_call", [call, hex(block), override])
    except RpcCallError as exc:
        assert HEALTHY in str(exc), exc
        return False
    return True


def _borrowers(devnet: Devnet) -> Sequence[tuple[MorphoMarket, str]]:
    morpho = _deployment(devnet)
    return [(morpho.market(p.market_id), p.borrower) for p in devnet.morpho_plans]


def _deployment(devnet: Devnet) -> MorphoDeployment:
    assert devnet.morpho is not None, "the shared devnet deploys Morpho Blue"
    return devnet.morpho


def test_liquidation_price_is_where_a_real_liquidate_starts(
    devnet: Devnet, devnet_snapshot: DevnetRpc
) -> None:
    rpc, morpho = devnet_snapshot, _deployment(devnet)
    _fund(rpc, morpho)
    block = _warp(rpc, DAYS_31)
    now = _timestamp(rpc, block)
    checked = stale_wrong = 0
    for market, borrower in _borrowers(devnet):
        collateral, shares = _position(rpc, morpho.morpho, market, borrower, block)
        if shares == 0:
            continue
        stored = _market(rpc, morpho.morpho, market, block)
        accrued = accrue_interest(stored, _rate(rpc, market, stored, block), now)
        price = liquidation_price_1e36(collateral, borrowed_assets(shares, accrued),
                                       market.lltv_wad)
        assert price is not None
        for healthy_price in (price, price * 10_001 // 10_000):
            assert not _liquidatable_at(rpc, morpho, market, borrower, healthy_price, block)
        for unhealthy_price in (price - 1, price * 9_999 // 10_000):
            assert _liquidatable_at(rpc, morpho, market, borrower, unhealthy_price, block)
        stale = liquidation_price_1e36(collateral, borrowed_assets(shares, stored),
                                       market.lltv_wad)
        assert stale is not None and stale <= price
        stale_wrong += stale < price
        checked += 1
    assert checked >= 80, checked
    assert stale_wrong >= checked // 2, "31 days of interest move most liquidation prices"

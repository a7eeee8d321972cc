"""Morpho Blue discovery and pinned reads against the real Morpho Blue on the devnet."""

from __future__ import annotations

import asyncio

import pytest

from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig
from scanner.devnet.network import Devnet
from scanner.protocols.morpho_blue.read import (
    MarketAtBlock,
    PositionAtBlock,
    discover_market_ids,
    discover_positions,
    read_markets,
    read_positions,
)

pytestmark = pytest.mark.integration


def _chain(devnet: Devnet) -> ChainConfig:
    return ChainConfig(name="devnet", rpc_url=devnet.rpc_url, chain_id=31337, confirmations=0)


Scanned = tuple[list[str], dict[tuple[str, str], int], list[MarketAtBlock], list[PositionAtBlock]]


async def _scan(devnet: Devnet, market_ids: list[str] | None) -> Scanned:
    assert devnet.morpho is not None
    chain, morpho = _chain(devnet), devnet.morpho.morpho
    async with RpcClient(devnet.rpc_url) as rpc:
        block = await rpc.block_number()
        ids = await discover_market_ids(rpc, chain, morpho, devnet.morpho.deploy_block, block)
        found = await discover_positions(rpc, chain, morpho, market_ids,
                                         devnet.morpho.deploy_block, block)
        markets = await read_markets(rpc, chain, morpho, ids, block)
        positions = await read_positions(rpc, chain, morpho, sorted(found), block)
        return ids, found, markets, positions


def test_every_seeded_borrower_is_discovered_and_read(devnet: Devnet) -> None:
    assert devnet.morpho is not None
    ids, found, markets, positions = asyncio.run(_scan(devnet, None))
    assert ids == [m.market_id.lower() for m in devnet.morpho.markets]
    planned = {(p.market_id.lower(), p.borrower) for p in devnet.morpho_plans}
    assert planned <= set(found)
    with_debt = {(p.market_id, p.account) for p in positions}
    assert planned == with_debt  # every plan borrows; nobody else does
    for market, deployed in zip(markets, devnet.morpho.markets, strict=True):
        assert market.params.as_tuple() == deployed.params
        assert market.oracle_price_1e36 > 0 and market.borrow_rate_wad > 0
        assert market.stored.total_borrow_assets > 0


def test_market_id_filter_keeps_only_those_markets(devnet: Devnet) -> None:
    assert devnet.morpho is not None
    wanted = devnet.morpho.markets[0].market_id.lower()
    _ids, found, _markets, _positions = asyncio.run(_scan(devnet, [wanted]))
    assert found and {market_id for market_id, _ in found} == {wanted}

"""Morpho borrowers are discovered and stored per (market id, account) and read in their own
market only: a scan costs one `position()` per real position, not accounts x markets, and finds
exactly the positions that reading every account in every market finds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import insert

from scanner.chain.rpc import RpcClient
from scanner.config import Config
from scanner.devnet.network import MORPHO_MARKET_KEY, Devnet
from scanner.domain import MarketRead
from scanner.pipeline.scan import scan_market
from scanner.protocols import protocol_spec
from scanner.protocols.morpho_blue.adapter import MorphoBlueAdapter
from scanner.store.repository import ACCOUNTS, Repository
from tests.integration.scan_helpers import devnet_config, fresh_repo

pytestmark = pytest.mark.integration


def _read_everywhere(config: Config, accounts: list[str], block: int) -> MarketRead:
    """The old way: every account in every chosen market."""
    market = config.market(MORPHO_MARKET_KEY)

    async def main() -> MarketRead:
        async with RpcClient(config.chains[market.chain].rpc_url) as rpc:
            adapter = protocol_spec(market.protocol).adapter(rpc, market, config.chain_of(market))
            assert isinstance(adapter, MorphoBlueAdapter)
            return await adapter.read(await adapter.resolve(block), accounts, block)
    return asyncio.run(main())


def _positions(read: MarketRead) -> set[tuple[str, str]]:
    return {(p.submarket, p.account) for p in read.positions}


def test_borrowers_are_stored_and_read_per_market(devnet: Devnet, tmp_path: Path) -> None:
    config = devnet_config(devnet, tmp_path, f"sqlite:///{tmp_path / 'm.db'}")
    repo = fresh_repo(config)
    outcome = asyncio.run(scan_market(config, config.market(MORPHO_MARKET_KEY), repo))
    (market,) = outcome.markets
    stored = repo.known_borrowers(MORPHO_MARKET_KEY)
    planned = {(p.market_id.lower(), p.borrower) for p in devnet.morpho_plans}
    assert set(stored) >= planned and all(submarket for submarket, _ in stored)
    assert market.accounts_known == len(stored) == len(market.discovery.borrowers)
    assert devnet.morpho is not None
    accounts = sorted({a for _, a in stored})
    # the pairs read are a fraction of accounts x markets, and find the same positions
    assert len(stored) * 2 < len(accounts) * len(devnet.morpho.markets)
    everywhere = _read_everywhere(config, accounts, outcome.record.block)
    assert _positions(market.read) == _positions(everywhere)
    assert len(market.read.positions) >= 80


def test_a_borrower_stored_before_0011_is_read_in_every_market(
    devnet: Devnet, tmp_path: Path
) -> None:
    """A row without a submarket (written before migration 0011) is not lost: it is read in
    every chosen market, as before."""
    config = devnet_config(devnet, tmp_path, f"sqlite:///{tmp_path / 'm.db'}")
    repo: Repository = fresh_repo(config)
    assert devnet.morpho is not None
    legacy = devnet.morpho_plans[0].borrower
    start = devnet.morpho.deploy_block
    with repo.engine.begin() as conn:
        conn.execute(insert(ACCOUNTS).values(market_key=MORPHO_MARKET_KEY, submarket="",
                                             account=legacy, first_seen_block=start))
    outcome = asyncio.run(scan_market(config, config.market(MORPHO_MARKET_KEY), repo))
    (market,) = outcome.markets
    assert ("", legacy) in market.discovery.borrowers
    assert legacy in {p.account for p in market.read.positions}
    assert repo.known_accounts(MORPHO_MARKET_KEY)[legacy] == start

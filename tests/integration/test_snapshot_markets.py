"""One snapshot across markets and protocols, on the session devnet's Aave v3.0 and v3.6
markets, Morpho Blue, its two Comets (USDC and WETH base) and Aave v2.

Every market is read at one block and stored as one snapshot; each market's part equals a
snapshot of that market alone at the same block, and the bands sum them with a breakdown.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from scanner.devnet.network import (
    AAVE2_MARKET_KEY,
    AAVE36_MARKET_KEY,
    AAVE_MARKET_KEY,
    LIQUITY1_MARKET_KEY,
    LIQUITY2_MARKET_KEY,
    MAKER_MARKET_KEY,
    MORPHO_MARKET_KEY,
    Devnet,
)
from scanner.domain import PositionResult
from scanner.pipeline.scan import scan_market
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan

pytestmark = pytest.mark.integration



def _by_key(results: tuple[PositionResult, ...], market: str
            ) -> dict[tuple[str, str], PositionResult]:
    return {(r.axis, r.account): r for r in results if r.market_key == market}


ALL_MARKETS = (AAVE_MARKET_KEY, AAVE36_MARKET_KEY, MORPHO_MARKET_KEY, "compound-v3-usdc",
               "compound-v3-weth", AAVE2_MARKET_KEY,
               MAKER_MARKET_KEY, LIQUITY1_MARKET_KEY, LIQUITY2_MARKET_KEY)


def test_every_market_at_one_block_is_one_snapshot(devnet: Devnet, tmp_path: Path) -> None:
    config = devnet_config(devnet, tmp_path, f"sqlite:///{tmp_path / 'both.db'}")
    assert [m.key for m in config.markets] == list(ALL_MARKETS)
    repo = fresh_repo(config)
    both = scan(config, repo)
    assert both.record.market_keys == ALL_MARKETS
    assert {m.record.block for m in both.markets} == {both.record.block}
    assert repo.latest_snapshot_id() == both.snapshot_id
    assert repo.get_snapshot(both.snapshot_id).record == both.record
    assert {r.market_key for r in repo.load_positions(both.snapshot_id)} == set(ALL_MARKETS)
    # Maker rows carry the OSM's next-price verdict and the CdpManager vault, stored and read back
    stored = repo.load_positions(both.snapshot_id)
    maker_rows = [r for r in stored if r.market_key == MAKER_MARKET_KEY]
    assert maker_rows and all(r.liquidatable_next is not None for r in maker_rows)
    assert any(r.liquidatable_next for r in maker_rows)
    assert any(r.vault_id is not None and r.owner for r in maker_rows)
    assert all(r.liquidatable_next is None and r.vault_id is None for r in stored
               if r.market_key != MAKER_MARKET_KEY)
    assert sorted(maker_rows, key=str) == sorted(
        (r for r in both.results if r.market_key == MAKER_MARKET_KEY), key=str)
    # Liquity v2 rows: one per trove, the branch as submarket, the TroveNFT owner stored
    liquity2_rows = [r for r in stored if r.market_key == LIQUITY2_MARKET_KEY]
    assert liquity2_rows and all(r.owner for r in liquity2_rows)
    assert {r.submarket for r in liquity2_rows} == {"0:WETH", "1:wstETH", "2:rETH:shutdown"}

    # each market's part is what a snapshot of that market alone says at the same block
    for market in ALL_MARKETS:
        alone_config = devnet_config(devnet, tmp_path / market, f"sqlite:///{tmp_path}/{market}.db")
        if market == LIQUITY1_MARKET_KEY:  # alone it lists only ETH: the reference, no BTC
            alone_config = replace(alone_config, axes={"ETH": replace(
                alone_config.axes["ETH"], reference="ETH")})
        if market == LIQUITY2_MARKET_KEY:  # no BTC branch: alone, it cannot price that axis
            alone_config = replace(alone_config, axes={"ETH": alone_config.axes["ETH"]})
        alone = asyncio.run(scan_market(alone_config, alone_config.market(market),
                                        fresh_repo(alone_config), both.record.block))
        together, single = _by_key(both.results, market), _by_key(alone.results, market)
        assert together.keys() == single.keys() and together
        for key, result in together.items():
            other = single[key]
            assert result.liquidation_price_native == other.liquidation_price_native, key
            assert (result.status, result.seizable_usd_8dec) == (other.status,
                                                                  other.seizable_usd_8dec), key
            if market == AAVE_MARKET_KEY:  # the first market's oracle is the axis reference
                assert result == other, key

    # bands: sums of both markets, each broken down
    assert both.bands
    for band in both.bands:
        assert band.positions == sum(s.positions for s in band.shares)
        assert band.collateral_usd_8dec == sum(s.collateral_usd_8dec for s in band.shares)
    markets_in_bands = {s.market_key for b in both.bands for s in b.shares}
    assert markets_in_bands >= {AAVE_MARKET_KEY, AAVE36_MARKET_KEY}
    binned_markets = {s.market_key for b in both.bins for s in b.shares}
    assert binned_markets == set(ALL_MARKETS)  # Morpho's and the Comets' are summed in
    assert {s.protocol for b in both.bins for s in b.shares} == {
        "aave-v3", "morpho-blue", "compound-v3", "aave-v2", "maker", "liquity-v1",
        "liquity-v2"}
    binned = sum(b.positions for b in both.bins)
    assert binned == sum(s.positions for b in both.bins for s in b.shares)

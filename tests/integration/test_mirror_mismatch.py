"""A health-factor mirror that disagrees with the Pool never becomes a liquidation price.

The disagreement is a rounding bug planted in the mirror (percentMul floored instead of
half-up, as a mirror written from reading sources might have it), so the real v3.0 Pool's
getUserAccountData at the scan block disagrees for some accounts. The scan must then store
nothing and exit 65 naming the market, the revision and the number of accounts; with
--store-unverified it stores them flagged `unverified`, without a price, outside every bin
and band, and counts them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from pathlib import Path

import pytest

from scanner import cli
from scanner.config import Config
from scanner.devnet.network import Devnet
from scanner.domain import PositionStatus
from scanner.errors import MirrorMismatchError
from scanner.pipeline.scan import SnapshotOutcome, scan_chain
from scanner.protocols.aave_v3 import generic_logic as aave_math
from scanner.protocols.aave_v3 import read as aave_read
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState
from scanner.store.repository import Repository
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan

pytestmark = pytest.mark.integration


def _floored_percent_mul(value: int, percentage_bps: int) -> int:
    return value * percentage_bps // aave_math.PERCENTAGE_FACTOR


def _floored_account_totals(account: AaveAccount, state: AaveMarketState
                            ) -> aave_math.AccountTotals:
    """The v3.0 health factor, wad_div(percentMul(collateral, avgLT), debt), floored."""
    totals = aave_math.account_totals(account, state)
    arithmetic = aave_math.arithmetic_for_revision(state.pool_revision,
                                                   state.allow_unreviewed_revision)
    if totals.debt_8dec == 0 or arithmetic in (aave_math.HealthArithmetic.V3_5,
                                               aave_math.HealthArithmetic.V3_6):
        return totals  # v3.5+ weighs the sum without percentMul
    health_factor_wad = aave_math.wad_div(
        _floored_percent_mul(totals.collateral_8dec, totals.avg_lt_bps), totals.debt_8dec)
    return dataclasses.replace(totals, health_factor_wad=health_factor_wad)


@pytest.fixture
def wrong_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    """The v3.0 rule with percentMul floored: a mirror known to be wrong for some accounts.
    Planted where the scan's mirror check calls it (read.py): inside the math modules a
    compiled build (scanner/native.py) calls percent_mul directly, past any patch."""
    monkeypatch.setattr(aave_read, "account_totals", _floored_account_totals)


def test_a_disagreeing_mirror_fails_the_scan_and_stores_nothing(
    devnet: Devnet, db_url: str, tmp_path: Path, wrong_mirror: None
) -> None:
    config = devnet_config(devnet, tmp_path, db_url)
    repo = fresh_repo(config)
    market = config.markets[0].key
    with pytest.raises(MirrorMismatchError) as raised:
        scan(config, repo)
    message = raised.value.message
    assert f"market {market}" in message and "pool revision 1" in message
    assert "--store-unverified" in message and "nothing was stored" in message
    count = re.search(r"block \d+ for (\d+) of (\d+) accounts", message)
    assert count is not None and 0 < int(count[1]) <= int(count[2])
    assert repo.latest_snapshot_id() is None
    assert repo.get_cursor(market) is None and repo.known_accounts(market) == {}


def test_store_unverified_keeps_them_without_prices_outside_bins_and_bands(
    devnet: Devnet, db_url: str, tmp_path: Path, wrong_mirror: None
) -> None:
    config = devnet_config(devnet, tmp_path, db_url)
    repo = fresh_repo(config)
    outcome = scan_unverified(config, repo)
    assert outcome.mirror_mismatches, "the wrong rule must disagree with the pool somewhere"
    stored = repo.load_positions(outcome.snapshot_id)
    unverified = [p for p in stored if p.status is PositionStatus.UNVERIFIED]
    assert {p.account for p in unverified} == set(outcome.mirror_mismatches)
    for position in unverified:
        assert position.liquidation_price_8dec is None and position.direction is None
        assert position.seizable_usd_8dec == 0
    priced = [p for p in stored if p.liquidation_price_8dec is not None]
    assert not {p.account for p in priced} & set(outcome.mirror_mismatches)
    in_bins = sum(b.positions for b in repo.load_bins(outcome.snapshot_id))
    at_risk = sum(p.status is PositionStatus.AT_RISK for p in stored)
    assert in_bins <= at_risk  # bins count at-risk positions only (within their range)
    for band in repo.load_bands(outcome.snapshot_id):
        assert not set(band.top_accounts) & set(outcome.mirror_mismatches)


def scan_unverified(config: Config, repo: Repository) -> SnapshotOutcome:
    return asyncio.run(scan_chain(config, list(config.markets), repo, store_unverified=True))


def test_cli_exits_65_with_one_line_naming_the_fix(
    devnet: Devnet, db_url: str, tmp_path: Path, wrong_mirror: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = devnet_config(devnet, tmp_path, db_url)
    path = tmp_path / "config.toml"
    # the session devnet has two markets; the planted bug is in the v3.0 rule, so scan that one
    market_key = config.markets[0].key
    assert cli.main(["--config", str(path), "scan", "--market", market_key]) == 65
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("liqscan: error: market ")
    assert "Traceback" not in err[0]
    assert fresh_repo(config).latest_snapshot_id() is None

"""The Aave v2 adapter against the real v2 LendingPool (npm @aave/protocol-v2) on the devnet:
the shared adapter contract, then what makes v2 v2 -- a month of stale indices accrued as the
tokens do, stable loans with their own rates, a deposit enabled as collateral with LT 0."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.devnet.network import AAVE2_MARKET_KEY, Devnet, write_config
from scanner.devnet.prices import get_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc
from scanner.domain import MarketRead
from scanner.protocols.aave_v2.rule import V2Position, account_legs, account_totals
from scanner.store import db
from scanner.store.repository import stored_scan_count
from tests.integration.aave_v2_env import deployment, v2_env
from tests.integration.adapter_contract import AdapterContract, AdapterEnv, read_all, run

pytestmark = pytest.mark.integration

THIRTY_DAYS_SECONDS = 30 * 86_400


@pytest.fixture
def adapter_env(devnet: Devnet) -> AdapterEnv:
    return v2_env(devnet)


@pytest.fixture
def move_prices(devnet: Devnet, devnet_snapshot: DevnetRpc) -> Callable[[], int]:
    def move() -> int:
        today = {s: get_price_usd_8dec(devnet_snapshot, devnet.aave, s) for s in ("WETH", "WBTC")}
        return set_prices(devnet_snapshot, devnet.aave, {s: p * 9 // 10 for s, p in today.items()})
    return move


def _read_every_borrower(env: AdapterEnv) -> MarketRead:
    return run(env, lambda a: read_all(a, sorted(env.borrowers), env.head_block))


class TestAaveV2Adapter(AdapterContract):
    def test_at_least_200_positions_every_mirror_agrees(self, adapter_env: AdapterEnv,
                                                        devnet: Devnet) -> None:
        """Every borrower is read, and for every one the accrual mirror reproduces the
        tokens' balanceOf and the GenericLogic mirror the pool's getUserAccountData."""
        assert len(adapter_env.borrowers) >= 200
        assert {p.kind for p in devnet.aave2_plans} >= {"eth_long", "eth_short", "mixed",
                                                         "lt_zero_deposit"}
        read = _read_every_borrower(adapter_env)
        assert {p.account for p in read.positions} == set(adapter_env.borrowers)
        assert read.mirror_mismatches == ()
        assert read.revision == 2  # LENDINGPOOL_REVISION of npm @aave/protocol-v2 1.0.1

    def test_indices_are_stale_and_accrued(self, adapter_env: AdapterEnv) -> None:
        """A month since any reserve was touched: the stored indices are stale, and what the
        scan uses (balanceOf, reproduced by interest.py) is well above the stored values."""
        read = _read_every_borrower(adapter_env)
        states = [p.state for p in read.positions]
        assert all(isinstance(s, V2Position) for s in states)
        market = states[0].market  # type: ignore[attr-defined]
        borrowed = [r for r in market.reserves.values() if r.variable_borrow_rate_ray]
        assert borrowed and all(
            market.block_timestamp - r.last_update_timestamp >= THIRTY_DAYS_SECONDS
            for r in borrowed)
        legs = [r for s in states for r in s.account.reserves]  # type: ignore[attr-defined]
        stable = [r for r in legs if r.stable.principal_raw]
        variable = [r for r in legs if r.scaled_variable_debt_raw]
        assert len(stable) >= 50 and len(variable) >= 50
        assert all(r.stable_debt_raw > r.stable.principal_raw for r in stable)
        assert len({r.stable.rate_ray for r in stable}) > 10  # each loan keeps its own rate

    def test_lt_zero_collateral_counts_for_nothing(self, adapter_env: AdapterEnv,
                                                   devnet: Devnet) -> None:
        """USDT (LT 0) deposits are enabled as collateral by the first deposit, yet the pool
        leaves them out of the collateral, and so does the mirror."""
        read = _read_every_borrower(adapter_env)
        usdt = devnet.aave.tokens["USDT"]
        holders = 0
        for position in read.positions:
            state = position.state
            assert isinstance(state, V2Position)
            (held,) = [r for r in state.account.reserves if r.asset == usdt] or [None]
            if held is None or not (held.used_as_collateral and held.supplied_raw):
                continue
            holders += 1
            (leg,) = [leg for leg in account_legs(state.account, state.market)
                      if leg.asset == usdt]
            assert leg.collateral_raw == 0
            totals = account_totals(state.account, state.market)
            assert totals.collateral_eth_wei == state.account.reported_collateral_eth_wei
        assert holders >= 5


@pytest.mark.parametrize(("key", "other"), [
    ("lending_pool_addresses_provider", "token"),  # an ERC-20: getLendingPool() reverts
    ("lending_pool_addresses_provider", "pool"),  # the LendingPool itself
    ("eth_usd_feed", "token"),  # no latestAnswer()
])
def test_another_contract_is_refused_naming_its_key(
    devnet: Devnet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, other: str
) -> None:
    """One line, exit 78, the key and the address named, nothing stored."""
    monkeypatch.setenv("LIQSCAN_NO_PROGRESS", "1")
    v2 = deployment(devnet)
    wrong = devnet.aave.tokens["WETH"] if other == "token" else v2.pool
    real = v2.provider if key == "lending_pool_addresses_provider" else v2.eth_usd_feed
    path, url = tmp_path / "config.toml", f"sqlite:///{tmp_path / 'liqscan.db'}"
    write_config(devnet, path, database_url=url)
    db.upgrade(url)
    text = path.read_text()
    line = f'{key} = "{real}"'
    assert text.count(line) == 1
    path.write_text(text.replace(line, f'{key} = "{wrong}"'))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--config", str(path), "scan", "--market", AAVE2_MARKET_KEY])
    lines = err.getvalue().strip().splitlines()
    assert code == 78 and len(lines) == 1, err.getvalue()
    assert f".{key} {wrong} (market '{AAVE2_MARKET_KEY}') is a contract but not a aave-v2" in (
        lines[0]), lines[0]
    engine = db.make_engine(url)
    try:
        assert stored_scan_count(engine) == 0
    finally:
        engine.dispose()

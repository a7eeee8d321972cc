"""An incremental snapshot equals a full one at the same block, position by position.

A full snapshot at block B stores its derivation bases; then real transactions touch a few
accounts (a new borrower, a repay, a supply, a liquidation after a price drop) and time
passes; the incremental snapshot at B' re-reads only those accounts and derives the others.
A full scan of B' in the same database must then find the stored snapshot identical
(persist.py compares every stored field of every position, the bins and the bands), and its
results must equal the incremental ones field by field. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from scanner.chain.rpc import RpcClient
from scanner.config import Config, load_config
from scanner.devnet.network import AAVE_MARKET_KEY, Devnet
from scanner.devnet.prices import get_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc
from scanner.pipeline import incremental
from scanner.pipeline import scan as scan_module
from scanner.pipeline.incremental import (
    DERIVERS,
    IncrementalOutcome,
    scan_full,
    scan_incremental,
)
from scanner.protocols.aave_v2.read import AaveV2Adapter
from scanner.protocols.aave_v3 import derive as aave_derive
from scanner.protocols.aave_v3.read import AaveV3Adapter
from scanner.store.repository import Repository
from tests.integration import incremental_helpers as tx
from tests.integration.daemon_helpers import (
    DaemonProcess,
    assert_every_snapshot_whole,
    daemon_config,
    free_port,
    http_get,
    reap_daemons,
)
from tests.integration.fault_helpers import fresh_sqlite
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan
from tests.integration.test_cli import liqscan

__all__ = ["reap_daemons"]  # the autouse fixture, imported to apply here

pytestmark = pytest.mark.integration
DAYS_3 = 3 * 86_400
DROP_BPS = 800


def _config(devnet: Devnet, tmp_path: Path, db_url: str, keys: tuple[str, ...]) -> Config:
    config = devnet_config(devnet, tmp_path, db_url)
    return dataclasses.replace(config, markets=tuple(m for m in config.markets if m.key in keys))


def _full(config: Config, repo: Repository, block: int | None = None) -> IncrementalOutcome:
    return asyncio.run(scan_full(config, list(config.markets), repo, block))


def _incremental(config: Config, repo: Repository, every: int | None = None
                 ) -> IncrementalOutcome:
    return asyncio.run(scan_incremental(config, list(config.markets), repo,
                                        full_every_blocks=every))


def _require_same_as_full(config: Config, repo: Repository, inc: IncrementalOutcome) -> None:
    block = inc.outcome.record.block
    again = scan(config, repo, block=block)  # raises when a stored position differs
    assert again.already_stored and again.snapshot_id == inc.outcome.snapshot_id
    key = repr
    assert sorted(again.results, key=key) == sorted(inc.outcome.results, key=key)
    assert again.bins == inc.outcome.bins and again.bands == inc.outcome.bands
    stored = repo.load_positions(inc.outcome.snapshot_id)
    assert sorted(stored, key=key) == sorted(again.results, key=key)


def test_incremental_equals_full_after_real_transactions(
    devnet: Devnet, devnet_snapshot: DevnetRpc, db_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rpc = devnet_snapshot
    every = devnet_config(devnet, tmp_path, db_url)  # every derivable protocol of the devnet
    config = _config(devnet, tmp_path, db_url, tuple(
        m.key for m in every.markets if m.protocol in DERIVERS))
    assert len({m.protocol for m in config.markets}) == 5
    repo = Repository.from_url(db_url)
    spans = _record_spans(monkeypatch, [
        (RpcClient, "check_chain"), (scan_module, "_pin_block"), (RpcClient, "require_code"),
        (scan_module, "plan_discovery"), (scan_module, "resolve_market"),
        (AaveV3Adapter, "_read")])
    first = _full(config, repo)
    _require_round_trips_at_once(spans)
    assert first.bases_stored and not first.incremental
    _require_captured_parses_are_the_texts(AAVE_MARKET_KEY)
    plans = {p.account: p for p in devnet.aave_plans if p.borrows}
    doomed = tx.liquidatable_after_drop(first.outcome.results, AAVE_MARKET_KEY, DROP_BPS)
    assert doomed, "no position to liquidate after the drop"
    others = sorted(set(plans) - set(doomed))
    touched = {tx.new_borrower(rpc, devnet.aave, seed=9311),
               tx.repay_half(rpc, devnet.aave, plans[others[0]]),
               tx.supply_more(rpc, devnet.aave, plans[others[1]])}
    weth_8dec = get_price_usd_8dec(rpc, devnet.aave, "WETH")
    set_prices(rpc, devnet.aave, {"WETH": weth_8dec * (10_000 - DROP_BPS) // 10_000})
    touched.add(tx.liquidate(rpc, devnet.aave, plans[doomed[0]]))
    assert devnet.morpho is not None and devnet.compound is not None
    touched.add(tx.morpho_repay_half(rpc, devnet.morpho, devnet.morpho_plans[0]))
    comet_plan = next(p for p in devnet.compound_plans if p.borrow_raw)
    touched.add(tx.comet_repay_part(rpc, devnet.compound, comet_plan))
    rpc.call("evm_increaseTime", [DAYS_3])
    rpc.mine()

    inc = _incremental(config, repo)
    assert inc.incremental, inc.reason
    assert inc.derived > 10 * inc.reread > 0
    for market in config.markets:  # every protocol derives most of its positions
        reread, derived = inc.by_market[market.key]
        assert derived > reread, (market.key, reread, derived)
    assert inc.outcome.record.block > first.outcome.record.block
    _require_same_as_full(config, repo, inc)
    accounts = {r.account for r in inc.outcome.results}
    assert touched - {plans[doomed[0]].account} <= accounts

    rpc.call("evm_increaseTime", [DAYS_3])  # a second step derives from derived bases
    rpc.mine()
    steps = _record_market_steps(monkeypatch)
    spans = _record_spans(monkeypatch, [
        (RpcClient, "check_chain"), (scan_module, "_pin_block"), (RpcClient, "require_code"),
        (incremental, "plan_discovery"), (incremental, "resolve_market"),
        (AaveV3Adapter, "_read")])
    reserve_reads = _count_reserve_reads(monkeypatch)
    v2_market_reads = _count_calls(monkeypatch, AaveV2Adapter, "read_market")
    second = _incremental(config, repo)
    assert second.incremental and second.reread == 0, second.reason
    # the markets are read at once, as a full snapshot reads them (each awaits the node
    # before it ends, so every one has started before the first ends); one after the
    # other, each market's round trips added up
    first_end = next(n for n, (event, _key) in enumerate(steps) if event == "end")
    assert {key for _event, key in steps[:first_end]} == {m.key for m in config.markets}
    # Aave v3 reads its reserves once a block, with the state it derives from: the events'
    # search (their tokens) and the touched accounts' new bases take the state's (they read
    # them again at the same block, three reads in all)
    aave_pools = [m for m in config.markets if m.protocol == "aave-v3"]
    assert aave_pools and list(reserve_reads.values()) == [1] * len(aave_pools), reserve_reads
    assert v2_market_reads == [1], v2_market_reads  # was twice: the events' tokens, the state
    _require_round_trips_at_once(spans)
    _require_same_as_full(config, repo, second)
    _require_captured_parses_are_the_texts(AAVE_MARKET_KEY)


def _record_spans(monkeypatch: pytest.MonkeyPatch, targets: list[tuple[Any, str]]
                  ) -> list[tuple[str, str]]:
    """("start" | "end", name) of every call of each coroutine function, in order."""
    spans: list[tuple[str, str]] = []

    def recorded(function: Any, name: str) -> Any:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            spans.append(("start", name))
            try:
                return await function(*args, **kwargs)
            finally:
                spans.append(("end", name))
        return wrapper

    for owner, name in targets:
        monkeypatch.setattr(owner, name, recorded(getattr(owner, name), name))
    return spans


def _started_before_ended(spans: list[tuple[str, str]], later: str, first: str) -> bool:
    """`later`'s first call starts before `first`'s first call ends (both await the node)."""
    return spans.index(("start", later)) < spans.index(("end", first))


def _require_round_trips_at_once(spans: list[tuple[str, str]]) -> None:
    # one after the other, each pair's round trips added up at every snapshot (a hosted
    # provider's ~50 ms each): the chain id and the head; discovery's plan (the head, the
    # cursor block's hash) and the market's resolution; the provider's code and its answers
    assert _started_before_ended(spans, "_pin_block", "check_chain"), spans
    assert _started_before_ended(spans, "resolve_market", "plan_discovery"), spans
    assert _started_before_ended(spans, "_read", "require_code"), spans


def _record_market_steps(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """("start" | "end", market key) of each market's incremental read, in order."""
    steps: list[tuple[str, str]] = []
    read_market = incremental._read_market

    async def recorded(*args: Any) -> Any:
        key = args[2].key
        steps.append(("start", key))
        try:
            return await read_market(*args)
        finally:
            steps.append(("end", key))

    monkeypatch.setattr(incremental, "_read_market", recorded)
    return steps


def _count_calls(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[int]:
    """[calls of owner.name] while the test runs (a one-item list, filled as it goes)."""
    calls = [0]
    method = getattr(owner, name)

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return await method(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def _count_reserve_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Reads of the Aave v3 reserves per pool (filled while a step runs)."""
    counts: dict[str, int] = {}
    read = aave_derive._reserves

    async def counted(adapter: Any, pool: str, block: int) -> Any:
        counts[pool] = counts.get(pool, 0) + 1
        return await read(adapter, pool, block)

    monkeypatch.setattr(aave_derive, "_reserves", counted)
    return counts


def _require_captured_parses_are_the_texts(market_key: str) -> None:
    """The Aave v3 bases a capture (or the last derivation) handed over already parsed are
    what parsing their stored text gives: deriving from either is the same."""
    cached = aave_derive.DERIVER._parsed[market_key]
    assert cached
    assert all(parsed == aave_derive._parse(text) for text, parsed in cached.items())


def test_reorg_of_the_stored_block_falls_back_to_full(
    devnet: Devnet, devnet_snapshot: DevnetRpc, db_url: str, tmp_path: Path
) -> None:
    rpc = devnet_snapshot
    config = _config(devnet, tmp_path, db_url, (AAVE_MARKET_KEY,))
    repo = Repository.from_url(db_url)
    before = rpc.call("evm_snapshot")
    rpc.mine()
    first = _full(config, repo)
    assert first.bases_stored
    assert rpc.call("evm_revert", [before]) is True  # the stored block leaves the chain
    rpc.call("evm_increaseTime", [60])
    rpc.mine(3)
    inc = _incremental(config, repo)
    assert not inc.incremental and "reorg" in inc.reason, inc.reason
    assert inc.bases_stored


def test_periodic_and_configuration_fallbacks(
    devnet: Devnet, devnet_snapshot: DevnetRpc, db_url: str, tmp_path: Path
) -> None:
    rpc = devnet_snapshot
    config = _config(devnet, tmp_path, db_url, (AAVE_MARKET_KEY,))
    repo = Repository.from_url(db_url)
    _full(config, repo)
    rpc.mine(2)
    periodic = _incremental(config, repo, every=2)
    assert not periodic.incremental and "periodic" in periodic.reason
    rpc.mine()
    assert _incremental(config, repo, every=2).incremental
    (market,) = config.markets
    moved = dataclasses.replace(config, markets=(dataclasses.replace(
        market, flags={**market.flags, "allow_unreviewed_revision": True}),))
    rpc.mine()
    changed = _incremental(moved, repo)
    assert not changed.incremental and "configuration changed" in changed.reason


def test_daemon_snapshots_incrementally_and_each_equals_a_full_scan(
    devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path
) -> None:
    rpc = devnet_snapshot
    path = daemon_config(devnet, tmp_path, fresh_sqlite(tmp_path, "daemon"),
                         "full_snapshot_every_blocks = 4\n")
    config = load_config(path)
    repo = fresh_repo(config)
    port = free_port()
    daemon = DaemonProcess(path, tmp_path / "daemon.log", "--http", f"127.0.0.1:{port}")
    daemon.wait_for_snapshot(rpc.block_number())
    plans = [p for p in devnet.aave_plans if p.borrows]
    for n in range(5):  # a touched account in some blocks, time passing in all
        if n % 2:
            tx.supply_more(rpc, devnet.aave, plans[n])
        rpc.call("evm_increaseTime", [3_600])
        rpc.mine()
        daemon.wait_for_snapshot(rpc.block_number())
    _status, metrics = http_get(port, "/metrics")
    assert daemon.stop() == 0
    modes = dict(re.findall(r'liqscan_snapshots_by_mode_total\{chain="devnet",mode="(\w+)"\} '
                            r"(\d+)", metrics))
    assert int(modes["incremental"]) >= 3 and int(modes["full"]) >= 2, modes
    for block in assert_every_snapshot_whole(repo):  # each equals a full scan of its block
        again = scan(config, repo, block=block)
        assert again.already_stored, block


def test_cli_scan_incremental(devnet: Devnet, devnet_snapshot: DevnetRpc, tmp_path: Path
                              ) -> None:
    path = daemon_config(devnet, tmp_path, fresh_sqlite(tmp_path, "cli"))
    fresh_repo(load_config(path))
    first = liqscan("--config", str(path), "scan", "--incremental")
    assert first.returncode == 0, first.stderr
    assert "full snapshot: no stored derivation bases" in first.stdout
    devnet_snapshot.mine()
    second = liqscan("--config", str(path), "scan", "--incremental")
    assert second.returncode == 0, second.stderr
    assert re.search(r"incremental: 0 positions read, [1-9][\d,]* derived", second.stdout)


def test_a_protocol_without_derivation_takes_full_snapshots(
    devnet: Devnet, devnet_snapshot: DevnetRpc, db_url: str, tmp_path: Path
) -> None:
    config = devnet_config(devnet, tmp_path, db_url)
    underivable = sorted({m.protocol for m in config.markets} - set(DERIVERS))
    assert underivable  # Liquity: its troves are read in full every block
    config = _config(devnet, tmp_path, db_url, (
        AAVE_MARKET_KEY, next(m.key for m in config.markets if m.protocol == underivable[0])))
    repo = Repository.from_url(db_url)
    assert not _full(config, repo).bases_stored
    devnet_snapshot.mine()
    again = _incremental(config, repo)
    assert not again.incremental and f"protocol {underivable[0]}" in again.reason

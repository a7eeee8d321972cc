"""Derivation bases (migrations 0014, 0017) and the incremental path's pure decisions.

- bases are stored whole per market, found for the newest snapshot of exactly its markets,
  go with their snapshot when it is deleted, a newer snapshot without bases hides older ones
  (derivation always starts from the newest snapshot), and storing newer ones drops older;
- a scan derived from the stored one rewrites only the rows that changed, and the stored rows
  (read back without this process's memory) are the scan's bases;
- `_why_full` names each reason to take a full snapshot;
- Aave v3 balances are rayMul half up before v3.5, floor (supply) / ceil (debt) after.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from scanner.config import MarketConfig
from scanner.domain import RAY, MarketRead, SnapshotRecord
from scanner.pipeline.incremental import _why_full, always_read_unverified, fingerprint
from scanner.protocols.aave_v3.derive import _balances, _Reserve, _rounding
from scanner.store import bases
from scanner.store.bases import (
    MARKET_BASES,
    MarketBases,
    PriorSnapshot,
    latest_bases,
    save_bases,
)
from scanner.store.repository import SNAPSHOTS, MarketScan, Repository
from tests.conftest import make_sample_scan

MARKET = MarketConfig(key="devnet-aave-v3", chain="devnet", protocol="aave-v3", start_block=1,
                      addresses={"pool_addresses_provider": "0x" + "11" * 20})
HASH = "0x" + "ab" * 32


def _store(repo: Repository, block: int) -> int:
    sample = make_sample_scan(block=block)
    record = SnapshotRecord(chain="devnet", chain_id=31337, block=block,
                            block_timestamp=sample.record.block_timestamp,
                            markets=(sample.record,))
    return repo.save_snapshot(record, [MarketScan(sample.record, sample.positions,
                                                  block_hash=HASH)], sample.bins, sample.bands)


def test_bases_round_trip_and_follow_their_snapshot(repo: Repository) -> None:
    assert latest_bases(repo.engine, "devnet", [MARKET.key]) is None
    first = _store(repo, 100)
    assert latest_bases(repo.engine, "devnet", [MARKET.key]) is None  # no bases: full next
    scan_id = repo.scan_ids(first)[MARKET.key]
    bases = {("0xpool", "0x" + "01" * 20): '{"e":0}', ("0xpool", "0x" + "02" * 20): "null"}
    save_bases(repo.engine, {scan_id: MarketBases(fingerprint(MARKET), bases, 100)})
    save_bases(repo.engine, {scan_id: MarketBases("other", {}, 1)})  # kept as it was
    prior = latest_bases(repo.engine, "devnet", [MARKET.key])
    assert prior == PriorSnapshot(first, 100, HASH, {
        MARKET.key: MarketBases(fingerprint(MARKET), bases, 100)})
    assert latest_bases(repo.engine, "devnet", [MARKET.key, "another"]) is None
    second = _store(repo, 101)  # newer, without bases: nothing to derive from
    assert latest_bases(repo.engine, "devnet", [MARKET.key]) is None
    newer = {("0xpool", "0x" + "03" * 20): '{"e":1}'}
    save_bases(repo.engine, {repo.scan_ids(second)[MARKET.key]: MarketBases("f", newer, 100)})
    assert latest_bases(repo.engine, "devnet", [MARKET.key]) == PriorSnapshot(
        second, 101, HASH, {MARKET.key: MarketBases("f", newer, 100)})
    with repo.engine.connect() as conn:  # the older scan's bases are gone, its snapshot kept
        assert conn.execute(select(func.count()).select_from(MARKET_BASES)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(SNAPSHOTS)).scalar() == 2
    with repo.engine.begin() as conn:
        conn.execute(delete(SNAPSHOTS).where(SNAPSHOTS.c.id.in_([first, second])))
    assert latest_bases(repo.engine, "devnet", [MARKET.key]) is None


def _stored_rows(repo: Repository) -> dict[tuple[str, str], str]:
    with repo.engine.connect() as conn:
        rows = conn.execute(select(MARKET_BASES.c.market_key, MARKET_BASES.c.submarket,
                                   MARKET_BASES.c.account, MARKET_BASES.c.base)).all()
    assert {r[0] for r in rows} <= {MARKET.key}
    return {(r[1], r[2]): r[3] for r in rows}


def test_a_derived_scan_rewrites_only_what_changed(repo: Repository) -> None:
    keep, touch, gone, new = (("0xpool", "0x" + f"{n:02x}" * 20) for n in range(1, 5))
    first = repo.scan_ids(_store(repo, 100))[MARKET.key]
    save_bases(repo.engine, {first: MarketBases("f", {keep: "[1]", touch: "[2]", gone: "[3]"},
                                                100)})
    prior = latest_bases(repo.engine, "devnet", [MARKET.key])
    assert prior is not None and prior.scan_ids == {MARKET.key: first}
    second = repo.scan_ids(_store(repo, 101))[MARKET.key]
    with repo.engine.begin() as conn:  # a marker row: a row not rewritten keeps it
        conn.execute(MARKET_BASES.update().where(MARKET_BASES.c.account == keep[1])
                     .values(base="[1] "))
    after = {keep: "[1]", touch: "[20]", new: "[4]"}
    save_bases(repo.engine, {second: MarketBases("f", after, 100)}, prior)
    assert _stored_rows(repo) == {keep: "[1] ", touch: "[20]", new: "[4]"}
    bases._MEMORY.clear()  # read back from the database, not from this process's memory
    third = repo.scan_ids(_store(repo, 102))[MARKET.key]
    save_bases(repo.engine, {third: MarketBases("f", after, 100)})  # no prior: all rewritten
    assert _stored_rows(repo) == after
    stored = latest_bases(repo.engine, "devnet", [MARKET.key])
    assert stored is not None and stored.markets[MARKET.key].bases == after
    save_bases(repo.engine, {second: MarketBases("f", {}, 100)})  # older: left as it is
    assert _stored_rows(repo) == after


def _prior(block: int, full_block: int, market: MarketConfig = MARKET) -> PriorSnapshot:
    return PriorSnapshot(1, block, HASH, {MARKET.key: MarketBases(fingerprint(market), {},
                                                                  full_block)})


def test_why_full_names_each_reason() -> None:
    assert _why_full(_prior(10, 10), [MARKET], 11, None) is None
    assert _why_full(_prior(10, 10), [MARKET], None, 5) is None  # the block is pinned later
    assert "no stored derivation bases" in str(_why_full(None, [MARKET], 11, None))
    other = MarketConfig(**{**MARKET.__dict__, "start_block": 2})
    assert "configuration changed" in str(_why_full(_prior(10, 10, other), [MARKET], 11, None))
    assert "not after" in str(_why_full(_prior(10, 10), [MARKET], 10, None))
    assert _why_full(_prior(14, 10), [MARKET], 14 + 1, 6) is None
    assert "periodic" in str(_why_full(_prior(15, 10), [MARKET], 16, 6))
    maker = MarketConfig(**{**MARKET.__dict__, "protocol": "unknown"})
    assert "no derivation for protocol unknown" in str(_why_full(_prior(10, 10), [maker], 11,
                                                                 None))


def test_aave_balances_round_as_the_tokens_do() -> None:
    reserve = _Reserve(("a", "s", "v"), income_ray=RAY + RAY // 3, debt_index_ray=RAY + RAY // 3)
    entry = ["asset", 1, 5, 5]  # 5 x 1.333... = 6.666...
    assert _rounding(1) == "half" and _rounding(10) == "exact"
    assert _balances(entry, reserve, "half") == (7, 7)
    assert _balances(entry, reserve, "exact") == (6, 7)
    assert _balances(["asset", 0, 5, 0], reserve, "half") == (0, 0)  # not collateral


def test_unverified_accounts_are_read_every_block() -> None:
    read = MarketRead("m", "aave-v3", 1, 1, 1, (), (), mirror_mismatches=("0xb",))
    bases = {("p", "0xa"): "{}", ("p", "0xb"): "{}"}
    assert always_read_unverified(bases, read) == {("p", "0xa"): "{}", ("p", "0xb"): "null"}

"""Derivation bases of incremental snapshots (migrations 0014, 0017): read and write.

    save_bases(engine, {scan_id: MarketBases(fingerprint, {(submarket, account): json}, ...)},
               prior)                                  # after the snapshot itself
    prior = latest_bases(engine, chain, market_keys)   # the newest snapshot with bases

Only the newest scan's bases are ever derived from, so each market keeps one set
(`market_bases`), and one `derivation_scans` row names the scan they describe. Writing the bases
of a scan derived from `prior` rewrites only the rows whose base changed (1% touched: 1% of
the rows); any other write replaces the market's set. Each write is one transaction after the
snapshot's own: a snapshot without bases is whole and merely cannot be derived from (the next
one is full).

The newest bases written or read by this process are also kept in memory (`_MEMORY`), so the
daemon's next block does not read them back: they are used only while the database still
names the same scan (id, block, hash, fingerprint) as theirs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select

from scanner.store import tables
from scanner.store.bulk import insert_rows

DERIVATION_SCANS = tables.DERIVATION_SCANS
MARKET_BASES = tables.MARKET_BASES
SNAPSHOTS = tables.SNAPSHOTS
SCANS = tables.SCANS
HASHES = tables.SCAN_BLOCK_HASHES

BorrowerKey = tuple[str, str]  # (submarket, account)


@dataclass(frozen=True)
class MarketBases:
    fingerprint: str  # the market's configuration when the bases were read
    bases: Mapping[BorrowerKey, str]  # JSON of the protocol's derive module
    full_block: int  # the block of the full snapshot these bases derive from


@dataclass(frozen=True)
class PriorSnapshot:
    """The newest complete snapshot of the markets whose every scan has bases."""

    snapshot_id: int
    block: int
    block_hash: str | None
    markets: Mapping[str, MarketBases]  # market key -> bases
    scan_ids: Mapping[str, int] = field(default_factory=dict, compare=False)

    @property
    def full_block(self) -> int:
        """The oldest full snapshot any of its markets derives from."""
        return min((m.full_block for m in self.markets.values()), default=self.block)


@dataclass(frozen=True)
class _Remembered:
    scan_id: int
    block: int
    block_hash: str | None
    bases: MarketBases


# (database URL, market key) -> the newest bases this process wrote or read
_MEMORY: dict[tuple[str, str], _Remembered] = {}


def save_bases(engine: Engine, by_scan: Mapping[int, MarketBases],
               prior: PriorSnapshot | None = None) -> None:
    """All bases of one snapshot, or none. A market whose stored bases describe this scan or a
    newer one is left as it is; one whose bases describe `prior`'s scan gets only the rows
    that differ from `prior`'s; any other gets its whole set replaced."""
    remembered: dict[tuple[str, str], _Remembered] = {}
    with engine.begin() as conn:
        scans = _scans(conn, list(by_scan))
        for scan_id, market in by_scan.items():
            market_key, block, block_hash = scans[scan_id]
            current = _current_scan(conn, market_key)
            if current is not None and (current[0] == scan_id or current[1] > block):
                continue
            before = None
            if prior is not None and current is not None and (
                    prior.scan_ids.get(market_key) == current[0]):
                before = prior.markets[market_key].bases
            _write_rows(conn, market_key, market.bases, before)
            conn.execute(delete(DERIVATION_SCANS).where(DERIVATION_SCANS.c.scan_id.in_(
                select(SCANS.c.id).where(SCANS.c.market_key == market_key))))
            conn.execute(insert(DERIVATION_SCANS), [
                {"scan_id": scan_id, "fingerprint": market.fingerprint,
                 "full_block": market.full_block}])
            remembered[(_memory_key(engine), market_key)] = _Remembered(
                scan_id, block, block_hash, market)
    _MEMORY.update(remembered)  # only once the transaction committed


def _scans(conn: Connection, scan_ids: list[int]) -> dict[int, tuple[str, int, str | None]]:
    """scan id -> (market key, block, block hash)."""
    rows = conn.execute(select(SCANS.c.id, SCANS.c.market_key, SCANS.c.block, HASHES.c.block_hash)
                        .outerjoin(HASHES, HASHES.c.scan_id == SCANS.c.id)
                        .where(SCANS.c.id.in_(scan_ids))).all()
    return {int(r[0]): (str(r[1]), int(r[2]), r[3]) for r in rows}


def _current_scan(conn: Connection, market_key: str) -> tuple[int, int] | None:
    """(scan id, block) whose bases the market keeps, if any."""
    row = conn.execute(select(SCANS.c.id, SCANS.c.block)
                       .join(DERIVATION_SCANS, DERIVATION_SCANS.c.scan_id == SCANS.c.id)
                       .where(SCANS.c.market_key == market_key)
                       .order_by(SCANS.c.block.desc()).limit(1)).first()
    return None if row is None else (int(row[0]), int(row[1]))


def _write_rows(conn: Connection, market_key: str, bases: Mapping[BorrowerKey, str],
                before: Mapping[BorrowerKey, str] | None) -> None:
    """Make the market's rows `bases`: from `before` (the rows stored now) by rewriting only
    what differs, else from scratch."""
    if before is None:
        conn.execute(delete(MARKET_BASES).where(MARKET_BASES.c.market_key == market_key))
        changed: Iterable[BorrowerKey] = bases
    else:
        changed = [k for k, v in bases.items() if before.get(k) != v]
        gone = [k for k in before if k not in bases]
        stale = [{"m": market_key, "s": s, "a": a} for s, a in [*changed, *gone]]
        if stale:
            conn.execute(delete(MARKET_BASES).where(
                MARKET_BASES.c.market_key == bindparam("m"),
                MARKET_BASES.c.submarket == bindparam("s"),
                MARKET_BASES.c.account == bindparam("a")), stale)
    insert_rows(conn, MARKET_BASES, [{"market_key": market_key, "submarket": s, "account": a,
                                      "base": bases[(s, a)]} for s, a in changed])


def latest_bases(engine: Engine, chain: str, market_keys: Sequence[str]
                 ) -> PriorSnapshot | None:
    """The newest complete snapshot of `chain` covering exactly `market_keys`, if every one of
    its scans has stored bases; None otherwise (the next snapshot is then full)."""
    newest = (select(SNAPSHOTS.c.id, SNAPSHOTS.c.block)
              .where(SNAPSHOTS.c.chain == chain, SNAPSHOTS.c.status == "complete")
              .order_by(SNAPSHOTS.c.block.desc(), SNAPSHOTS.c.id.desc()).limit(1))
    with engine.connect() as conn:
        row = conn.execute(newest).first()
        if row is None:
            return None
        snapshot_id, block = int(row[0]), int(row[1])
        scans = conn.execute(
            select(SCANS.c.id, SCANS.c.market_key, DERIVATION_SCANS.c.fingerprint,
                   DERIVATION_SCANS.c.full_block, HASHES.c.block_hash)
            .outerjoin(DERIVATION_SCANS, DERIVATION_SCANS.c.scan_id == SCANS.c.id)
            .outerjoin(HASHES, HASHES.c.scan_id == SCANS.c.id)
            .where(SCANS.c.snapshot_id == snapshot_id)).all()
        if sorted(s.market_key for s in scans) != sorted(market_keys):
            return None
        if any(s.fingerprint is None for s in scans):
            return None
        markets = {str(s.market_key): _market_bases(conn, engine, s, block) for s in scans}
    hashes = {s.block_hash for s in scans}
    block_hash = next(iter(hashes)) if len(hashes) == 1 else None
    return PriorSnapshot(snapshot_id, block, block_hash, markets,
                         {str(s.market_key): int(s.id) for s in scans})


def _market_bases(conn: Connection, engine: Engine, scan: Any, block: int) -> MarketBases:
    """The stored bases of `scan` (a row naming its derivation mark): from memory when this
    process holds exactly them, else read."""
    key = (_memory_key(engine), str(scan.market_key))
    held = _MEMORY.get(key)
    expected = (int(scan.id), block, scan.block_hash, str(scan.fingerprint),
                int(scan.full_block))
    if held is not None and (held.scan_id, held.block, held.block_hash,
                             held.bases.fingerprint, held.bases.full_block) == expected:
        return held.bases
    rows = conn.execute(select(MARKET_BASES.c.submarket, MARKET_BASES.c.account,
                               MARKET_BASES.c.base)
                        .where(MARKET_BASES.c.market_key == str(scan.market_key))).all()
    bases = MarketBases(str(scan.fingerprint), {(str(s), str(a)): str(b) for s, a, b in rows},
                        int(scan.full_block))
    _MEMORY[key] = _Remembered(int(scan.id), block, scan.block_hash, bases)
    return bases


def _memory_key(engine: Engine) -> str:
    """The database's URL; an in-memory SQLite database (one per connection pool, all with
    the same URL) is keyed by its engine as well."""
    url = engine.url.render_as_string(hide_password=True)
    if engine.url.get_backend_name() == "sqlite" and engine.url.database in (None, "",
                                                                              ":memory:"):
        return f"{url}#{id(engine)}"
    return url

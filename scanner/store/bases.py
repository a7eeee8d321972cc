"""Derivation bases of incremental snapshots (migration 0014): read and write.

    save_bases(engine, {scan_id: MarketBases(fingerprint, {(submarket, account): json})})
    prior = latest_bases(engine, chain, market_keys)   # the newest snapshot with bases

Bases of one snapshot are written in one transaction after the snapshot itself: a snapshot
without bases is whole and merely cannot be derived from (the next one is full). Writing them
drops the bases of older scans of the same markets (only the newest are derived from).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, select

from scanner.store import tables

DERIVATION_SCANS = tables.DERIVATION_SCANS
DERIVATION_BASES = tables.DERIVATION_BASES
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

    @property
    def full_block(self) -> int:
        """The oldest full snapshot any of its markets derives from."""
        return min((m.full_block for m in self.markets.values()), default=self.block)


def save_bases(engine: Engine, by_scan: Mapping[int, MarketBases]) -> None:
    """All bases of one snapshot, or none; a scan that has bases already is left as it is."""
    with engine.begin() as conn:
        have = set(conn.execute(select(DERIVATION_SCANS.c.scan_id).where(
            DERIVATION_SCANS.c.scan_id.in_(list(by_scan)))).scalars())
        for scan_id, market in by_scan.items():
            if scan_id in have:
                continue
            conn.execute(insert(DERIVATION_SCANS), [
                {"scan_id": scan_id, "fingerprint": market.fingerprint,
                 "full_block": market.full_block}])
            rows = [{"scan_id": scan_id, "submarket": submarket, "account": account,
                     "base": base} for (submarket, account), base in market.bases.items()]
            if rows:
                conn.execute(insert(DERIVATION_BASES), rows)
        _drop_older(conn, list(by_scan))


def _drop_older(conn: Connection, scan_ids: list[int]) -> None:
    """Only the newest snapshot's bases are ever derived from: those of older scans of the
    same markets are a cache nobody reads, dropped so that bases never pile up."""
    for market_key, block in conn.execute(select(SCANS.c.market_key, SCANS.c.block).where(
            SCANS.c.id.in_(scan_ids))).all():
        older = select(SCANS.c.id).where(SCANS.c.market_key == market_key,
                                          SCANS.c.block < block)
        conn.execute(delete(DERIVATION_BASES).where(DERIVATION_BASES.c.scan_id.in_(older)))
        conn.execute(delete(DERIVATION_SCANS).where(DERIVATION_SCANS.c.scan_id.in_(older)))


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
        markets = {}
        for scan in scans:
            bases = conn.execute(
                select(DERIVATION_BASES.c.submarket, DERIVATION_BASES.c.account,
                       DERIVATION_BASES.c.base)
                .where(DERIVATION_BASES.c.scan_id == scan.id)).all()
            markets[str(scan.market_key)] = MarketBases(
                str(scan.fingerprint), {(str(s), str(a)): str(b) for s, a, b in bases},
                int(scan.full_block))
    hashes = {s.block_hash for s in scans}
    block_hash = next(iter(hashes)) if len(hashes) == 1 else None
    return PriorSnapshot(snapshot_id, block, block_hash, markets)

"""Step 6 of a scan: store the snapshot once, or confirm it equals the stored one.

A scan of a block that is stored already (by an earlier run, or by a concurrent run that
committed first) writes nothing and reports "identical to the stored snapshot" when the chain
still answers the same; otherwise it refuses, saying why the answers may differ. The race of
two concurrent runs is decided by the database (unique chain, block and content digest of a
snapshot, migration 0008), not by the check before the write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner import interrupts
from scanner.chain.pin import PinnedBlock
from scanner.domain import Band, HistogramBin, PositionResult
from scanner.errors import InconsistentDataError
from scanner.pipeline.discovery import DiscoveryPlan
from scanner.store.repository import MarketScan, Repository, SnapshotAlreadyStoredError

if TYPE_CHECKING:
    from scanner.pipeline.scan import MarketOutcome, SnapshotOutcome


def store_snapshot(repo: Repository, outcome: SnapshotOutcome, pinned: PinnedBlock
                   ) -> SnapshotOutcome:
    """The outcome with its stored ids. Writes the whole snapshot with each market's
    discovery state (accounts, cursor, identity) and the pinned block's hash, or nothing."""
    snapshot = outcome.record
    for market in outcome.markets:  # a block scanned before must read the same today
        existing = repo.find_scan(market.record.market_key, snapshot.block)
        if existing is not None:
            require_same_positions(repo, existing, market, snapshot.block)
    same = repo.find_snapshot(snapshot.chain, snapshot.block, snapshot.market_keys)
    if same is not None and _same_bins_and_bands(repo, same, outcome):
        return _with_ids(repo, outcome, same, already_stored=True)
    scans = [
        MarketScan(record=m.record, positions=m.results, discovered=m.discovery.discovered,
                   cursor_block=m.discovery.plan.cursor_after,
                   identity=m.discovery.plan.identity_after,
                   block_hash=pinned.hash, rewind_cursor=m.discovery.plan.rewind)
        for m in outcome.markets
    ]
    # From here the outcome is "stored": an interrupt must not report otherwise.
    interrupts.hold()
    try:
        snapshot_id = repo.save_snapshot(snapshot, scans, outcome.bins, outcome.bands)
    except SnapshotAlreadyStoredError as exc:  # a concurrent run committed it first
        for market in outcome.markets:
            scan_id = repo.scan_ids(exc.snapshot_id)[market.record.market_key]
            require_same_positions(repo, scan_id, market, snapshot.block)
        return _with_ids(repo, outcome, exc.snapshot_id, already_stored=True)
    return _with_ids(repo, outcome, snapshot_id, already_stored=False)


def _with_ids(repo: Repository, outcome: SnapshotOutcome, snapshot_id: int,
              already_stored: bool) -> SnapshotOutcome:
    from scanner.pipeline.scan import SnapshotOutcome

    return SnapshotOutcome(
        snapshot_id=snapshot_id, record=outcome.record, markets=outcome.markets,
        axes=outcome.axes, results=outcome.results, bins=outcome.bins, bands=outcome.bands,
        already_stored=already_stored, scan_ids=repo.scan_ids(snapshot_id),
    )


def require_same_positions(
    repo: Repository, scan_id: int, market: MarketOutcome, block: int
) -> None:
    """The stored scan `scan_id` of this market at `block` holds what was read now."""
    stored = sorted(repo.load_scan_positions(scan_id), key=_position_key)
    fresh = sorted(market.results, key=_position_key)
    if stored == fresh:
        return
    plan: DiscoveryPlan = market.discovery.plan
    missing = {r.account for r in fresh} - {r.account for r in stored}
    if plan.rediscover_reason is not None or missing:
        why = plan.rediscover_reason or "was it made with a later start_block?"
        raise InconsistentDataError(
            f"block {block} was scanned before (scan {scan_id}) and that scan lacks "
            f"{len(missing)} borrowers known now ({why}): scan a newer block to store a "
            "complete snapshot; nothing was written"
        )
    raise InconsistentDataError(
        f"block {block} was scanned before (scan {scan_id}) and the chain now answers "
        "differently (a reorg, or a node without that block's state): nothing was written"
    )


def _same_bins_and_bands(repo: Repository, snapshot_id: int, outcome: SnapshotOutcome) -> bool:
    """False when the histogram or band settings changed since: then a new snapshot is due."""
    return (sorted(repo.load_bands(snapshot_id), key=_band_key)
            == sorted(outcome.bands, key=_band_key)
            and sorted(repo.load_bins(snapshot_id), key=_bin_key)
            == sorted(outcome.bins, key=_bin_key))


def _bin_key(b: HistogramBin) -> tuple[str, str, int]:
    return (b.axis, b.direction.value, b.bin_index)


def _band_key(band: Band) -> tuple[str, str, int]:
    return (band.axis, band.direction.value, band.rank)


def _position_key(result: PositionResult) -> tuple[str, str, str, str]:
    return (result.market_key, result.axis, result.submarket, result.account)

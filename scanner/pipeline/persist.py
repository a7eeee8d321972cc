"""Step 6 of a scan: store the snapshot once, or confirm it equals the stored one.

A scan of a block that is stored already (by an earlier run, or by a concurrent run that
committed first) writes nothing and reports "identical to the stored scan" when the chain
still answers the same; otherwise it refuses, saying why the answers may differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scanner import interrupts
from scanner.domain import Band, HistogramBin, PositionResult, ScanRecord
from scanner.errors import InconsistentDataError
from scanner.pipeline.discovery import DiscoveryPlan
from scanner.store.repository import Repository, ScanAlreadyStoredError


def store_snapshot(
    repo: Repository, record: ScanRecord, results: Sequence[PositionResult],
    bins: Sequence[HistogramBin], bands: Sequence[Band], discovered: Mapping[str, int],
    plan: DiscoveryPlan,
) -> tuple[int, bool]:
    """(scan id, already stored). Writes the whole snapshot, its discovery state, or nothing."""
    existing = repo.find_scan(record.market_key, record.block)
    if existing is None:
        # From here the outcome is "stored": an interrupt must not report otherwise.
        interrupts.hold()
        try:
            scan_id = repo.save_scan(record, results, bins, bands, discovered,
                                     plan.cursor_after, plan.identity_after)
            return scan_id, False
        except ScanAlreadyStoredError as exc:  # a concurrent run committed it first
            existing = exc.scan_id
    require_same_snapshot(repo, existing, results, record.block, plan)
    return existing, True


def require_same_snapshot(
    repo: Repository, scan_id: int, results: Sequence[PositionResult], block: int,
    plan: DiscoveryPlan,
) -> None:
    stored = sorted(repo.load_positions(scan_id), key=_position_key)
    fresh = sorted(results, key=_position_key)
    if stored == fresh:
        return
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


def _position_key(result: PositionResult) -> tuple[str, str, str]:
    return (result.market_key, result.axis, result.account)

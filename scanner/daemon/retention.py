"""Which snapshots the retention policy lets go. Pure: ages in block time, from the newest.

Every snapshot younger than `keep_all_hours` stays; older ones keep the first of each UTC hour
while younger than `keep_hourly_days`, then the first of each UTC day (for `keep_daily_days`,
0 = forever). "First" (earliest block, then lowest id) never changes as snapshots arrive, so a
kept snapshot is never dropped later within its tier.
"""

from __future__ import annotations

from collections.abc import Sequence

from scanner.daemon.settings import RetentionPolicy
from scanner.store.daemon_state import SnapshotAge

HOUR_SECONDS = 3_600
DAY_SECONDS = 86_400


def snapshots_to_delete(snapshots: Sequence[SnapshotAge], policy: RetentionPolicy) -> list[int]:
    if not snapshots:
        return []
    now_unix = max(s.block_timestamp for s in snapshots)
    newest_id = max(snapshots, key=lambda s: (s.block, s.snapshot_id)).snapshot_id
    first_of_hour = _first_in_bucket(snapshots, HOUR_SECONDS)
    first_of_day = _first_in_bucket(snapshots, DAY_SECONDS)
    doomed = []
    for s in snapshots:
        age_seconds = now_unix - s.block_timestamp
        if s.snapshot_id == newest_id or age_seconds <= policy.keep_all_hours * HOUR_SECONDS:
            continue
        if age_seconds <= policy.keep_hourly_days * DAY_SECONDS:
            keep = s.snapshot_id in first_of_hour
        elif policy.keep_daily_days and age_seconds > policy.keep_daily_days * DAY_SECONDS:
            keep = False
        else:
            keep = s.snapshot_id in first_of_day
        if not keep:
            doomed.append(s.snapshot_id)
    return doomed


def _first_in_bucket(snapshots: Sequence[SnapshotAge], bucket_seconds: int) -> set[int]:
    first: dict[int, SnapshotAge] = {}
    for s in snapshots:
        bucket = s.block_timestamp // bucket_seconds
        held = first.get(bucket)
        if held is None or (s.block_timestamp, s.block, s.snapshot_id) < (
                held.block_timestamp, held.block, held.snapshot_id):
            first[bucket] = s
    return {s.snapshot_id for s in first.values()}

"""Retention: every snapshot for keep_all_hours, the first of each hour for keep_hourly_days,
the first of each day after (or none past keep_daily_days); the newest always stays."""

from __future__ import annotations

from scanner.daemon.retention import DAY_SECONDS, HOUR_SECONDS, snapshots_to_delete
from scanner.daemon.settings import RetentionPolicy
from scanner.store.daemon_state import SnapshotAge

NOW = 1_800_000_000 - 1_800_000_000 % DAY_SECONDS  # a UTC midnight


def _every(step_seconds: int, span_seconds: int) -> list[SnapshotAge]:
    """One snapshot every `step_seconds` over the `span_seconds` before NOW, oldest first."""
    times = range(NOW - span_seconds, NOW + 1, step_seconds)
    return [SnapshotAge(i + 1, 1_000 + i, t) for i, t in enumerate(times)]


def _kept(snapshots: list[SnapshotAge], policy: RetentionPolicy) -> list[SnapshotAge]:
    doomed = set(snapshots_to_delete(snapshots, policy))
    return [s for s in snapshots if s.snapshot_id not in doomed]


def test_tiers_of_a_forty_day_history_at_one_snapshot_per_ten_minutes() -> None:
    snapshots = _every(600, 40 * DAY_SECONDS)
    kept = _kept(snapshots, RetentionPolicy(keep_all_hours=24, keep_hourly_days=30))
    ages = [NOW - s.block_timestamp for s in kept]
    recent = [a for a in ages if a <= DAY_SECONDS]
    hourly = [a for a in ages if DAY_SECONDS < a <= 30 * DAY_SECONDS]
    daily = [a for a in ages if a > 30 * DAY_SECONDS]
    assert len(recent) == DAY_SECONDS // 600 + 1  # all of the last day
    assert len(hourly) == 29 * 24 and all(a % HOUR_SECONDS == 0 for a in hourly)
    assert len(daily) == 10 and all(a % DAY_SECONDS == 0 for a in daily)


def _tier(policy: RetentionPolicy, age_seconds: int) -> str:
    if age_seconds <= policy.keep_all_hours * HOUR_SECONDS:
        return "all"
    return "hourly" if age_seconds <= policy.keep_hourly_days * DAY_SECONDS else "daily"


def test_a_kept_snapshot_stays_kept_while_it_stays_in_its_tier() -> None:
    policy = RetentionPolicy(keep_all_hours=1, keep_hourly_days=1, keep_daily_days=30)
    history = _every(900, 3 * DAY_SECONDS)
    newest_then = history[-1].block_timestamp
    kept_then = {s.snapshot_id for s in _kept(history, policy)}
    for hours in (1, 5, 30):
        now = newest_then + hours * HOUR_SECONDS
        later = [*history, SnapshotAge(10_000 + hours, 99_999 + hours, now)]
        kept_now = {s.snapshot_id for s in _kept(later, policy)}
        same_tier = {s.snapshot_id for s in history
                     if _tier(policy, newest_then - s.block_timestamp)
                     == _tier(policy, now - s.block_timestamp)}
        assert kept_then & same_tier <= kept_now
        assert kept_now - {10_000 + hours} <= kept_then  # nothing dropped comes back


def test_daily_tier_ends_at_keep_daily_days_and_the_newest_always_stays() -> None:
    snapshots = _every(DAY_SECONDS, 10 * DAY_SECONDS)
    kept = _kept(snapshots, RetentionPolicy(keep_all_hours=0, keep_hourly_days=0,
                                            keep_daily_days=3))
    assert [NOW - s.block_timestamp for s in kept] == [3 * DAY_SECONDS, 2 * DAY_SECONDS,
                                                       DAY_SECONDS, 0]
    (only,) = _every(1, 0)
    assert snapshots_to_delete([only], RetentionPolicy(0, 0, 1)) == []

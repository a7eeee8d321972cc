"""The daemon's tables on SQLite and PostgreSQL: alert events and deliveries survive a
restart (a new DaemonState on the same database), retention deletes whole snapshots."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from scanner.store.daemon_state import AlertChange, DaemonState
from scanner.store.repository import POSITIONS, SCANS, Repository
from tests.conftest import make_sample_scan


def test_alert_state_and_deliveries_survive_a_restart(engine: Engine) -> None:
    state = DaemonState(engine)
    fired = [AlertChange("near_band:ETH:down", 10, 1, {"text": "near"})]
    (event_id,) = state.record("devnet", fired, [], ["http://a", "http://b"])
    state.mark_attempt(event_id, "http://a", delivered=True, error=None)
    state.mark_attempt(event_id, "http://b", delivered=False, error="HTTP 503")

    again = DaemonState(engine)  # a restarted daemon
    assert again.active_conditions("devnet") == {"near_band:ETH:down": event_id}
    assert again.active_conditions("other") == {}
    (pending,) = again.pending_deliveries("devnet")
    assert (pending.webhook, pending.attempts, pending.payload) == ("http://b", 1,
                                                                    {"text": "near"})
    again.record("devnet", [], [AlertChange("near_band:ETH:down", 11, 2, {})], ["http://a"])
    assert again.active_conditions("devnet") == {}
    assert len(again.pending_deliveries()) == 1  # a cleared event sends nothing


def test_delete_snapshots_removes_everything_they_own(repo: Repository) -> None:
    ids = []
    for block in (100, 101, 102):
        s = make_sample_scan(block=block)
        ids.append(repo.save_scan(s.record, s.positions, s.bins, s.bands, s.discovered, block))
    state = DaemonState(repo.engine)
    state.delete_snapshots(ids[:2])
    assert [a.snapshot_id for a in state.snapshot_ages("devnet")] == [ids[2]]
    with repo.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SCANS)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(POSITIONS)).scalar_one() == 4
    assert len(repo.load_bands(ids[2])) == 2

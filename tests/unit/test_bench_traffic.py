"""The bench's traffic recorder (bench/speed_traffic.py): the wall time with a post in flight
counts overlapping posts once, and the last answer's time is kept -- the snapshot's time after
it is its own work with the node idle."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import speed_traffic


def test_overlapping_posts_count_once(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([10.0, 11.0, 13.0, 14.0, 20.0, 21.5])
    monkeypatch.setattr(speed_traffic.time, "perf_counter", lambda: next(clock))
    traffic = speed_traffic.Traffic()
    traffic.post_started()  # 10.0: A
    traffic.post_started()  # B while A is in flight: no clock read
    traffic.post_answered()  # 11.0: A answered, B still in flight
    traffic.post_answered()  # 13.0: B answered: 10 -> 13 in flight
    traffic.post_started()  # 14.0: C alone
    traffic.post_answered()  # 20.0
    assert traffic.in_flight_s == pytest.approx(3.0 + 6.0)
    assert traffic.last_answer_at == 20.0


async def test_recording_marks_a_failed_post_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fails(_client: Any, _body: bytes) -> Any:
        raise TimeoutError

    monkeypatch.setattr(speed_traffic.RpcClient, "_http_post", fails)
    with speed_traffic.recording() as traffic, pytest.raises(TimeoutError):
        await speed_traffic.RpcClient._http_post(None, b'[{"jsonrpc":"2.0"}]')  # type: ignore[arg-type]
    assert traffic.posts == 1 and traffic.calls == 1
    assert traffic.last_answer_at is not None and traffic.in_flight_s >= 0
    assert traffic._active == 0

"""What a running daemon knows that the database does not: the contract between daemon and HTTP app.

The HTTP app (`scanner.serve.app.build_app`) reads snapshots from the database; the daemon
(`scanner.daemon`) passes a `LiveStatus` so /healthz can report the lag behind the head and
/metrics can expose the daemon's own counters. `liqscan serve` (no daemon) passes none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class HeadStatus:
    """The newest head the daemon has seen and the newest block it has snapshotted."""

    head_block: int | None
    head_seen_unix: float | None
    last_snapshot_block: int | None


class LiveStatus(Protocol):
    """Implemented by the daemon; read by the HTTP app on every /healthz and /metrics request."""

    def head_status(self) -> HeadStatus: ...

    def metrics_text(self) -> str:
        """The daemon's metrics in Prometheus text exposition format (prometheus_client)."""
        ...

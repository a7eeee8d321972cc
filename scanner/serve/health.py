"""/healthz and /metrics: how fresh the stored snapshots are, and the daemon's live view.

/healthz answers 200 when every chain's latest complete snapshot was stored less than
`stale_after_s` ago, 503 when one is older or there is none yet. With a daemon (`live`) it
also reports the head it follows and the lag of the newest snapshot behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from scanner.serve import dbmetrics
from scanner.serve.shapes import Json
from scanner.serve.status import HeadStatus, LiveStatus
from scanner.serve.summaries import Summaries
from scanner.store.repository import Repository, StoredSnapshot

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def lag_blocks(head: HeadStatus, stored_block: int | None) -> int | None:
    """Blocks between the head and the newest snapshot (the daemon's or the database's)."""
    newest = max((b for b in (head.last_snapshot_block, stored_block) if b is not None),
                 default=None)
    if head.head_block is None or newest is None:
        return None
    return max(0, head.head_block - newest)


class Health:
    """Handlers of /healthz and /metrics."""

    def __init__(self, repo: Repository, summaries: Summaries, live: LiveStatus | None,
                 stale_after_s: float, clock: Callable[[], float]) -> None:
        self.repo, self.summaries, self.live = repo, summaries, live
        self.stale_after_s = stale_after_s
        self.clock = clock

    async def healthz(self, request: web.Request) -> web.Response:
        latest = await asyncio.to_thread(dbmetrics.latest_snapshots, self.repo)
        body = self._report(latest, self.clock())
        return web.json_response(body, status=200 if body["status"] == "ok" else 503)

    def _report(self, latest: list[StoredSnapshot], now_unix: float) -> Json:
        ages = [dbmetrics.age_seconds(s, now_unix) for s in latest]
        chains: list[Json] = [{
            "chain": s.record.chain, "snapshot_id": s.snapshot_id, "block": s.record.block,
            "block_timestamp": s.record.block_timestamp, "created_at": s.created_at.isoformat(),
            "age_s": round(age, 3),
        } for s, age in zip(latest, ages, strict=True)]
        stale = [s.record.chain for s, age in zip(latest, ages, strict=True)
                 if age > self.stale_after_s]
        status = "empty" if not chains else "stale" if stale else "ok"
        body: Json = {"status": status, "stale_after_s": self.stale_after_s, "chains": chains}
        if status == "empty":
            body["message"] = "no complete snapshot in the database yet"
        elif stale:
            body["message"] = (f"latest snapshot older than {self.stale_after_s:g} s on "
                               f"{', '.join(stale)}")
        body["head"] = None if self.live is None else _head(self.live.head_status(), latest)
        return body


    async def metrics(self, request: web.Request) -> web.Response:
        states = await asyncio.to_thread(dbmetrics.read_state, self.repo, self.summaries)
        text = dbmetrics.metrics_text(states, self.clock())
        if self.live is not None:
            live_text = self.live.metrics_text()
            if live_text and not live_text.endswith("\n"):
                live_text += "\n"
            text = live_text + text
        response = web.Response(text=text)
        response.headers["Content-Type"] = PROMETHEUS_TEXT
        return response


def _head(head: HeadStatus, latest: list[StoredSnapshot]) -> Json:
    stored = max((s.record.block for s in latest), default=None)
    return {"head_block": head.head_block, "head_seen_unix": head.head_seen_unix,
            "last_snapshot_block": head.last_snapshot_block,
            "lag_blocks": lag_blocks(head, stored)}

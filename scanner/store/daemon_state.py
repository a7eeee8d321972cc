"""The daemon's SQL: alert events and their deliveries, and pruning snapshots by retention.

    state = DaemonState(engine)
    state.active_conditions("ethereum")                  # condition key -> firing event id
    state.record(chain, fired=[...], cleared=[...], webhooks=[...])   # one transaction
    state.pending_deliveries()                           # what no webhook acknowledged yet

Kept apart from repository.py (snapshots) so the two evolve independently; like it, this is
the only place the daemon's tables are read or written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from scanner.errors import DatabaseError
from scanner.store import tables

EVENTS = tables.ALERT_EVENTS
DELIVERIES = tables.ALERT_DELIVERIES
SNAPSHOTS = tables.SNAPSHOTS
_DELETE_BATCH = 500


@dataclass(frozen=True)
class AlertChange:
    """A condition that fired (with the message to post) or cleared, at one snapshot."""

    condition_key: str
    block: int
    snapshot_id: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class PendingDelivery:
    event_id: int
    webhook: str
    attempts: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class SnapshotAge:
    snapshot_id: int
    block: int
    block_timestamp: int


class DaemonState:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- alerts --------------------------------------------------------------------------

    def active_conditions(self, chain: str) -> dict[str, int]:
        """condition key -> id of the event that fired it, for conditions not cleared since."""
        newest = (select(EVENTS.c.condition_key, func.max(EVENTS.c.id).label("id"))
                  .where(EVENTS.c.chain == chain).group_by(EVENTS.c.condition_key).subquery())
        query = select(EVENTS.c.condition_key, EVENTS.c.id).join(
            newest, newest.c.id == EVENTS.c.id).where(EVENTS.c.kind == "fired")
        with self.engine.connect() as conn:
            return {str(key): int(event_id) for key, event_id in conn.execute(query)}

    def record(self, chain: str, fired: Sequence[AlertChange], cleared: Sequence[AlertChange],
               webhooks: Sequence[str]) -> list[int]:
        """Store fired and cleared events and a delivery per webhook of each fired one, in one
        transaction. Returns the ids of the fired events."""
        ids = []
        with self.engine.begin() as conn:
            for kind, changes in (("fired", fired), ("cleared", cleared)):
                for change in changes:
                    key = conn.execute(insert(EVENTS).values(
                        chain=chain, condition_key=change.condition_key, kind=kind,
                        block=change.block, snapshot_id=change.snapshot_id,
                        payload=json.dumps(change.payload, sort_keys=True),
                        created_at=datetime.now(UTC))).inserted_primary_key
                    if key is None:
                        raise DatabaseError("the database returned no id for an alert event")
                    if kind == "fired":
                        ids.append(int(key[0]))
            rows = [{"event_id": i, "webhook": url, "attempts": 0}
                    for i in ids for url in webhooks]
            if rows:
                conn.execute(insert(DELIVERIES), rows)
        return ids

    def pending_deliveries(self, chain: str | None = None) -> list[PendingDelivery]:
        query = (select(DELIVERIES.c.event_id, DELIVERIES.c.webhook, DELIVERIES.c.attempts,
                        EVENTS.c.payload)
                 .join(EVENTS, EVENTS.c.id == DELIVERIES.c.event_id)
                 .where(DELIVERIES.c.delivered_at.is_(None))
                 .order_by(DELIVERIES.c.event_id, DELIVERIES.c.webhook))
        if chain is not None:
            query = query.where(EVENTS.c.chain == chain)
        with self.engine.connect() as conn:
            return [PendingDelivery(int(e), str(w), int(a), json.loads(p))
                    for e, w, a, p in conn.execute(query)]

    def mark_attempt(self, event_id: int, webhook: str, delivered: bool,
                     error: str | None) -> None:
        values: dict[str, Any] = {"attempts": DELIVERIES.c.attempts + 1, "last_error": error}
        if delivered:
            values["delivered_at"] = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(update(DELIVERIES).where(DELIVERIES.c.event_id == event_id,
                                                  DELIVERIES.c.webhook == webhook)
                         .values(**values))

    # --- retention -----------------------------------------------------------------------

    def snapshot_ages(self, chain: str) -> list[SnapshotAge]:
        query = (select(SNAPSHOTS.c.id, SNAPSHOTS.c.block, SNAPSHOTS.c.block_timestamp)
                 .where(SNAPSHOTS.c.chain == chain).order_by(SNAPSHOTS.c.id))
        with self.engine.connect() as conn:
            return [SnapshotAge(int(i), int(b), int(t)) for i, b, t in conn.execute(query)]

    def delete_snapshots(self, snapshot_ids: Sequence[int]) -> None:
        """Delete snapshots with everything they own (ON DELETE CASCADE), in batches."""
        ids = sorted(snapshot_ids)
        for start in range(0, len(ids), _DELETE_BATCH):
            with self.engine.begin() as conn:
                conn.execute(delete(SNAPSHOTS).where(
                    SNAPSHOTS.c.id.in_(ids[start:start + _DELETE_BATCH])))

"""Per-snapshot sums (axes, liquidatable now), computed once per snapshot.

A stored snapshot never changes, so its sums can be kept: /metrics, scraped every few
seconds, and the page's polls then cost a header read, not a pass over every position. The key
includes `created_at`, so a snapshot id reused after a deletion never returns old sums.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from scanner.store.reads import ApiReads, AxisSummary, LiquidatableNow
from scanner.store.repository import StoredSnapshot

MAX_CACHED_SNAPSHOTS = 32


@dataclass(frozen=True)
class Summary:
    snapshot: StoredSnapshot
    axes: list[AxisSummary]
    liquidatable: LiquidatableNow


class Summaries:
    """Thread-safe (handlers read in worker threads), bounded, least recently used first out."""

    def __init__(self, reads: ApiReads) -> None:
        self.reads = reads
        self._cache: OrderedDict[tuple[int, datetime], Summary] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, snapshot_id: int) -> Summary:
        stored = self.reads.repo.get_snapshot(snapshot_id)
        key = (snapshot_id, stored.created_at)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        summary = Summary(stored, self.reads.axis_summaries(snapshot_id),
                          self.reads.liquidatable_now(snapshot_id))
        with self._lock:
            self._cache[key] = summary
            while len(self._cache) > MAX_CACHED_SNAPSHOTS:
                self._cache.popitem(last=False)
        return summary

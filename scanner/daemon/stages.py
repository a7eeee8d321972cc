"""Time the stages of one snapshot from scan_chain's progress callback.

scan_chain reports `<market>: resolve|discover|read` as it goes; a stage lasts from its first
report to the first report of the next one. What follows a completed read (prices, bins,
bands, the write after the last market) is `compute_store`.
"""

from __future__ import annotations

import time


class StageTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._since = time.monotonic()
        self.started = self._since

    def progress(self, stage: str, done: int, total: int) -> None:
        if stage.endswith(": read") and done == total:
            stage = "compute_store"  # the read is complete: what follows is not reading
        if stage != self._stage:
            self._switch(stage)

    def _switch(self, stage: str | None) -> None:
        now = time.monotonic()
        if self._stage is not None:
            last = self._stage.rsplit(": ", 1)[-1]
            self.seconds[last] = self.seconds.get(last, 0.0) + now - self._since
        self._stage, self._since = stage, now

    def finish(self) -> dict[str, float]:
        """Durations by stage, with `compute_store` and `total`."""
        self._switch(None)
        self.seconds["total"] = time.monotonic() - self.started
        return self.seconds

"""Which stored snapshot a read command shows (--snapshot, --chain, --market, --axis), over
the Repository or the SQLAlchemy-free `SnapshotReads` alike."""

from __future__ import annotations

import argparse
from typing import Any, Protocol

from scanner.domain import SnapshotRecord
from scanner.errors import UsageError
from scanner.store.snapshot_reads import StoredSnapshot, market_of


class SnapshotSource(Protocol):
    def latest_snapshot_id(self, chain: str | None = None) -> int | None: ...

    def get_snapshot(self, snapshot_id: int) -> StoredSnapshot: ...

    def stored_axes(self, snapshot_id: int) -> list[str]: ...


def choose_snapshot(repo: SnapshotSource, args: argparse.Namespace
                    ) -> tuple[int, SnapshotRecord]:
    """The snapshot asked for (--snapshot), else THE latest (Repository.latest_snapshot_id),
    narrowed to --market when given."""
    if args.snapshot is not None:
        snapshot_id = int(args.snapshot)
    else:
        found = repo.latest_snapshot_id(args.chain)
        if found is None:
            where = f" of chain {args.chain}" if args.chain else ""
            raise UsageError(f"no snapshot{where} in the database yet: run `liqscan scan` first")
        snapshot_id = found
    record = repo.get_snapshot(snapshot_id).record  # raises a clear error when it does not exist
    if args.market:
        record = market_of(record, args.market)
    axis = getattr(args, "axis", None)
    if axis is not None:
        axes = repo.stored_axes(snapshot_id)
        if axis not in axes:
            raise UsageError(f"--axis {axis}: snapshot {snapshot_id} has no such axis; its "
                             f"axes are {', '.join(axes) or 'none'}")
    return snapshot_id, record


def of_market(rows: list[Any], market: str | None) -> list[Any]:
    """Bins or bands in which `market` has positions (all when None)."""
    if market is None:
        return rows
    return [r for r in rows if any(s.market_key == market for s in r.shares)]

"""indexes for the reads the CLI, the views and the API make on large databases

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

`ix_positions_scan_status`: a snapshot's positions by status (the default `liqscan positions`
filter, the API's liquidatable-now list and the per-axis totals) without reading its
not-sensitive rows. `ix_snapshots_chain_status_block`: "the latest complete snapshot of a
chain" (every read command, v_latest_snapshots) as one index probe.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_positions_scan_status", "positions", ["scan_id", "status"])
    op.create_index("ix_snapshots_chain_status_block", "snapshots",
                    ["chain", "status", "block", "id"])


def downgrade() -> None:
    op.drop_index("ix_snapshots_chain_status_block", table_name="snapshots")
    op.drop_index("ix_positions_scan_status", table_name="positions")

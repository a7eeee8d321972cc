"""block hashes: the hash of each scan's pinned block and of the discovery cursor

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

A scan stores the hash of the block it pinned, and the cursor the hash of its last searched
block. The next scan compares them with the chain: a cursor block whose hash changed means a
reorg deeper than `confirmations`, and discovery rewinds to the newest stored block that is
still on the chain. The hashes of scans live in their own table so the `scans` table (and the
views over `scans.*`) stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scan_block_hashes",
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE",
                                name=op.f("fk_scan_block_hashes_scan_id_scans")),
        sa.PrimaryKeyConstraint("scan_id", name=op.f("pk_scan_block_hashes")),
    )
    # nullable: cursors written before this revision have no hash (checked from then on)
    with op.batch_alter_table("discovery_cursors") as batch:
        batch.add_column(sa.Column("last_block_hash", sa.String(length=66), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("discovery_cursors") as batch:
        batch.drop_column("last_block_hash")
    op.drop_table("scan_block_hashes")

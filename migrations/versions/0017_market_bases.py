"""derivation bases kept per market, updated in place (incremental snapshots, issue 11)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30

0014 stored every base again with every scan: an incremental snapshot of 100,000 positions
with 1% touched wrote 100,000 base rows (and deleted as many) to change 1,000. Only the newest
scan's bases are ever derived from, so `market_bases` holds them once per market -- one JSON
base per (market, submarket, account) -- and `derivation_scans` (one row per market) says which
scan they describe. An incremental snapshot rewrites only the rows whose base changed.

The bases of 0014 are a cache: they are dropped here, with their `derivation_scans` marks, so
the first snapshot after the upgrade is full (and stores them again). No snapshot is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("derivation_bases")
    op.execute(sa.text("DELETE FROM derivation_scans"))
    op.create_table(
        "market_bases",
        sa.Column("market_key", sa.String(length=128), nullable=False),
        sa.Column("submarket", sa.String(length=128), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("base", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("market_key", "submarket", "account", name="pk_market_bases"),
    )


def downgrade() -> None:
    op.drop_table("market_bases")
    op.execute(sa.text("DELETE FROM derivation_scans"))
    op.create_table(
        "derivation_bases",
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("submarket", sa.String(length=128), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("base", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["scan_id"], ["derivation_scans.scan_id"], ondelete="CASCADE",
                                name="fk_derivation_bases_scan_id_derivation_scans"),
        sa.PrimaryKeyConstraint("scan_id", "submarket", "account", name="pk_derivation_bases"),
    )

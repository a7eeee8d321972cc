"""derivation bases: what incremental snapshots derive untouched positions from

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

`derivation_scans` marks a scan whose bases are stored whole; `derivation_bases` holds one
JSON base per (scan, submarket, account): the protocol's stored per-account state (Aave
scaled balances, Morpho shares, Compound principal, Maker ink/art). Both go with their scan.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "derivation_scans",
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("full_block", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE",
                                name="fk_derivation_scans_scan_id_scans"),
        sa.PrimaryKeyConstraint("scan_id", name="pk_derivation_scans"),
    )
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


def downgrade() -> None:
    op.drop_table("derivation_bases")
    op.drop_table("derivation_scans")

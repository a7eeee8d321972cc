"""market identities: what the stored discovery state of each market key was searched for;
one snapshot per content and block

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

The discovery cursor says how far Borrow logs were searched; this row says for which market
(chain, protocol, PoolAddressesProvider) and from which block. A config whose start_block or
address differs from it is detected instead of silently continuing from a cursor that does not
cover it (issue 8: a mistyped start_block hid about a third of the borrowers for good).

`snapshots.content_digest` (markets, status, bins and bands; see repository.snapshot_digest)
is unique per chain and block: of two runs that scan the same block at the same time, exactly
one stores the snapshot, the other finds it and reports it identical. Snapshots stored before
keep NULL (never equal to another NULL), so nothing existing conflicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_identities",
        sa.Column("market_key", sa.String(length=128), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("protocol", sa.String(length=64), nullable=False),
        sa.Column("pool_addresses_provider", sa.String(length=42), nullable=False),
        sa.Column("searched_from_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("market_key", name=op.f("pk_market_identities")),
    )
    # a plain ADD COLUMN and a unique index: SQLite need not copy the table (which the views
    # of 0006 that read it would not survive)
    op.add_column("snapshots", sa.Column("content_digest", sa.String(length=64), nullable=True))
    op.create_index("uq_snapshots_chain_block_content_digest", "snapshots",
                    ["chain", "block", "content_digest"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_snapshots_chain_block_content_digest", table_name="snapshots")
    snapshots = _migration("0006_snapshots")
    for view in snapshots.NEW_VIEWS:  # SQLite copies the table to drop a column: views first
        op.execute(f"DROP VIEW IF EXISTS {view}")
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("content_digest")
    for sql in snapshots.views():
        op.execute(sql)
    op.drop_table("market_identities")


def _migration(name: str) -> Any:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    if spec is None or spec.loader is None:
        raise RuntimeError(f"migration {name} not found next to {__file__}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

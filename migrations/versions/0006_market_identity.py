"""market identities: what the stored discovery state of each market key was searched for

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

The discovery cursor says how far Borrow logs were searched; this row says for which market
(chain, protocol, PoolAddressesProvider) and from which block. A config whose start_block or
address differs from it is detected instead of silently continuing from a cursor that does not
cover it (issue 8: a mistyped start_block hid about a third of the borrowers for good).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
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


def downgrade() -> None:
    op.drop_table("market_identities")

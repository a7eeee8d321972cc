"""cascades: the positions liquidatable before any shock, apart from the spiral

Revision ID: 0020
Revises: 0015
Create Date: 2026-11-30

`includes_now`: the positions liquidatable at the snapshot's price were put in round 0 (every
cascade stored before this migration did so: true for the old rows). `now_*`: those positions
liquidated once at the snapshot's price (count, collateral sold, debt repaid, bad debt),
NULL on the old rows, which did not compute them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UINT256 = sa.String(length=78)  # scanner.store.types.Uint256's storage, frozen
_AMOUNTS = ("now_sold_usd_8dec", "now_debt_repaid_usd_8dec", "now_bad_debt_usd_8dec")


def upgrade() -> None:
    op.add_column("cascades", sa.Column("includes_now", sa.Boolean(), nullable=False,
                                        server_default=sa.true()))
    op.add_column("cascades", sa.Column("now_positions", sa.Integer(), nullable=True))
    for name in _AMOUNTS:
        op.add_column("cascades", sa.Column(name, UINT256, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cascades") as batch:
        for name in ("includes_now", "now_positions", *_AMOUNTS):
            batch.drop_column(name)

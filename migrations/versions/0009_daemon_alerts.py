"""daemon alert state: fired/cleared alert events and their webhook deliveries

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

The daemon fires an alert once per condition until it clears, across restarts and across the
daemons sharing a database: the state lives here. A delivery row per webhook is written in the
same transaction as its event and marked when the webhook acknowledged it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("condition_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('fired', 'cleared')", name=op.f("ck_alert_events_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    op.create_index("ix_alert_events_chain_condition", "alert_events",
                    ["chain", "condition_key", "id"])
    op.create_table(
        "alert_deliveries",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("webhook", sa.String(length=2000), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["alert_events.id"], ondelete="CASCADE",
                                name=op.f("fk_alert_deliveries_event_id_alert_events")),
        sa.PrimaryKeyConstraint("event_id", "webhook", name=op.f("pk_alert_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alert_events_chain_condition", table_name="alert_events")
    op.drop_table("alert_events")

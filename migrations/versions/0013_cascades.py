"""cascades and cascade_rounds: liquidation spirals run on a snapshot, and v_cascade_path

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

A cascade (scanner/cascade) shocks one axis of a snapshot and follows the liquidations and
their forced sales through a depth model to a fixpoint. `cascades` holds one row per run
(`curve` marks the points of a cascade curve), `cascade_rounds` its path; the view
`v_cascade_path` joins them with the snapshot's chain and block, one row per round.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UINT256 = sa.String(length=78)  # scanner.store.types.Uint256's storage, frozen

_PATH_VIEW = """
CREATE VIEW v_cascade_path AS
SELECT c.id AS cascade_id, c.snapshot_id, s.chain, s.block, c.axis, c.direction, c.curve,
       c.depth_model, c.shock_bps, c.price_now_8dec, c.shock_price_8dec, c.final_price_8dec,
       c.converged, r.round_index, r.price_8dec, r.price_after_8dec, r.positions,
       r.sold_usd_8dec, r.debt_repaid_usd_8dec, r.bad_debt_usd_8dec, r.proceeds_usd_8dec,
       r.sold_assets, r.bands_crossed
FROM cascades c
JOIN snapshots s ON s.id = c.snapshot_id
JOIN cascade_rounds r ON r.cascade_id = c.id
"""


def upgrade() -> None:
    op.create_table(
        "cascades",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("axis", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("curve", sa.Boolean(), nullable=False),
        sa.Column("depth_model", sa.Text(), nullable=False),
        sa.Column("shock_bps", sa.BigInteger(), nullable=False),
        sa.Column("price_now_8dec", UINT256, nullable=False),
        sa.Column("shock_price_8dec", UINT256, nullable=False),
        sa.Column("final_price_8dec", UINT256, nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("positions_liquidated", sa.Integer(), nullable=False),
        sa.Column("sold_usd_8dec", UINT256, nullable=False),
        sa.Column("debt_repaid_usd_8dec", UINT256, nullable=False),
        sa.Column("bad_debt_usd_8dec", UINT256, nullable=False),
        sa.Column("converged", sa.Boolean(), nullable=False),
        sa.Column("buy_modelled", sa.Boolean(), nullable=False),
        sa.Column("bands_crossed_by_shock", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("direction IN ('down', 'up')", name=op.f("ck_cascades_direction")),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"], ondelete="CASCADE",
                                name=op.f("fk_cascades_snapshot_id_snapshots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cascades")),
    )
    op.create_index("ix_cascades_snapshot_axis", "cascades", ["snapshot_id", "axis", "id"])
    op.create_table(
        "cascade_rounds",
        sa.Column("cascade_id", sa.Integer(), nullable=False),
        sa.Column("round_index", sa.Integer(), nullable=False),
        sa.Column("price_8dec", UINT256, nullable=False),
        sa.Column("price_after_8dec", UINT256, nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("sold_usd_8dec", UINT256, nullable=False),
        sa.Column("debt_repaid_usd_8dec", UINT256, nullable=False),
        sa.Column("bad_debt_usd_8dec", UINT256, nullable=False),
        sa.Column("proceeds_usd_8dec", UINT256, nullable=False),
        sa.Column("sold_assets", sa.Text(), nullable=False),
        sa.Column("bands_crossed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["cascade_id"], ["cascades.id"], ondelete="CASCADE",
                                name=op.f("fk_cascade_rounds_cascade_id_cascades")),
        sa.PrimaryKeyConstraint("cascade_id", "round_index", name=op.f("pk_cascade_rounds")),
    )
    op.execute(_PATH_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_cascade_path")
    op.drop_table("cascade_rounds")
    op.drop_index("ix_cascades_snapshot_axis", table_name="cascades")
    op.drop_table("cascades")

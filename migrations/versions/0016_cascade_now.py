"""cascades: the positions liquidatable before any shock, apart from the spiral

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30

`includes_now`: the positions liquidatable at the snapshot's price were put in round 0 (every
cascade stored before this migration did so: true for the old rows). `now_*`: those positions
liquidated once at the snapshot's price (count, collateral sold, debt repaid, bad debt),
NULL on the old rows, which did not compute them. `cascade_rounds.debt_redistributed_usd_8dec`:
the debt a round's liquidations moved to other positions (Liquity's redistribution) rather
than repaid; NULL on the old rounds.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UINT256 = sa.String(length=78)  # scanner.store.types.Uint256's storage, frozen
_AMOUNTS = ("now_sold_usd_8dec", "now_debt_repaid_usd_8dec", "now_bad_debt_usd_8dec")

# 0013's view, unchanged: dropped around the downgrade's table rebuilds (SQLite checks the views
# that name a table it renames)
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
    op.add_column("cascades", sa.Column("includes_now", sa.Boolean(), nullable=False,
                                        server_default=sa.true()))
    op.add_column("cascades", sa.Column("now_positions", sa.Integer(), nullable=True))
    for name in _AMOUNTS:
        op.add_column("cascades", sa.Column(name, UINT256, nullable=True))
    op.add_column("cascade_rounds", sa.Column("debt_redistributed_usd_8dec", UINT256,
                                              nullable=True))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_cascade_path")
    with op.batch_alter_table("cascade_rounds") as batch:
        batch.drop_column("debt_redistributed_usd_8dec")
    with op.batch_alter_table("cascades") as batch:
        for name in ("includes_now", "now_positions", *_AMOUNTS):
            batch.drop_column(name)
    op.execute(_PATH_VIEW)

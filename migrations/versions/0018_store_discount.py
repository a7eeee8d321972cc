"""cascades: the store-front discount a protocol gave up selling seized collateral

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30

`store_discount_usd_8dec` on `cascades` and `cascade_rounds`: the oracle value of the
collateral Compound v3's store front sold minus what its buyers paid (the protocol's cost of
selling at a discount, whether or not the debt exceeded the proceeds). NULL on the rows stored
before this migration, which did not compute it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UINT256 = sa.String(length=78)  # scanner.store.types.Uint256's storage, frozen
_TABLES = ("cascades", "cascade_rounds")

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
    for table in _TABLES:
        op.add_column(table, sa.Column("store_discount_usd_8dec", UINT256, nullable=True))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_cascade_path")
    for table in reversed(_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("store_discount_usd_8dec")
    op.execute(_PATH_VIEW)

"""bands.kind: 'band' (a dense run of many positions) or 'wall' (one or a tight few)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Band detection now also reports walls: single positions or tight groups large enough to
matter on their own. Rows stored before this revision were all dense bands, so the column
defaults to 'band'. v_latest_bands and v_band_history are re-created with `kind`; SQLite
cannot ALTER a table that views read, so the views go first and come back after.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KIND_CHECK = "kind IN ('band', 'wall')"
_VIEWS = ("v_latest_bands", "v_band_history")
_HUMAN = ("low", "high", "collateral_usd", "debt_usd", "seizable_usd")


def _usd(column: str, alias: str) -> str:
    """8-decimal 78-digit string as a readable number (exact NUMERIC on PostgreSQL)."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(CAST({column} AS NUMERIC(78, 0)) * 0.00000001 AS NUMERIC(78, 8)) AS {alias}"
    return f"CAST({column} AS REAL) / 1e8 AS {alias}"


def _human() -> str:
    return ",\n    ".join(_usd(f"b.{n}_8dec", n.replace("_usd", "") + "_usd") for n in _HUMAN)


def _latest_bands(kind: str) -> str:
    return f"""
CREATE VIEW v_latest_bands AS
SELECT b.scan_id, s.chain, s.chain_id, s.market_key, s.protocol, s.block, s.block_timestamp,
    b.axis, b.direction, b.rank, {kind}b.positions,
    {_human()},
    b.share_of_at_risk_bps, b.distance_low_bps, b.distance_high_bps, b.top_accounts,
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec, b.debt_usd_8dec, b.seizable_usd_8dec
FROM bands b JOIN v_latest_scans s ON s.id = b.scan_id
"""


def _band_history(kind: str) -> str:
    return f"""
CREATE VIEW v_band_history AS
SELECT b.scan_id, s.chain, s.market_key, s.block, s.block_timestamp,
    b.axis, b.direction, b.rank, {kind}b.positions,
    {_human()},
    b.share_of_at_risk_bps, b.distance_low_bps, b.distance_high_bps,
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec
FROM bands b JOIN scans s ON s.id = b.scan_id
WHERE s.status = 'complete'
"""


def _drop_views() -> None:
    for view in _VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")


def upgrade() -> None:
    _drop_views()
    with op.batch_alter_table("bands") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False,
                                   server_default=sa.text("'band'")))
        batch.create_check_constraint(op.f("ck_bands_kind"), _KIND_CHECK)
    op.execute(_latest_bands("b.kind, "))
    op.execute(_band_history("b.kind, "))


def downgrade() -> None:
    # Walls cannot be expressed before this revision: they are removed with it.
    _drop_views()
    op.execute("DELETE FROM bands WHERE kind = 'wall'")
    with op.batch_alter_table("bands") as batch:
        batch.drop_constraint(op.f("ck_bands_kind"), type_="check")
        batch.drop_column("kind")
    op.execute(_latest_bands(""))
    op.execute(_band_history(""))

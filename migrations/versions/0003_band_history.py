"""band history view: v_band_history, every band of every complete scan, oldest first

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

How a band moves between scans (edges, collateral, distance from the price) is what tells a
building cascade from a fading one; analysts chart it straight from this view.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _usd(column: str, alias: str) -> str:
    """8-decimal 78-digit string as a readable number (exact NUMERIC on PostgreSQL)."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(CAST({column} AS NUMERIC(78, 0)) * 0.00000001 AS NUMERIC(78, 8)) AS {alias}"
    return f"CAST({column} AS REAL) / 1e8 AS {alias}"


def upgrade() -> None:
    human = ",\n    ".join(
        _usd(f"b.{name}_8dec", name.replace("_usd", "") + "_usd")
        for name in ("low", "high", "collateral_usd", "debt_usd", "seizable_usd")
    )
    op.execute(f"""
CREATE VIEW v_band_history AS
SELECT b.scan_id, s.chain, s.market_key, s.block, s.block_timestamp,
    b.axis, b.direction, b.rank, b.positions,
    {human},
    b.share_of_at_risk_bps, b.distance_low_bps, b.distance_high_bps,
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec
FROM bands b JOIN scans s ON s.id = b.scan_id
WHERE s.status = 'complete'
""")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_band_history")

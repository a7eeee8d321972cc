"""initial schema: scans, their positions / bins / bands, discovery state

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen copy of scanner.store.types.Uint256's storage: 78 zero-padded decimal digits.
# The TypeDecorator only converts in Python; the schema sees a VARCHAR(78).
UINT256 = sa.String(length=78)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discovered_accounts",
        sa.Column("market_key", sa.String(length=128), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("first_seen_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("market_key", "account", name=op.f("pk_discovered_accounts")),
    )
    op.create_table(
        "discovery_cursors",
        sa.Column("market_key", sa.String(length=128), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("market_key", name=op.f("pk_discovery_cursors")),
    )
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("market_key", sa.String(length=128), nullable=False),
        sa.Column("protocol", sa.String(length=64), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("block_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("pool_revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position_count", sa.Integer(), nullable=False),
        sa.Column("bin_count", sa.Integer(), nullable=False),
        sa.Column("band_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
        sa.UniqueConstraint("market_key", "block", name=op.f("uq_scans_market_key_block")),
    )
    op.create_table(
        "bands",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("axis", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("low_8dec", UINT256, nullable=False),
        sa.Column("high_8dec", UINT256, nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("collateral_usd_8dec", UINT256, nullable=False),
        sa.Column("debt_usd_8dec", UINT256, nullable=False),
        sa.Column("seizable_usd_8dec", UINT256, nullable=False),
        sa.Column("share_of_at_risk_bps", sa.Integer(), nullable=False),
        sa.Column("distance_low_bps", sa.BigInteger(), nullable=False),
        sa.Column("distance_high_bps", sa.BigInteger(), nullable=False),
        sa.Column("top_accounts", sa.Text(), nullable=False),
        sa.CheckConstraint("direction IN ('down', 'up')", name=op.f("ck_bands_direction")),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scans.id"], name=op.f("fk_bands_scan_id_scans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bands")),
        sa.UniqueConstraint(
            "scan_id",
            "axis",
            "direction",
            "rank",
            name=op.f("uq_bands_scan_id_axis_direction_rank"),
        ),
    )
    op.create_table(
        "histogram_bins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("axis", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("bin_index", sa.Integer(), nullable=False),
        sa.Column("low_8dec", UINT256, nullable=False),
        sa.Column("high_8dec", UINT256, nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("collateral_usd_8dec", UINT256, nullable=False),
        sa.Column("debt_usd_8dec", UINT256, nullable=False),
        sa.Column("seizable_usd_8dec", UINT256, nullable=False),
        sa.Column("cumulative_collateral_usd_8dec", UINT256, nullable=False),
        sa.CheckConstraint("direction IN ('down', 'up')", name=op.f("ck_histogram_bins_direction")),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["scans.id"],
            name=op.f("fk_histogram_bins_scan_id_scans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_histogram_bins")),
        sa.UniqueConstraint(
            "scan_id",
            "axis",
            "direction",
            "bin_index",
            name=op.f("uq_histogram_bins_scan_id_axis_direction_bin_index"),
        ),
    )
    op.create_table(
        "positions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("market_key", sa.String(length=128), nullable=False),
        sa.Column("protocol", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("axis", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=True),
        sa.Column("liquidation_price_8dec", UINT256, nullable=True),
        sa.Column("axis_price_now_8dec", UINT256, nullable=False),
        sa.Column("health_factor_wad", UINT256, nullable=False),
        sa.Column("collateral_usd_8dec", UINT256, nullable=False),
        sa.Column("debt_usd_8dec", UINT256, nullable=False),
        sa.Column("axis_collateral_usd_8dec", UINT256, nullable=False),
        sa.Column("seizable_usd_8dec", UINT256, nullable=False),
        sa.Column("emode_category", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "direction IS NULL OR direction IN ('down', 'up')", name=op.f("ck_positions_direction")
        ),
        sa.CheckConstraint(
            "status IN ('at_risk', 'liquidatable_now', 'not_sensitive')",
            name=op.f("ck_positions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scans.id"], name=op.f("fk_positions_scan_id_scans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
        sa.UniqueConstraint(
            "scan_id", "axis", "account", name=op.f("uq_positions_scan_id_axis_account")
        ),
    )
    op.create_index(
        "ix_positions_scan_axis_price", "positions", ["scan_id", "axis", "liquidation_price_8dec"]
    )


def downgrade() -> None:
    op.drop_index("ix_positions_scan_axis_price", table_name="positions")

    op.drop_table("positions")
    op.drop_table("histogram_bins")
    op.drop_table("bands")
    op.drop_table("scans")
    op.drop_table("discovery_cursors")
    op.drop_table("discovered_accounts")

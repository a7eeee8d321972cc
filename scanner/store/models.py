"""SQLAlchemy 2 models: one scan header, its rows, and the account-discovery state.

Tables mirror the dataclasses of `scanner.domain`; the repository maps between them.
Every chain quantity (`_8dec`, `_wad`) is a `Uint256` column so it stays exact; small signed
numbers (bps, counts, block numbers) are plain integers. Migrations in `migrations/versions`
must match these models: `alembic check` runs in the tests.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scanner.store.types import Uint256

# Deterministic constraint names, so Alembic can drop/alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATUS_VALUES = ("at_risk", "liquidatable_now", "not_sensitive", "unverified")
DIRECTION_VALUES = ("down", "up")
_DIRECTION_SQL = "direction IN ('down', 'up')"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ScanRow(Base):
    """One snapshot of one market at one pinned block. (market_key, block) is unique so that
    re-running a scan at the same block is detected instead of duplicated."""

    __tablename__ = "scans"
    __table_args__ = (UniqueConstraint("market_key", "block"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(64))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    market_key: Mapped[str] = mapped_column(String(128))
    protocol: Mapped[str] = mapped_column(String(64))
    block: Mapped[int] = mapped_column(BigInteger)
    block_timestamp: Mapped[int] = mapped_column(BigInteger)
    pool_revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    position_count: Mapped[int] = mapped_column(Integer)
    bin_count: Mapped[int] = mapped_column(Integer)
    band_count: Mapped[int] = mapped_column(Integer)


class PositionRow(Base):
    """scanner.domain.PositionResult, one per (scan, account, axis)."""

    __tablename__ = "positions"
    __table_args__ = (
        UniqueConstraint("scan_id", "axis", "account"),
        Index("ix_positions_scan_axis_price", "scan_id", "axis", "liquidation_price_8dec"),
        CheckConstraint(f"status IN {STATUS_VALUES!r}", name="status"),
        CheckConstraint(f"direction IS NULL OR {_DIRECTION_SQL}", name="direction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    market_key: Mapped[str] = mapped_column(String(128))
    protocol: Mapped[str] = mapped_column(String(64))
    account: Mapped[str] = mapped_column(String(42))
    axis: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str | None] = mapped_column(String(8))
    liquidation_price_8dec: Mapped[int | None] = mapped_column(Uint256)
    axis_price_now_8dec: Mapped[int] = mapped_column(Uint256)
    health_factor_wad: Mapped[int] = mapped_column(Uint256)
    collateral_usd_8dec: Mapped[int] = mapped_column(Uint256)
    debt_usd_8dec: Mapped[int] = mapped_column(Uint256)
    axis_collateral_usd_8dec: Mapped[int] = mapped_column(Uint256)
    seizable_usd_8dec: Mapped[int] = mapped_column(Uint256)
    emode_category: Mapped[int] = mapped_column(Integer)


class HistogramBinRow(Base):
    """scanner.domain.HistogramBin, one per (scan, axis, direction, bin_index)."""

    __tablename__ = "histogram_bins"
    __table_args__ = (
        UniqueConstraint("scan_id", "axis", "direction", "bin_index"),
        CheckConstraint(_DIRECTION_SQL, name="direction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    axis: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    bin_index: Mapped[int] = mapped_column(Integer)
    low_8dec: Mapped[int] = mapped_column(Uint256)
    high_8dec: Mapped[int] = mapped_column(Uint256)
    positions: Mapped[int] = mapped_column(Integer)
    collateral_usd_8dec: Mapped[int] = mapped_column(Uint256)
    debt_usd_8dec: Mapped[int] = mapped_column(Uint256)
    seizable_usd_8dec: Mapped[int] = mapped_column(Uint256)
    cumulative_collateral_usd_8dec: Mapped[int] = mapped_column(Uint256)


class BandRow(Base):
    """scanner.domain.Band, one per (scan, axis, direction, rank); top_accounts is JSON text."""

    __tablename__ = "bands"
    __table_args__ = (
        UniqueConstraint("scan_id", "axis", "direction", "rank"),
        CheckConstraint(_DIRECTION_SQL, name="direction"),
        CheckConstraint("kind IN ('band', 'wall')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    axis: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    rank: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8), server_default=text("'band'"))
    low_8dec: Mapped[int] = mapped_column(Uint256)
    high_8dec: Mapped[int] = mapped_column(Uint256)
    positions: Mapped[int] = mapped_column(Integer)
    collateral_usd_8dec: Mapped[int] = mapped_column(Uint256)
    debt_usd_8dec: Mapped[int] = mapped_column(Uint256)
    seizable_usd_8dec: Mapped[int] = mapped_column(Uint256)
    share_of_at_risk_bps: Mapped[int] = mapped_column(Integer)
    distance_low_bps: Mapped[int] = mapped_column(BigInteger)  # signed
    distance_high_bps: Mapped[int] = mapped_column(BigInteger)
    top_accounts: Mapped[str] = mapped_column(Text)


class DiscoveryCursor(Base):
    """Last block whose logs were fully scanned for accounts of a market."""

    __tablename__ = "discovery_cursors"

    market_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_utc_now, onupdate=_utc_now
    )


class DiscoveredAccount(Base):
    """Every account ever seen on a market, with the first block it appeared in."""

    __tablename__ = "discovered_accounts"

    market_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    account: Mapped[str] = mapped_column(String(42), primary_key=True)
    first_seen_block: Mapped[int] = mapped_column(BigInteger)


class MarketIdentityRow(Base):
    """Which market the discovery state of `market_key` belongs to, and the first block of the
    contiguous range [searched_from_block, discovery_cursors.last_block] searched for it."""

    __tablename__ = "market_identities"

    market_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    protocol: Mapped[str] = mapped_column(String(64))
    pool_addresses_provider: Mapped[str] = mapped_column(String(42))
    searched_from_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_utc_now, onupdate=_utc_now
    )

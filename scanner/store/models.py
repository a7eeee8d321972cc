"""SQLAlchemy 2 models: snapshots, their per-market scans and rows, the discovery state.

A snapshot is every configured market of one chain at one pinned block; it owns one `scans`
row per market (which owns that market's positions) and the histogram bins and bands summed
across its markets, each with a per-market breakdown (`bin_shares`, `band_shares`).

Tables mirror the dataclasses of `scanner.domain`; the repository maps between them.
Every chain quantity (`_8dec`, `_wad`) is a `Uint256` column so it stays exact; small signed
numbers (bps, counts, block numbers) are plain integers. Migrations in `migrations/versions`
must match these models: `alembic check` runs in the tests.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
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
    true,
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


class SnapshotRow(Base):
    """Every configured market of one chain at one pinned block, written whole or not at all.
    "Latest" = per chain, the complete snapshot with the highest block (then highest id)."""

    __tablename__ = "snapshots"
    __table_args__ = (
        Index("ix_snapshots_chain_block", "chain", "block"),
        Index("ix_snapshots_chain_status_block", "chain", "status", "block", "id"),  # 0015
        # two runs that computed the same snapshot of a block: exactly one stores it (0008)
        Index("uq_snapshots_chain_block_content_digest", "chain", "block", "content_digest",
              unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(64))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    block: Mapped[int] = mapped_column(BigInteger)
    block_timestamp: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    market_count: Mapped[int] = mapped_column(Integer)
    position_count: Mapped[int] = mapped_column(Integer)
    bin_count: Mapped[int] = mapped_column(Integer)
    band_count: Mapped[int] = mapped_column(Integer)
    # repository.snapshot_digest; NULL for snapshots stored before migration 0008
    content_digest: Mapped[str | None] = mapped_column(String(64))


class ScanRow(Base):
    """One market's part of a snapshot. A market appears once per snapshot."""

    __tablename__ = "scans"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "market_key"),
        Index("ix_scans_market_key_block", "market_key", "block"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"))
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


class ScanBlockHash(Base):
    """Hash of the block a scan pinned: where discovery can rewind to after a deep reorg."""

    __tablename__ = "scan_block_hashes"

    scan_id: Mapped[int] = mapped_column(
        ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True
    )
    block_hash: Mapped[str] = mapped_column(String(66))


class PositionRow(Base):
    """scanner.domain.PositionResult, one per (market scan, axis, submarket, account)."""

    __tablename__ = "positions"
    __table_args__ = (
        UniqueConstraint("scan_id", "axis", "submarket", "account"),
        Index("ix_positions_scan_axis_price", "scan_id", "axis", "liquidation_price_8dec"),
        Index("ix_positions_scan_status", "scan_id", "status"),  # 0015
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
    # '' for rows stored before migration 0006 (the pool was not recorded then)
    submarket: Mapped[str] = mapped_column(String(128), server_default="")
    liquidation_price_native: Mapped[int | None] = mapped_column(Uint256)
    native_price_unit: Mapped[str] = mapped_column(String(64), server_default="USD")
    native_price_decimals: Mapped[int] = mapped_column(Integer, server_default="8")
    # migration 0012: the oracle's NEXT price liquidates (Maker's OSM); NULL: no such oracle
    liquidatable_next: Mapped[bool | None] = mapped_column(Boolean)
    # migration 0012: a vault held through a contract (Maker CdpManager): its owner and id
    owner: Mapped[str | None] = mapped_column(String(42))
    vault_id: Mapped[int | None] = mapped_column(BigInteger)


class HistogramBinRow(Base):
    """scanner.domain.HistogramBin, one per (snapshot, axis, direction, bin_index)."""

    __tablename__ = "histogram_bins"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "axis", "direction", "bin_index"),
        CheckConstraint(_DIRECTION_SQL, name="direction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"))
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
    """scanner.domain.Band, one per (snapshot, axis, direction, rank); top_accounts is JSON."""

    __tablename__ = "bands"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "axis", "direction", "rank"),
        CheckConstraint(_DIRECTION_SQL, name="direction"),
        CheckConstraint("kind IN ('band', 'wall')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"))
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
    # identity over snapshots (migration 0010, scanner.pipeline.band_tracks): the id of the
    # first band row of its track; split_from: the track this band split off from
    track_id: Mapped[int] = mapped_column(Integer, index=True)
    split_from: Mapped[int | None] = mapped_column(Integer)


class SnapshotAxisRow(Base):
    """One price axis of a snapshot: its price and the totals a risk desk reads first."""

    __tablename__ = "snapshot_axes"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    axis: Mapped[str] = mapped_column(String(32), primary_key=True)
    price_now_8dec: Mapped[int] = mapped_column(Uint256)
    at_risk_positions: Mapped[int] = mapped_column(Integer)
    at_risk_collateral_usd_8dec: Mapped[int] = mapped_column(Uint256)
    liquidatable_now_positions: Mapped[int] = mapped_column(Integer)
    liquidatable_now_collateral_usd_8dec: Mapped[int] = mapped_column(Uint256)


class _ShareColumns:
    """scanner.domain.Share: one market's part of a bin or a band (columns after the parent)."""

    market_key: Mapped[str] = mapped_column(String(128))
    protocol: Mapped[str] = mapped_column(String(64))
    positions: Mapped[int] = mapped_column(Integer)
    collateral_usd_8dec: Mapped[int] = mapped_column(Uint256)
    debt_usd_8dec: Mapped[int] = mapped_column(Uint256)
    seizable_usd_8dec: Mapped[int] = mapped_column(Uint256)


class BinShareRow(_ShareColumns, Base):
    """One market's part of a histogram bin."""

    __tablename__ = "bin_shares"
    __table_args__ = (UniqueConstraint("bin_id", "market_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bin_id: Mapped[int] = mapped_column(ForeignKey("histogram_bins.id", ondelete="CASCADE"))


class BandShareRow(_ShareColumns, Base):
    """One market's part of a band."""

    __tablename__ = "band_shares"
    __table_args__ = (UniqueConstraint("band_id", "market_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    band_id: Mapped[int] = mapped_column(ForeignKey("bands.id", ondelete="CASCADE"))


class DiscoveryCursor(Base):
    """Last block whose logs were fully scanned for accounts of a market."""

    __tablename__ = "discovery_cursors"

    market_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_block: Mapped[int] = mapped_column(BigInteger)
    # None for cursors written before migration 0007; compared with the chain at each scan
    last_block_hash: Mapped[str | None] = mapped_column(String(66))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_utc_now, onupdate=_utc_now
    )


class DiscoveredAccount(Base):
    """Every account ever seen on a market, with the first block it appeared in, per submarket
    where the protocol discovers per submarket (a Morpho market id; "" elsewhere, and for
    Morpho rows written before migration 0011: read in every chosen market)."""

    __tablename__ = "discovered_accounts"

    market_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    submarket: Mapped[str] = mapped_column(String(128), primary_key=True, server_default="")
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


# --- The daemon's alert state (migration 0009) -------------------------------------------


class AlertEvent(Base):
    """An alert condition of a chain that fired or cleared at a snapshot. A condition is active
    while its newest event is `fired`: it fires once, until it clears, across restarts."""

    __tablename__ = "alert_events"
    __table_args__ = (
        Index("ix_alert_events_chain_condition", "chain", "condition_key", "id"),
        CheckConstraint("kind IN ('fired', 'cleared')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(64))
    condition_key: Mapped[str] = mapped_column(String(200))  # rule:axis[:direction]
    kind: Mapped[str] = mapped_column(String(8))
    block: Mapped[int] = mapped_column(BigInteger)
    snapshot_id: Mapped[int] = mapped_column(Integer)  # no FK: retention may prune it
    payload: Mapped[str] = mapped_column(Text)  # the JSON message posted to the webhooks
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)


class AlertDelivery(Base):
    """One fired alert to one webhook; written with the event, marked when a POST succeeded,
    so a restart resends only what no webhook acknowledged."""

    __tablename__ = "alert_deliveries"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("alert_events.id", ondelete="CASCADE"), primary_key=True)
    webhook: Mapped[str] = mapped_column(String(2000), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


# --- Cascades (migration 0013) -----------------------------------------------------------


class CascadeRow(Base):
    """One liquidation cascade run on a snapshot: a shock of one axis followed to its
    fixpoint through a depth model (scanner/cascade). `curve` marks a point of a cascade curve."""

    __tablename__ = "cascades"
    __table_args__ = (
        Index("ix_cascades_snapshot_axis", "snapshot_id", "axis", "id"),
        CheckConstraint(_DIRECTION_SQL, name="direction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"))
    axis: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    curve: Mapped[bool] = mapped_column(Boolean)
    depth_model: Mapped[str] = mapped_column(Text)  # which depth, with its parameters
    shock_bps: Mapped[int] = mapped_column(BigInteger)  # signed; from the --to price when given
    price_now_8dec: Mapped[int] = mapped_column(Uint256)
    shock_price_8dec: Mapped[int] = mapped_column(Uint256)
    final_price_8dec: Mapped[int] = mapped_column(Uint256)
    rounds: Mapped[int] = mapped_column(Integer)
    positions_liquidated: Mapped[int] = mapped_column(Integer)
    sold_usd_8dec: Mapped[int] = mapped_column(Uint256)
    debt_repaid_usd_8dec: Mapped[int] = mapped_column(Uint256)
    bad_debt_usd_8dec: Mapped[int] = mapped_column(Uint256)
    converged: Mapped[bool] = mapped_column(Boolean)
    buy_modelled: Mapped[bool] = mapped_column(Boolean)
    bands_crossed_by_shock: Mapped[str] = mapped_column(Text)  # band ranks, comma-separated
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    # migration 0020: the positions liquidatable before any shock (NULL: a row stored before)
    includes_now: Mapped[bool] = mapped_column(Boolean, server_default=true())
    now_positions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    now_sold_usd_8dec: Mapped[int | None] = mapped_column(Uint256, nullable=True)
    now_debt_repaid_usd_8dec: Mapped[int | None] = mapped_column(Uint256, nullable=True)
    now_bad_debt_usd_8dec: Mapped[int | None] = mapped_column(Uint256, nullable=True)


class CascadeRoundRow(Base):
    """One round of a cascade: the liquidations at one axis price and where their sales
    (a short squeeze: buys) took the price."""

    __tablename__ = "cascade_rounds"

    cascade_id: Mapped[int] = mapped_column(
        ForeignKey("cascades.id", ondelete="CASCADE"), primary_key=True)
    round_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    price_8dec: Mapped[int] = mapped_column(Uint256)
    price_after_8dec: Mapped[int] = mapped_column(Uint256)
    positions: Mapped[int] = mapped_column(Integer)
    sold_usd_8dec: Mapped[int] = mapped_column(Uint256)
    debt_repaid_usd_8dec: Mapped[int] = mapped_column(Uint256)
    bad_debt_usd_8dec: Mapped[int] = mapped_column(Uint256)
    proceeds_usd_8dec: Mapped[int] = mapped_column(Uint256)
    sold_assets: Mapped[str] = mapped_column(Text)  # JSON: [{symbol, asset, amount_raw, usd_8dec}]
    bands_crossed: Mapped[str] = mapped_column(Text)  # band ranks, comma-separated
    # migration 0020: debt moved to other positions (Liquity), not repaid; NULL before
    debt_redistributed_usd_8dec: Mapped[int | None] = mapped_column(Uint256, nullable=True)


class DerivationScan(Base):
    """Migration 0014: a scan whose derivation bases are stored whole (incremental snapshots);
    since 0018 one per market, the scan its `market_bases` rows describe. `fingerprint` names
    the market configuration the bases were read under."""

    __tablename__ = "derivation_scans"

    scan_id: Mapped[int] = mapped_column(
        ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64))
    full_block: Mapped[int] = mapped_column(BigInteger)  # the full snapshot derived from


class MarketBase(Base):
    """Migration 0018: what a position's next value is derived from without reading it
    (scaled balances, shares, principal, ink/art), as the protocol's derive module's JSON.
    One row per position of the market's newest scan that has bases (`derivation_scans`)."""

    __tablename__ = "market_bases"

    market_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    submarket: Mapped[str] = mapped_column(String(128), primary_key=True)
    account: Mapped[str] = mapped_column(String(42), primary_key=True)
    base: Mapped[str] = mapped_column(Text)

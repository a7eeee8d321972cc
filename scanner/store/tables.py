"""The schema as SQLAlchemy Core tables: snapshots, their per-market scans and rows, the
discovery state, the daemon's alerts, cascades and derivation bases.

A snapshot is every configured market of one chain at one pinned block; it owns one `scans`
row per market (which owns that market's positions) and the histogram bins and bands summed
across its markets, each with a per-market breakdown (`bin_shares`, `band_shares`).

Tables mirror the dataclasses of `scanner.domain`; the repository maps between them.
Every chain quantity (`_8dec`, `_wad`) is a `Uint256` column so it stays exact; small signed
numbers (bps, counts, block numbers) are plain integers. Core tables rather than ORM models:
nothing here uses a Session, and importing and configuring the ORM cost the read-only
commands (`liqscan bands`) ~0.4 s of start-up. `scanner.store.models` maps ORM classes onto
these same tables for code that wants them. Migrations in `migrations/versions` must match
`METADATA`: `alembic check` runs in the tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
    true,
)

from scanner.store.types import Uint256

# Deterministic constraint names, so Alembic can drop/alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
METADATA = MetaData(naming_convention=NAMING_CONVENTION)

STATUS_VALUES = ("at_risk", "liquidatable_now", "not_sensitive", "unverified")
DIRECTION_VALUES = ("down", "up")
_DIRECTION_SQL = "direction IN ('down', 'up')"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _id() -> Column[Any]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _req(name: str, type_: Any, **kw: Any) -> Column[Any]:
    """A NOT NULL column (the ORM models' `Mapped[int]`); `Column(...)` alone is nullable."""
    return Column(name, type_, nullable=False, **kw)


def _parent(name: str, target: str, **kw: Any) -> Column[Any]:
    """A NOT NULL foreign key whose row goes with its parent's."""
    return Column(name, ForeignKey(target, ondelete="CASCADE"), nullable=False, **kw)


def _created_at() -> Column[Any]:
    return _req("created_at", DateTime(timezone=True), default=_utc_now)


# Every configured market of one chain at one pinned block, written whole or not at all.
# "Latest" = per chain, the complete snapshot with the highest block (then highest id).
SNAPSHOTS = Table(
    "snapshots", METADATA,
    _id(),
    _req("chain", String(64)),
    _req("chain_id", BigInteger),
    _req("block", BigInteger),
    _req("block_timestamp", BigInteger),
    _req("status", String(32)),
    _created_at(),
    _req("market_count", Integer),
    _req("position_count", Integer),
    _req("bin_count", Integer),
    _req("band_count", Integer),
    # repository.snapshot_digest; NULL for snapshots stored before migration 0008
    Column("content_digest", String(64)),
    Index("ix_snapshots_chain_block", "chain", "block"),
    Index("ix_snapshots_chain_status_block", "chain", "status", "block", "id"),  # 0015
    # two runs that computed the same snapshot of a block: exactly one stores it (0008)
    Index("uq_snapshots_chain_block_content_digest", "chain", "block", "content_digest",
          unique=True),
)

# One market's part of a snapshot. A market appears once per snapshot.
SCANS = Table(
    "scans", METADATA,
    _id(),
    _parent("snapshot_id", "snapshots.id"),
    _req("chain", String(64)),
    _req("chain_id", BigInteger),
    _req("market_key", String(128)),
    _req("protocol", String(64)),
    _req("block", BigInteger),
    _req("block_timestamp", BigInteger),
    _req("pool_revision", Integer),
    _req("status", String(32)),
    _created_at(),
    _req("position_count", Integer),
    UniqueConstraint("snapshot_id", "market_key"),
    Index("ix_scans_market_key_block", "market_key", "block"),
)

# Hash of the block a scan pinned: where discovery can rewind to after a deep reorg.
SCAN_BLOCK_HASHES = Table(
    "scan_block_hashes", METADATA,
    Column("scan_id", ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    _req("block_hash", String(66)),
)

# scanner.domain.PositionResult, one per (market scan, axis, submarket, account).
POSITIONS = Table(
    "positions", METADATA,
    _id(),
    _parent("scan_id", "scans.id"),
    _req("market_key", String(128)),
    _req("protocol", String(64)),
    _req("account", String(42)),
    _req("axis", String(32)),
    _req("status", String(32)),
    Column("direction", String(8)),
    Column("liquidation_price_8dec", Uint256),
    _req("axis_price_now_8dec", Uint256),
    _req("health_factor_wad", Uint256),
    _req("collateral_usd_8dec", Uint256),
    _req("debt_usd_8dec", Uint256),
    _req("axis_collateral_usd_8dec", Uint256),
    _req("seizable_usd_8dec", Uint256),
    _req("emode_category", Integer),
    # '' for rows stored before migration 0006 (the pool was not recorded then)
    _req("submarket", String(128), server_default=""),
    Column("liquidation_price_native", Uint256),
    _req("native_price_unit", String(64), server_default="USD"),
    _req("native_price_decimals", Integer, server_default="8"),
    # migration 0012: the oracle's NEXT price liquidates (Maker's OSM); NULL: no such oracle
    Column("liquidatable_next", Boolean),
    # migration 0012: a vault held through a contract (Maker CdpManager): its owner and id
    Column("owner", String(42)),
    Column("vault_id", BigInteger),
    UniqueConstraint("scan_id", "axis", "submarket", "account"),
    Index("ix_positions_scan_axis_price", "scan_id", "axis", "liquidation_price_8dec"),
    Index("ix_positions_scan_status", "scan_id", "status"),  # 0015
    CheckConstraint(f"status IN {STATUS_VALUES!r}", name="status"),
    CheckConstraint(f"direction IS NULL OR {_DIRECTION_SQL}", name="direction"),
)

# scanner.domain.HistogramBin, one per (snapshot, axis, direction, bin_index).
HISTOGRAM_BINS = Table(
    "histogram_bins", METADATA,
    _id(),
    _parent("snapshot_id", "snapshots.id"),
    _req("axis", String(32)),
    _req("direction", String(8)),
    _req("bin_index", Integer),
    _req("low_8dec", Uint256),
    _req("high_8dec", Uint256),
    _req("positions", Integer),
    _req("collateral_usd_8dec", Uint256),
    _req("debt_usd_8dec", Uint256),
    _req("seizable_usd_8dec", Uint256),
    _req("cumulative_collateral_usd_8dec", Uint256),
    UniqueConstraint("snapshot_id", "axis", "direction", "bin_index"),
    CheckConstraint(_DIRECTION_SQL, name="direction"),
)

# scanner.domain.Band, one per (snapshot, axis, direction, rank); top_accounts is JSON.
BANDS = Table(
    "bands", METADATA,
    _id(),
    _parent("snapshot_id", "snapshots.id"),
    _req("axis", String(32)),
    _req("direction", String(8)),
    _req("rank", Integer),
    _req("kind", String(8), server_default=text("'band'")),
    _req("low_8dec", Uint256),
    _req("high_8dec", Uint256),
    _req("positions", Integer),
    _req("collateral_usd_8dec", Uint256),
    _req("debt_usd_8dec", Uint256),
    _req("seizable_usd_8dec", Uint256),
    _req("share_of_at_risk_bps", Integer),
    _req("distance_low_bps", BigInteger),  # signed
    _req("distance_high_bps", BigInteger),
    _req("top_accounts", Text),
    # identity over snapshots (migration 0010, scanner.pipeline.band_tracks): the id of the
    # first band row of its track; split_from: the track this band split off from
    _req("track_id", Integer, index=True),
    Column("split_from", Integer),
    UniqueConstraint("snapshot_id", "axis", "direction", "rank"),
    CheckConstraint(_DIRECTION_SQL, name="direction"),
    CheckConstraint("kind IN ('band', 'wall')", name="kind"),
)

# One price axis of a snapshot: its price and the totals a risk desk reads first.
SNAPSHOT_AXES = Table(
    "snapshot_axes", METADATA,
    Column("snapshot_id", ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
    Column("axis", String(32), primary_key=True),
    _req("price_now_8dec", Uint256),
    _req("at_risk_positions", Integer),
    _req("at_risk_collateral_usd_8dec", Uint256),
    _req("liquidatable_now_positions", Integer),
    _req("liquidatable_now_collateral_usd_8dec", Uint256),
)


def _share_table(name: str, parent_column: str, parent: str) -> Table:
    """scanner.domain.Share: one market's part of a bin or a band."""
    return Table(
        name, METADATA,
        _id(),
        _parent(parent_column, parent),
        _req("market_key", String(128)),
        _req("protocol", String(64)),
        _req("positions", Integer),
        _req("collateral_usd_8dec", Uint256),
        _req("debt_usd_8dec", Uint256),
        _req("seizable_usd_8dec", Uint256),
        UniqueConstraint(parent_column, "market_key"),
    )


BIN_SHARES = _share_table("bin_shares", "bin_id", "histogram_bins.id")
BAND_SHARES = _share_table("band_shares", "band_id", "bands.id")

# Last block whose logs were fully scanned for accounts of a market.
DISCOVERY_CURSORS = Table(
    "discovery_cursors", METADATA,
    Column("market_key", String(128), primary_key=True),
    _req("last_block", BigInteger),
    # None for cursors written before migration 0007; compared with the chain at each scan
    Column("last_block_hash", String(66)),
    _req("updated_at", DateTime(timezone=True), default=_utc_now, onupdate=_utc_now),
)

# Every account ever seen on a market, with the first block it appeared in, per submarket
# where the protocol discovers per submarket (a Morpho market id; "" elsewhere, and for
# Morpho rows written before migration 0011: read in every chosen market).
DISCOVERED_ACCOUNTS = Table(
    "discovered_accounts", METADATA,
    Column("market_key", String(128), primary_key=True),
    Column("submarket", String(128), primary_key=True, server_default=""),
    Column("account", String(42), primary_key=True),
    _req("first_seen_block", BigInteger),
)

# Which market the discovery state of `market_key` belongs to, and the first block of the
# contiguous range [searched_from_block, discovery_cursors.last_block] searched for it.
MARKET_IDENTITIES = Table(
    "market_identities", METADATA,
    Column("market_key", String(128), primary_key=True),
    _req("chain_id", BigInteger),
    _req("protocol", String(64)),
    _req("pool_addresses_provider", String(42)),
    _req("searched_from_block", BigInteger),
    _req("updated_at", DateTime(timezone=True), default=_utc_now, onupdate=_utc_now),
)

# --- The daemon's alert state (migration 0009) -------------------------------------------

# An alert condition of a chain that fired or cleared at a snapshot. A condition is active
# while its newest event is `fired`: it fires once, until it clears, across restarts.
ALERT_EVENTS = Table(
    "alert_events", METADATA,
    _id(),
    _req("chain", String(64)),
    _req("condition_key", String(200)),  # rule:axis[:direction]
    _req("kind", String(8)),
    _req("block", BigInteger),
    _req("snapshot_id", Integer),  # no FK: retention may prune it
    _req("payload", Text),  # the JSON message posted to the webhooks
    _created_at(),
    Index("ix_alert_events_chain_condition", "chain", "condition_key", "id"),
    CheckConstraint("kind IN ('fired', 'cleared')", name="kind"),
)

# One fired alert to one webhook; written with the event, marked when a POST succeeded,
# so a restart resends only what no webhook acknowledged.
ALERT_DELIVERIES = Table(
    "alert_deliveries", METADATA,
    Column("event_id", ForeignKey("alert_events.id", ondelete="CASCADE"), primary_key=True),
    Column("webhook", String(2000), primary_key=True),
    _req("attempts", Integer, server_default="0"),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
)

# --- Cascades (migration 0013) -----------------------------------------------------------

# One liquidation cascade run on a snapshot: a shock of one axis followed to its fixpoint
# through a depth model (scanner/cascade). `curve` marks a point of a cascade curve.
CASCADES = Table(
    "cascades", METADATA,
    _id(),
    _parent("snapshot_id", "snapshots.id"),
    _req("axis", String(32)),
    _req("direction", String(8)),
    _req("curve", Boolean),
    _req("depth_model", Text),  # which depth, with its parameters
    _req("shock_bps", BigInteger),  # signed; from the --to price when given
    _req("price_now_8dec", Uint256),
    _req("shock_price_8dec", Uint256),
    _req("final_price_8dec", Uint256),
    _req("rounds", Integer),
    _req("positions_liquidated", Integer),
    _req("sold_usd_8dec", Uint256),
    _req("debt_repaid_usd_8dec", Uint256),
    _req("bad_debt_usd_8dec", Uint256),
    _req("converged", Boolean),
    _req("buy_modelled", Boolean),
    _req("bands_crossed_by_shock", Text),  # band ranks, comma-separated
    _created_at(),
    # migration 0016: the positions liquidatable before any shock (NULL: a row stored before)
    _req("includes_now", Boolean, server_default=true()),
    Column("now_positions", Integer),
    Column("now_sold_usd_8dec", Uint256),
    Column("now_debt_repaid_usd_8dec", Uint256),
    Column("now_bad_debt_usd_8dec", Uint256),
    # migration 0018: what Compound v3's store front gave up selling at a discount; NULL before
    Column("store_discount_usd_8dec", Uint256),
    Index("ix_cascades_snapshot_axis", "snapshot_id", "axis", "id"),
    CheckConstraint(_DIRECTION_SQL, name="direction"),
)

# One round of a cascade: the liquidations at one axis price and where their sales
# (a short squeeze: buys) took the price.
CASCADE_ROUNDS = Table(
    "cascade_rounds", METADATA,
    Column("cascade_id", ForeignKey("cascades.id", ondelete="CASCADE"), primary_key=True),
    Column("round_index", Integer, primary_key=True),
    _req("price_8dec", Uint256),
    _req("price_after_8dec", Uint256),
    _req("positions", Integer),
    _req("sold_usd_8dec", Uint256),
    _req("debt_repaid_usd_8dec", Uint256),
    _req("bad_debt_usd_8dec", Uint256),
    _req("proceeds_usd_8dec", Uint256),
    _req("sold_assets", Text),  # JSON: [{symbol, asset, amount_raw, usd_8dec}]
    _req("bands_crossed", Text),  # band ranks, comma-separated
    # migration 0016: debt moved to other positions (Liquity), not repaid; NULL before
    Column("debt_redistributed_usd_8dec", Uint256),
    # migration 0018: what Compound v3's store front gave up selling at a discount; NULL before
    Column("store_discount_usd_8dec", Uint256),
)

# Migration 0014: a scan whose derivation bases are stored whole (incremental snapshots).
# `fingerprint` names the market configuration the bases were read under.
DERIVATION_SCANS = Table(
    "derivation_scans", METADATA,
    Column("scan_id", ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    _req("fingerprint", String(64)),
    _req("full_block", BigInteger),  # the full snapshot derived from
)

# Migration 0017: what a position's next value is derived from without reading it (scaled
# balances, shares, principal, ink/art), as the protocol's derive module's JSON. One row per
# position of the market's newest scan that has bases (`derivation_scans`, one per market).
MARKET_BASES = Table(
    "market_bases", METADATA,
    Column("market_key", String(128), primary_key=True),
    Column("submarket", String(128), primary_key=True),
    Column("account", String(42), primary_key=True),
    _req("base", Text),
)

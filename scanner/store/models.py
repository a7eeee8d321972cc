"""SQLAlchemy 2 ORM classes mapped onto the Core tables of `scanner.store.tables`.

The schema lives in `tables.py` (the store reads and writes it with Core, and the read-only
commands never import the ORM: it cost them ~0.4 s of start-up). These classes give
`Base.metadata` (the same `METADATA`, Alembic's `target_metadata`) and a mapped class per
table for code that wants one; each class's `__table__` is its Core table.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from scanner.store import tables
from scanner.store.tables import DIRECTION_VALUES, NAMING_CONVENTION, STATUS_VALUES

__all__ = ["DIRECTION_VALUES", "NAMING_CONVENTION", "STATUS_VALUES"]


class Base(DeclarativeBase):
    metadata = tables.METADATA


class SnapshotRow(Base):
    __table__ = tables.SNAPSHOTS


class ScanRow(Base):
    __table__ = tables.SCANS


class ScanBlockHash(Base):
    __table__ = tables.SCAN_BLOCK_HASHES


class PositionRow(Base):
    __table__ = tables.POSITIONS


class HistogramBinRow(Base):
    __table__ = tables.HISTOGRAM_BINS


class BandRow(Base):
    __table__ = tables.BANDS


class SnapshotAxisRow(Base):
    __table__ = tables.SNAPSHOT_AXES


class BinShareRow(Base):
    __table__ = tables.BIN_SHARES


class BandShareRow(Base):
    __table__ = tables.BAND_SHARES


class DiscoveryCursor(Base):
    __table__ = tables.DISCOVERY_CURSORS


class DiscoveredAccount(Base):
    __table__ = tables.DISCOVERED_ACCOUNTS


class MarketIdentityRow(Base):
    __table__ = tables.MARKET_IDENTITIES


class AlertEvent(Base):
    __table__ = tables.ALERT_EVENTS


class AlertDelivery(Base):
    __table__ = tables.ALERT_DELIVERIES


class CascadeRow(Base):
    __table__ = tables.CASCADES


class CascadeRoundRow(Base):
    __table__ = tables.CASCADE_ROUNDS


class DerivationScan(Base):
    __table__ = tables.DERIVATION_SCANS


class MarketBase(Base):
    __table__ = tables.MARKET_BASES

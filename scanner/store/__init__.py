"""Storage: SQLAlchemy models, Alembic migrations, the repository, exports.

    from scanner.store import Repository, make_engine, upgrade
    upgrade(url)
    repo = Repository(make_engine(url))
"""

from scanner.store.db import downgrade, make_engine, require_current, upgrade
from scanner.store.export import (
    band_records,
    bin_records,
    export_bands,
    export_bins,
    export_positions,
    position_records,
)
from scanner.store.repository import (
    MarketScan,
    Repository,
    ScanNotFoundError,
    StoredSnapshot,
)

__all__ = [
    "MarketScan",
    "Repository",
    "ScanNotFoundError",
    "StoredSnapshot",
    "band_records",
    "bin_records",
    "downgrade",
    "export_bands",
    "export_bins",
    "export_positions",
    "make_engine",
    "position_records",
    "require_current",
    "upgrade",
]

"""Storage: SQLAlchemy models, Alembic migrations, the repository, exports.

    from scanner.store import Repository, make_engine, upgrade
    upgrade(url)
    repo = Repository(make_engine(url))

The names below load on first use (PEP 562): importing a light submodule such as
`scanner.store.lite` must not import SQLAlchemy through this package.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "downgrade": "db", "make_engine": "db", "require_current": "db", "upgrade": "db",
    "band_records": "export", "bin_records": "export", "export_bands": "export",
    "export_bins": "export", "export_positions": "export", "position_records": "export",
    "MarketScan": "repository", "Repository": "repository",
    "ScanNotFoundError": "snapshot_reads", "StoredSnapshot": "snapshot_reads",
}  # fmt: skip

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"scanner.store.{_HOMES[name]}"), name)

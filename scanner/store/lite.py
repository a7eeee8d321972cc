"""`liqscan bands` on a SQLite file through the stdlib `sqlite3`, without SQLAlchemy (whose
import is ~0.4 s of the command's start-up). Same statements (`scanner.store.snapshot_reads`),
same schema check and the same messages as the SQLAlchemy path (`make_engine(create=False)`
and `require_current`); `tests/integration/test_bands_lite.py` compares the two paths' output.

    reads = snapshot_reads(config.database_url)   # sqlite3 for a plain file URL, else SQLAlchemy
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from scanner.dburl import plain_sqlite_file
from scanner.errors import DatabaseError
from scanner.store.schema import cannot_connect, linear_head_revision, missing_file, not_migrated
from scanner.store.snapshot_reads import Row, SnapshotReads

_SEVERAL_VERSIONS = object()  # alembic_version with branches: alembic decides (SQLAlchemy path)


class LiteReader:
    """A read-only sqlite3 connection to a migrated liqscan database."""

    def __init__(self, url: str, connection: sqlite3.Connection) -> None:
        self.url = url  # a plain sqlite:///PATH: SQLAlchemy renders it as this same text
        self.connection = connection

    @property
    def where(self) -> str:
        return self.url

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        cursor = self.connection.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def snapshot_reads(url: str) -> SnapshotReads:
    """The snapshot reads of the database at `url`, checked to be at the newest migration:
    sqlite3 when `url` is a plain SQLite file URL, else the Repository's (SQLAlchemy)."""
    reader = open_lite(url)
    if reader is not None:
        return SnapshotReads(reader)
    from scanner.store.db import make_engine
    from scanner.store.repository import Repository

    return Repository(make_engine(url, create=False)).reads


def open_lite(url: str) -> LiteReader | None:
    """A reader of the SQLite file `url` names; None for any URL the stdlib path does not take
    (not a plain file URL, or an alembic_version with several rows)."""
    name = plain_sqlite_file(url)
    if name is None:
        return None
    path = Path(name)
    if not path.exists():
        raise missing_file(path)
    connection = _connect(url, path)
    try:
        head = linear_head_revision()  # first, as require_current does
        current = _current_revision(url, connection)
    except BaseException:
        connection.close()
        raise
    if current is _SEVERAL_VERSIONS:
        connection.close()
        return None
    if current != head:
        connection.close()
        raise not_migrated(url, current if isinstance(current, str) else None, head)
    return LiteReader(url, connection)


def _connect(url: str, path: Path) -> sqlite3.Connection:
    try:
        # mode=rw: never creates the file (it exists, checked above; a race makes it an error)
        connection = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True)
        # make_engine's first connect reads the file's header: a file that is not a database
        # fails here, as it does there; query_only: this path never writes
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA query_only=ON")
        connection.execute("PRAGMA schema_version").fetchall()
    except sqlite3.Error as exc:
        reason = (str(exc).strip().splitlines() or ["?"])[0]
        raise cannot_connect(url, reason) from exc
    return connection


def _current_revision(url: str, connection: sqlite3.Connection) -> object:
    try:
        found = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                   "name = 'alembic_version'").fetchall()
        if not found:
            return None
        versions = [r[0] for r in connection.execute("SELECT version_num FROM alembic_version")]
    except sqlite3.Error as exc:
        # SQLAlchemy's wording of a driver error: "(module.Class) text"
        kind = f"{type(exc).__module__}.{type(exc).__name__}"
        raise DatabaseError(
            f"cannot read the schema version of {url}: ({kind}) {exc}".splitlines()[0]) from exc
    if len(versions) > 1:
        return _SEVERAL_VERSIONS
    return versions[0] if versions else None

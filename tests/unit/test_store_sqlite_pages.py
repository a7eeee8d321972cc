"""A new SQLite database gets 16 KiB pages (fewer, cheaper page writes for ~760-byte position
rows); an existing database keeps its pages and its rows when the same code opens and
migrates it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scanner.store import db


def _page_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_database_has_16k_pages(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db.upgrade(f"sqlite:///{path}")
    assert _page_size(path) == 16384


def test_an_existing_database_keeps_its_pages_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA page_size=4096")
        conn.execute("CREATE TABLE kept (value TEXT)")
        conn.execute("INSERT INTO kept VALUES ('here')")
    db.upgrade(f"sqlite:///{path}")
    assert _page_size(path) == 4096
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM kept").fetchall() == [("here",)]
        assert conn.execute("SELECT COUNT(*) FROM alembic_version").fetchone()[0] == 1

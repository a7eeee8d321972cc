"""scanner.dburl reads database URLs as SQLAlchemy's make_url does (the config's messages for a
bad URL depend on it), and takes the stdlib sqlite3 path only for URLs it renders unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from scanner.dburl import UnparsableUrlError, parse_db_url, plain_sqlite_file

URLS = [
    "sqlite:///liqscan.db", "sqlite:////abs/path/liqscan.db", "sqlite://", "sqlite:///:memory:",
    "sqlite+pysqlite:///x.db", "sqlite:///file:x.db?mode=ro&uri=true", "sqlite:///a%20b.db",
    "postgresql+psycopg://user:pw@host:5432/liqscan", "postgresql://host/db",
    "postgresql+psycopg://u:p%40ss@[::1]:5433/db?sslmode=require", "postgresql://:5432/db",
    "postgresql://u@host:/db", "postgresql://u:pw@host:abc/db", "postgresql://host:12x/db",
    "postgresql://host: 5/db", "postgresql://host:+5/db", "mysql://u:p@h/db", "oracle+x://h",
    "not a url", "", "://host/db", "postgresql:/host/db", "postgresql//host", "sqlite:/x.db",
    "postgres ql://h/db", "pg_sql://h/db", "a+b+c://h", "postgresql://u:p:q@h:1/d",
    "postgresql://h:1:2/d", "postgresql://[::1/d", "postgresql://u@h@i:3/d",
]


def _sqlalchemy(url: str) -> tuple[str, str | None, int | None, str | None] | str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "unparsable"
    except ValueError:
        return "bad port"
    return parsed.get_backend_name(), parsed.host, parsed.port, parsed.database


def _ours(url: str) -> tuple[str, str | None, int | None, str | None] | str:
    try:
        parsed = parse_db_url(url)
    except UnparsableUrlError:
        return "unparsable"
    except ValueError:
        return "bad port"
    return parsed.backend, parsed.host, parsed.port, parsed.database


@pytest.mark.parametrize("url", URLS)
def test_parse_db_url_agrees_with_make_url(url: str) -> None:
    assert _ours(url) == _sqlalchemy(url)


def test_the_checks_can_fail() -> None:
    assert _ours("not a url") == "unparsable"
    assert _ours("postgresql://u:pw@host:abc/db") == "bad port"
    assert _ours("mysql://u:p@h/db")[0] == "mysql"


@pytest.mark.parametrize("url", [
    *URLS, "sqlite:///./data/liq-scan_1.db", "sqlite:///with space.db", "sqlite:///ünïcode.db",
    "sqlite:///a.db?timeout=3", "sqlite:///a#b.db", "sqlite:////tmp/x+y.db"])
def test_plain_sqlite_file_renders_unchanged(url: str) -> None:
    path = plain_sqlite_file(url)
    if path is None:
        return
    parsed = make_url(url)
    assert parsed.drivername == "sqlite" and not parsed.query
    assert parsed.database == path and path != ":memory:"
    assert parsed.render_as_string(hide_password=True) == url  # messages name it the same


def test_plain_sqlite_file_takes_only_plain_file_urls() -> None:
    assert plain_sqlite_file("sqlite:///liqscan.db") == "liqscan.db"
    assert plain_sqlite_file("sqlite:////abs/liqscan.db") == "/abs/liqscan.db"
    for other in ("sqlite://", "sqlite:///:memory:", "sqlite+pysqlite:///x.db",
                  "sqlite:///x.db?timeout=3", "sqlite:///a%20b.db", "sqlite:///ünïcode.db",
                  "postgresql://h/db"):
        assert plain_sqlite_file(other) is None, other

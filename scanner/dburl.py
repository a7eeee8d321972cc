"""Database URLs read without SQLAlchemy (`import sqlalchemy` is ~0.4 s of start-up, and
`liqscan bands` on SQLite does not need it).

    parts = parse_db_url("postgresql+psycopg://u:pw@db:5432/liqscan")
    parts.backend, parts.port, parts.database      # "postgresql", 5432, "liqscan"

The grammar is SQLAlchemy's `make_url`'s (2.x): `driver://[user[:password]@][host][:port]
[/database][?query]`, matched as a prefix, so it fails only when the URL does not start with
`name://`; a port that is not a whole number is a ValueError. `tests/unit/test_dburl.py`
checks both against `make_url` on many URLs, so the config's messages stay the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_USER = r"(?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?"
_HOST = r"(?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?"
_TAIL = r"(?:/(?P<database>[^?]*))?(?:\?(?P<query>.*))?"
_URL = re.compile(r"(?P<driver>[\w+]+)://" + _USER + _HOST + _TAIL)

# A SQLite file URL whose text needs no quoting: rendered back it is the same string, so the
# stdlib reader's messages name the database exactly as SQLAlchemy's do.
_PLAIN_SQLITE = re.compile(r"sqlite:///(?P<path>[A-Za-z0-9_./+-][A-Za-z0-9_./ +-]*)")


class UnparsableUrlError(ValueError):
    """Not `name://...` (SQLAlchemy's ArgumentError)."""


@dataclass(frozen=True)
class DbUrl:
    driver: str
    host: str | None
    port: int | None
    database: str | None
    query: str | None

    @property
    def backend(self) -> str:
        """The part of the driver name before any `+` (SQLAlchemy's `get_backend_name`)."""
        return self.driver.split("+")[0]


def parse_db_url(url: str) -> DbUrl:
    """Raises UnparsableUrlError, or ValueError for a port that is not a whole number."""
    found = _URL.match(url)
    if found is None:
        raise UnparsableUrlError("not a database URL")
    port = found["port"]
    database = found["database"]
    return DbUrl(driver=found["driver"], host=found["ipv4host"] or found["ipv6host"],
                 port=None if port is None else int(port),  # "host:" too: a bad port
                 database=None if database is None else unquote(database),
                 query=found["query"])


def plain_sqlite_file(url: str) -> str | None:
    """The file path of `sqlite:///PATH` when PATH is plain (ASCII letters, digits, `_./+-`
    and spaces, not `:memory:`, no query); None for any other URL (SQLAlchemy reads those)."""
    found = _PLAIN_SQLITE.fullmatch(url)
    return None if found is None else found["path"]

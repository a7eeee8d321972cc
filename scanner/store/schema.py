"""The schema version read-only commands expect, without SQLAlchemy or alembic (start-up).

    head = linear_head_revision()     # the newest migration of a linear history, or None
    problem = revision_problem(url_for_messages, current, head)   # None when current

`scanner.store.db.require_current` (SQLAlchemy) and `scanner.store.lite` (stdlib sqlite3) both
use these, so the check and its message are one.
"""

from __future__ import annotations

import re
from pathlib import Path

from scanner.devnet.toolchain import project_root
from scanner.errors import DatabaseError

UPGRADE_HINT = "run `liqscan db upgrade`"

_REVISION = re.compile(r'^revision(?:: *str)? *= *"([^"]+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision(?:: *[^=]+)? *= *(?:"([^"]+)"|None)$', re.MULTILINE)


def migrations_dir() -> Path:
    path = project_root() / "migrations"
    if not (path / "env.py").is_file():
        raise DatabaseError(f"migrations/env.py not found under {project_root()}: set LIQSCAN_ROOT")
    return path


def linear_head_revision() -> str | None:
    """alembic's head without importing alembic and every migration (start-up of read-only
    commands): the one revision of a linear history that no other names as its parent.
    Anything else (a merge, a branch, an unusual file) is left to alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((migrations_dir() / "versions").glob("*.py")):
        source = path.read_text()
        revision, parent = _REVISION.findall(source), _DOWN_REVISION.search(source)
        if len(revision) != 1 or parent is None:
            return _alembic_head()
        revisions.add(revision[0])
        if parent.group(1):
            parents.add(parent.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and len(parents) == len(revisions) - 1 else (
        _alembic_head())


def _alembic_head() -> str | None:
    from scanner.store.db import head_revision

    return head_revision()


def not_migrated(shown_url: str, current: str | None, head: str | None) -> DatabaseError:
    return DatabaseError(f"database at {shown_url} is not migrated "
                         f"(at {current or 'empty'}, need {head}): {UPGRADE_HINT}")


def missing_file(path: Path) -> DatabaseError:
    """A read-only command must not leave an empty ./liqscan.db behind."""
    return DatabaseError(f"database file {path} does not exist: create it with "
                         f"`liqscan db upgrade`, or fix database.url")


def cannot_connect(shown_url: str, reason: str) -> DatabaseError:
    return DatabaseError(f"cannot connect to database {shown_url}: {reason}: check the URL and "
                         "that the server is running")

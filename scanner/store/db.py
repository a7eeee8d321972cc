"""Engines and schema migrations.

    engine = make_engine("sqlite:///liqscan.db")
    upgrade("sqlite:///liqscan.db")          # `liqscan db upgrade`
    require_current(engine)                   # before any read or write

Alembic's `script_location` is set here, from the project root, so migrations are found from
any working directory; `alembic.ini` at the root only serves the `alembic` command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from scanner.errors import DatabaseError, UsageError
from scanner.store.schema import UPGRADE_HINT as UPGRADE_HINT  # re-exported
from scanner.store.schema import cannot_connect, migrations_dir, missing_file, not_migrated
from scanner.store.schema import linear_head_revision as linear_head_revision  # re-exported

if TYPE_CHECKING:  # alembic costs ~0.3 s to import: read-only commands never need it
    from alembic.config import Config

def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


# Page cache per SQLite connection, up from SQLite's 2 MiB. A
# 100,000-position snapshot dirties ~100 MB of table and index pages; a smaller cache spills
# them mid-transaction, and every spill syncs the rollback journal and rewrites index pages
# that are touched again later (~25% of the write's CPU, more of its wall time). An upper
# bound, not an allocation; the journal mode and `synchronous` stay SQLite's safe defaults.
SQLITE_CACHE_PRAGMA = "PRAGMA cache_size=-131072"  # KiB: 128 MiB

# Page size of a NEW SQLite database (SQLite ignores it once the file has a table; an existing
# database keeps its pages until a VACUUM). 16 KiB instead of 4 KiB: a position row is ~760
# bytes, so a 4 KiB page holds 5 and a 200,000-row snapshot meant ~40,000 table pages, each
# balanced, spilled and written by its own system call; 16 KiB pages cut the CPU of writing
# that snapshot by ~20% (bench/speed_store.py). Stored content is the same byte for byte.
SQLITE_PAGE_PRAGMA = "PRAGMA page_size=16384"


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores FOREIGN KEY / ON DELETE CASCADE unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(SQLITE_CACHE_PRAGMA)
    cursor.execute(SQLITE_PAGE_PRAGMA)
    cursor.close()


def sqlite_file(url: str) -> Path | None:
    """The file a sqlite URL names; None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return None if name.startswith("file:") else Path(name)


def make_engine(url: str, *, check: bool = True, create: bool = True) -> Engine:
    """An Engine for `url`; with `check`, connect once so a bad URL fails here, clearly.
    Without `create`, a SQLite file that does not exist is an error instead of a new empty
    database (a read-only command must not leave an empty ./liqscan.db behind)."""
    path = sqlite_file(url)
    if not create and path is not None and not path.exists():
        raise missing_file(path)
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise DatabaseError(f"invalid database URL {safe_url(url)}: fix database.url") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
    if check:
        try:
            with engine.connect():
                pass
        except SQLAlchemyError as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise cannot_connect(safe_url(url), reason) from exc
    return engine


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and at `url`, independent of the cwd."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would mangle '%' in URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    _run_alembic(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    _run_alembic(url, lambda config: command.downgrade(config, revision), create=False)


def downgrade_steps(url: str, revision: str) -> list[tuple[str, str]]:
    """(revision id, what it created) of each migration a downgrade to `revision` undoes,
    newest first. `revision`: "-N" (N steps), "base", or a revision id."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(url))
    engine = make_engine(url, create=False)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    chain = [(r.revision, (r.doc or "").splitlines()[0]) for r in script.walk_revisions()]
    ids = [rev for rev, _ in chain]
    position = ids.index(current) if current in ids else len(ids)
    steps = _steps_count(revision, ids, position)
    return chain[position : position + steps]


def _steps_count(revision: str, ids: list[str], position: int) -> int:
    choices = f"use -1 (one step), a revision id ({', '.join(ids)}) or base"
    if revision == "base":
        return len(ids) - position
    if revision.startswith("-") and revision[1:].isdigit() and int(revision[1:]) > 0:
        steps = int(revision[1:])
        if steps > len(ids) - position:
            raise UsageError(f"--revision {revision}: the database is only "
                             f"{len(ids) - position} steps above base; {choices}")
        return steps
    if revision not in ids:
        raise UsageError(f"--revision {revision!r} is not a migration: {choices}")
    target = ids.index(revision)
    if target < position:
        raise UsageError(f"--revision {revision} is above the database's current revision "
                         f"({ids[position] if position < len(ids) else 'base'}): {choices}")
    return target - position


def check(url: str) -> None:
    """Fail (alembic AutogenerateDiffsDetected) when the models and the migrations differ."""
    from alembic import command

    _run_alembic(url, command.check, wrap_errors=False)


def _run_alembic(url: str, action: Any, *, wrap_errors: bool = True, create: bool = True
                 ) -> None:
    from alembic.util.exc import CommandError

    engine = make_engine(url, create=create)
    try:
        with engine.connect() as connection:
            sqlite = engine.dialect.name == "sqlite"
            if sqlite:
                # SQLite ALTERs copy a table and drop the old one: with foreign keys on, that
                # DROP would cascade into every child row. Checked again before commit.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()  # end the autobegun transaction: the pragma is set outside
            with connection.begin():
                config = alembic_config(url)
                config.attributes["connection"] = connection
                action(config)
                if sqlite:
                    _require_foreign_keys_hold(connection)
    except SQLAlchemyError as exc:
        if not wrap_errors:
            raise
        raise DatabaseError(f"migration of {safe_url(url)} failed: {exc}".splitlines()[0]) from exc
    except CommandError as exc:
        if not wrap_errors:
            raise
        raise UsageError(f"migration of {safe_url(url)}: {exc}".splitlines()[0]) from exc
    finally:
        engine.dispose()


def _require_foreign_keys_hold(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise DatabaseError(f"migration would leave {len(broken)} rows without their parent "
                            f"(first: {tuple(broken[0])}): nothing was changed")


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The alembic_version row (what alembic's MigrationContext reads); several rows (branches)
    are left to alembic."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        found = list(connection.execute(text("SELECT version_num FROM alembic_version"))
                     .scalars())
        if len(found) <= 1:
            return found[0] if found else None
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()


def require_current(engine: Engine) -> None:
    """Raise DatabaseError unless the schema is at the newest migration."""
    head = linear_head_revision()
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"cannot read the schema version of {safe_url(str(engine.url))}: {exc}".splitlines()[0]
        ) from exc
    if current != head:
        raise not_migrated(engine.url.render_as_string(hide_password=True), current, head)

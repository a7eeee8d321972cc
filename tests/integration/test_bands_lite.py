"""`liqscan bands` through the stdlib sqlite3 (scanner/store/lite.py) prints byte for byte what
the SQLAlchemy path prints, on a real scan of the session devnet stored in SQLite, and what
PostgreSQL prints for the same block scanned into it; its errors are the SQLAlchemy path's."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from scanner.cli import main
from scanner.devnet.network import MORPHO_MARKET_KEY, Devnet, write_config
from scanner.report import tables
from scanner.store import lite
from tests.integration.test_cli import liqscan
from tests.pg_server import create_database, drop_database

pytestmark = pytest.mark.integration

# every selector `bands` takes (the devnet's markets and axes), with and without --json
CASES = [(), ("--axis", "ETH"), ("--axis", "BTC"), ("--market", MORPHO_MARKET_KEY),
         ("--axis", "ETH", "--market", MORPHO_MARKET_KEY), ("--snapshot", "1"),
         ("--chain", "devnet")]


@dataclass(frozen=True)
class Stored:
    devnet: Devnet
    folder: Path
    db: Path
    block: int

    def config(self, url: str, name: str) -> Path:
        path = self.folder / f"{name}.toml"
        write_config(self.devnet, path, database_url=url)
        return path


@pytest.fixture(scope="module")
def stored(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stored]:
    folder = tmp_path_factory.mktemp("bands-lite")
    db = folder / "liqscan.db"
    config = folder / "lite.toml"
    write_config(devnet, config, database_url=f"sqlite:///{db}")
    assert liqscan("--config", str(config), "db", "upgrade").returncode == 0
    done = liqscan("--config", str(config), "scan", "--json")
    assert done.returncode == 0, done.stderr
    (summary,) = json.loads(done.stdout)
    yield Stored(devnet, folder, db, summary["block"])


def _bands(config: Path, args: tuple[str, ...], capsys: pytest.CaptureFixture[str]
           ) -> tuple[int, str, str]:
    code = main(["--config", str(config), "bands", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # the header's "(N s ago)" is the only text that depends on when a path runs
    monkeypatch.setattr(tables, "time", SimpleNamespace(time=lambda: 1_900_000_000.0))


def test_sqlite3_path_prints_what_sqlalchemy_prints(stored: Stored, fixed_clock: None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    fast = stored.config(f"sqlite:///{stored.db}", "lite")
    slow = stored.config(f"sqlite+pysqlite:///{stored.db}", "sqlalchemy")
    assert lite.open_lite(f"sqlite:///{stored.db}") is not None  # the sqlite3 path
    assert lite.open_lite(f"sqlite+pysqlite:///{stored.db}") is None  # SQLAlchemy's
    for case in CASES:
        for args in (case, (*case, "--json")):
            code, out, err = _bands(fast, args, capsys)
            assert code == 0, err
            assert out and (code, out, err) == _bands(slow, args, capsys), args
    code, out, _ = _bands(fast, ("--json",), capsys)
    assert json.loads(out)  # a real snapshot: there are bands to compare


@pytest.mark.postgres
def test_postgresql_prints_what_sqlite_prints(stored: Stored, pg_server_url: str,
                                              fixed_clock: None,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The same block scanned into PostgreSQL: the statements of scanner.store.snapshot_reads
    run there through SQLAlchemy and answer what sqlite3 answers from the SQLite file."""
    name = "liqscan_bands_lite"
    drop_database(pg_server_url, name)
    url = create_database(pg_server_url, name)
    try:
        pg = stored.config(url, "pg")
        assert liqscan("--config", str(pg), "db", "upgrade").returncode == 0
        done = liqscan("--config", str(pg), "scan", "--block", str(stored.block))
        assert done.returncode == 0, done.stderr
        fast = stored.config(f"sqlite:///{stored.db}", "lite")
        for case in CASES:
            for args in (case, (*case, "--json")):
                code, out, err = _bands(fast, args, capsys)
                assert code == 0, err
                assert out and (code, out, err) == _bands(pg, args, capsys), args
    finally:
        drop_database(pg_server_url, name)


def _error(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, out, err = _bands(config, (), capsys)
    assert out == "" and len(err.strip().splitlines()) == 1, err
    return code, err


def _both(stored: Stored, path: Path, name: str, capsys: pytest.CaptureFixture[str]
          ) -> tuple[int, str]:
    """The error of the sqlite3 path, checked equal to the SQLAlchemy path's (whose URL
    differs only by its driver name)."""
    fast = _error(stored.config(f"sqlite:///{path}", f"{name}-lite"), capsys)
    slow = _error(stored.config(f"sqlite+pysqlite:///{path}", f"{name}-sa"), capsys)
    assert fast == (slow[0], slow[1].replace("sqlite+pysqlite:", "sqlite:")), (fast, slow)
    return fast


def test_errors_are_the_sqlalchemy_paths(stored: Stored, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    missing = stored.folder / "missing.db"
    code, err = _both(stored, missing, "missing", capsys)
    assert code == 76 and f"database file {missing} does not exist" in err
    assert not missing.exists()  # a read never creates the file

    empty = stored.folder / "empty.db"
    sqlite3.connect(empty).close()
    code, err = _both(stored, empty, "empty", capsys)
    assert code == 76 and "is not migrated (at empty, need " in err

    old = stored.folder / "old.db"
    shutil.copyfile(stored.db, old)
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    code, err = _both(stored, old, "old", capsys)
    assert code == 76 and "(at 0001, need " in err and "run `liqscan db upgrade`" in err

    garbage = stored.folder / "garbage.db"
    garbage.write_bytes(b"not a database at all, " * 100)
    code, err = _both(stored, garbage, "garbage", capsys)
    assert code == 76 and "file is not a database" in err

    folder = stored.folder / "a-folder.db"
    folder.mkdir()
    code, err = _both(stored, folder, "folder", capsys)
    assert code == 76 and "unable to open database file" in err


def test_unreachable_postgresql_is_still_sqlalchemys_error(stored: Stored) -> None:
    # a new process: the scrubber's registered secrets are per process
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/nowhere"
    done = liqscan("--config", str(stored.config(url, "unreachable")), "bands")
    assert done.returncode == 76 and done.stdout == ""
    assert "cannot connect to database postgresql+psycopg://" in done.stderr
    assert "secret" not in done.stderr


def test_a_subprocess_answers_like_the_test(stored: Stored) -> None:
    # the real start-up: a new process, stdout a pipe
    fast = stored.config(f"sqlite:///{stored.db}", "lite")
    slow = stored.config(f"sqlite+pysqlite:///{stored.db}", "sqlalchemy")
    first = liqscan("--config", str(fast), "bands", "--json")
    second = liqscan("--config", str(slow), "bands", "--json")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout and json.loads(first.stdout)

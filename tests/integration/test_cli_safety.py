"""The command tells the truth about what it stored and keeps what it did not write:
concurrent scans of one block, Ctrl-C around the commit, a closed stdout pipe, the umask of
exports, `db downgrade`. A real devnet, real SQLite and PostgreSQL, the real command.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert

from scanner.cli import main
from scanner.devnet.network import Devnet, seeded_devnet, write_config
from scanner.devnet.rpc import DevnetRpc
from scanner.domain import SnapshotRecord
from scanner.store import db, rows
from scanner.store.repository import (
    SNAPSHOTS,
    Repository,
    SnapshotAlreadyStoredError,
    snapshot_digest,
    stored_scan_count,
)
from tests.conftest import make_sample_scan

pytestmark = pytest.mark.integration


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "scanner.cli", *args]


def env() -> dict[str, str]:
    full = {**os.environ, "LIQSCAN_NO_PROGRESS": "1"}
    full.pop("LIQSCAN_CONFIG", None)
    return full


@pytest.fixture(scope="module")
def devnet() -> Iterator[Devnet]:
    with seeded_devnet(seed=5, aave_positions=150) as net:
        yield net


@pytest.fixture
def config(devnet: Devnet, db_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    write_config(devnet, path, database_url=db_url)
    return path


def _scans(db_url: str) -> int:
    engine = db.make_engine(db_url)
    try:
        return stored_scan_count(engine)
    finally:
        engine.dispose()


# --- two scans of the same block at once ----------------------------------------------------


def test_two_concurrent_scans_of_one_block(config: Path, db_url: str, devnet: Devnet) -> None:
    block = int(DevnetRpc(devnet.rpc_url).call("eth_blockNumber"), 16)
    args = command("--config", str(config), "scan", "--block", str(block))
    runs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env()) for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted("identical to the stored snapshot" in out for out, _ in outputs)
    assert said == [False, True], outputs
    assert any("stored as snapshot" in out for out, _ in outputs)
    assert _scans(db_url) == 1


def test_a_save_racing_an_uncommitted_twin_reports_the_stored_snapshot(
    repo: Repository
) -> None:
    """The race itself, made certain: our twin's snapshot row is inserted but not committed
    while the save inserts its own (it waits on the lock or unique index, then fails)."""
    sample = make_sample_scan()
    record = sample.record
    snapshot = SnapshotRecord(chain=record.chain, chain_id=record.chain_id, block=record.block,
                              block_timestamp=record.block_timestamp, markets=(record,))
    box: dict[str, Any] = {}
    with repo.engine.connect() as twin:
        transaction = twin.begin()
        values = rows.snapshot_row(snapshot) | {
            "market_count": 1, "position_count": 0, "bin_count": 0, "band_count": 0,
            "content_digest": snapshot_digest(snapshot, sample.bins, sample.bands)}
        twin_id = twin.execute(insert(SNAPSHOTS).values(**values)).inserted_primary_key[0]

        def save() -> None:
            try:
                box["id"] = repo.save_scan(sample.record, sample.positions, sample.bins,
                                           sample.bands, sample.discovered, 100)
            except Exception as exc:
                box["error"] = exc

        thread = threading.Thread(target=save)
        thread.start()
        thread.join(timeout=0.5)  # let it reach its INSERT (either order ends the same)
        transaction.commit()
        thread.join(timeout=60)
    assert "id" not in box
    error = box["error"]
    assert isinstance(error, SnapshotAlreadyStoredError) and error.snapshot_id == twin_id
    assert repo.get_cursor(sample.record.market_key) is None  # nothing of ours was written


# --- Ctrl-C --------------------------------------------------------------------------------


def _run_main(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _interrupt_on(name: str, when: Callable[..., bool]) -> Callable[..., None]:
    fired: list[bool] = []

    def listener(*args: Any) -> None:
        if not fired and when(*args):
            fired.append(True)
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, at exactly this point

    event.listen(Engine, name, listener)
    return lambda: event.remove(Engine, name, listener)


def test_ctrl_c_during_the_commit_reports_the_stored_scan(
    config: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIQSCAN_NO_PROGRESS", "1")
    remove = _interrupt_on("commit", lambda conn: True)
    try:
        code, out, err = _run_main("--config", str(config), "scan")
    finally:
        remove()
    assert code == 0, err
    assert "stored as snapshot" in out and "interrupted" not in err
    assert _scans(db_url) == 1


def test_ctrl_c_before_the_commit_stores_nothing(
    config: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIQSCAN_NO_PROGRESS", "1")
    remove = _interrupt_on("before_cursor_execute",
                           lambda conn, cursor, statement, *rest: "discovered_accounts"
                           in statement and statement.lstrip().upper().startswith("SELECT"))
    try:
        code, _out, err = _run_main("--config", str(config), "scan")
    finally:
        remove()
    assert code == 130 and err.strip() == "liqscan: interrupted"
    assert _scans(db_url) == 0


# --- a closed stdout ---------------------------------------------------------------------------


def _with_closed_stdout(args: list[str]) -> tuple[int, str]:
    """Run with stdout a pipe whose reader is gone before the command writes (`| head -0`)."""
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    assert run.stdout is not None and run.stderr is not None
    run.stdout.close()
    err = run.stderr.read().decode()
    return run.wait(timeout=600), err


def test_scan_into_a_closed_pipe_stores_and_succeeds(config: Path, db_url: str) -> None:
    code, err = _with_closed_stdout(command("--config", str(config), "scan"))
    assert code == 0 and "Traceback" not in err and "Exception ignored" not in err, err
    assert _scans(db_url) == 1
    code, err = _with_closed_stdout(command("--config", str(config), "bands"))
    assert code == 0 and err == "", err
    code, err = _with_closed_stdout(command("--config", str(config), "positions", "--limit",
                                            "100000", "--json"))
    assert code == 0 and err == "", err


# --- exports follow the umask; db downgrade says what it drops -------------------------------


@pytest.fixture(scope="module")
def scanned_sqlite(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("umask")
    path = folder / "config.toml"
    url = f"sqlite:///{folder / 'liqscan.db'}"
    write_config(devnet, path, database_url=url)
    db.upgrade(url)
    code, _, err = _run_main("--config", str(path), "scan")
    assert code == 0, err
    return path


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_exports_follow_the_umask(scanned_sqlite: Path, tmp_path: Path, umask: int, mode: int
                                  ) -> None:
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"bands.{fmt}"
        done = subprocess.run(command("--config", str(scanned_sqlite), "export", "--what",
                                      "bands", "--format", fmt, "--out", str(out)),
                              env=env(), capture_output=True, text=True, umask=umask,
                              timeout=600)
        assert done.returncode == 0, done.stderr
        assert out.stat().st_mode & 0o777 == mode


def test_db_downgrade_one_step_says_what_it_drops_and_keeps_scans(
    config: Path, db_url: str
) -> None:
    code, _, err = _run_main("--config", str(config), "scan")
    assert code == 0, err
    code, _, err = _run_main("--config", str(config), "db", "downgrade", "--revision=-1")
    head = db.head_revision()
    assert code == 0, err
    assert f"drops what 1 migration(s) created:\n  {head}: " in err
    assert "stored scans" not in err and _scans(db_url) == 1
    code, _out, err = _run_main("--config", str(config), "db", "downgrade", "--revision", "base")
    assert code == 0, err
    assert "including every table, with all 1 stored scans" in err
    code, _, _ = _run_main("--config", str(config), "db", "upgrade")
    assert code == 0 and _scans(db_url) == 0

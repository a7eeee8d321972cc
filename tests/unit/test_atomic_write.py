"""Atomic file writes (scanner/store/atomic.py): whole or absent, no temp file after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.store.atomic import write_atomically

_KILLED_WRITER = """
import sys, time
from pathlib import Path
from scanner.store.atomic import write_atomically

def write(path: Path) -> int:
    with path.open("w") as handle:
        handle.write("half of the rows\\n")
        handle.flush()
        print("writing", flush=True)
        time.sleep(60)  # killed here, mid-write
    return 1

write_atomically(Path(sys.argv[1]), write)
"""


def _fill(text: str):  # type: ignore[no-untyped-def]
    def write(path: Path) -> int:
        path.write_text(text)
        return len(text)

    return write


def test_new_file_then_replaced(tmp_path: Path) -> None:
    out = tmp_path / "bands.csv"
    assert write_atomically(out, _fill("old\n")) == 4
    assert write_atomically(out, _fill("new rows\n")) == 9
    assert out.read_text() == "new rows\n"
    assert os.listdir(tmp_path) == ["bands.csv"]


def test_mode_follows_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_atomically(tmp_path / "a.json", _fill("[]\n"))
    finally:
        os.umask(previous)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o640


def test_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "positions.csv"
    out.write_text("previous export\n")

    def broken(path: Path) -> int:
        path.write_text("partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(out, broken)
    assert out.read_text() == "previous export\n"
    assert os.listdir(tmp_path) == ["positions.csv"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="O_TMPFILE is Linux-only")
@pytest.mark.parametrize("existing", [False, True], ids=["new", "replacing"])
def test_sigkill_mid_write_leaves_no_temp_file(tmp_path: Path, existing: bool) -> None:
    out = tmp_path / "positions.parquet"
    if existing:
        out.write_text("previous export\n")
    root = Path(__file__).resolve().parents[2]
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(out)],
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(root)})
    assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(30)
    assert os.listdir(tmp_path) == (["positions.parquet"] if existing else [])
    if existing:
        assert out.read_text() == "previous export\n"

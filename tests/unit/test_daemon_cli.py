"""`liqscan daemon` refuses bad input at start with one line and the documented exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.unit.test_config import ENV, VALID


def _daemon(tmp_path: Path, *args: str, extra: str = "") -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(VALID.replace("sqlite:///liqscan.db", f"sqlite:///{tmp_path}/l.db")
                      + extra)
    return subprocess.run([sys.executable, "-m", "scanner.cli", "--config", str(config),
                           "daemon", *args], capture_output=True, text=True, timeout=60,
                          env={**ENV, "PATH": "/usr/bin:/bin"})


def test_bad_http_option_is_a_usage_error(tmp_path: Path) -> None:
    run = _daemon(tmp_path, "--http", "localhost")
    assert run.returncode == 2
    assert run.stderr == ("liqscan: error: --http 'localhost' must be HOST:PORT with a port in "
                          "1-65535, e.g. 127.0.0.1:8080\n")


def test_unmigrated_database_exits_76_before_any_rpc(tmp_path: Path) -> None:
    run = _daemon(tmp_path)
    assert run.returncode == 76
    assert run.stderr.count("\n") == 1 and "liqscan db upgrade" in run.stderr


def test_bad_daemon_key_exits_78(tmp_path: Path) -> None:
    run = _daemon(tmp_path, extra="\n[daemon]\nscan_interval = 3\n")
    assert run.returncode == 78
    assert "daemon.scan_interval is not a known key; did you mean 'scan_interval_blocks'?" in (
        run.stderr)

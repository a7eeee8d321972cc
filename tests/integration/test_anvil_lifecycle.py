"""anvil is always stopped: on a normal exit, an exception, Ctrl-C and SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from scanner.devnet.anvil import Anvil
from scanner.errors import UsageError

pytestmark = pytest.mark.integration


def _answers(url: str) -> bool:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    try:
        return requests.post(url, json=body, timeout=1).json()["result"] == "0x7a69"
    except requests.RequestException:
        return False


def test_context_manager_stops_the_node_on_an_exception() -> None:
    with pytest.raises(RuntimeError), Anvil.start() as node:
        assert _answers(node.url)
        url, process = node.url, node.process
        raise RuntimeError("boom")
    assert process.poll() is not None
    assert not _answers(url)


def test_a_busy_port_is_refused_with_a_clear_error() -> None:
    with Anvil.start() as node, pytest.raises(UsageError, match=f"port {node.port}.*--port"):
        Anvil.start(port=node.port)


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_devnet_up_leaves_no_orphan(signum: int, tmp_path: Path) -> None:
    config = tmp_path / "devnet.toml"
    log_path = tmp_path / "devnet-up.log"
    # Output goes to a file, not a pipe: a full pipe would block the child, and reading a pipe
    # of a child still running would block the test. Building an uncached devnet on a loaded
    # 2-core machine can take minutes, hence the generous deadline (never a timing assertion).
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scanner.cli", "devnet", "up", "--aave-positions", "20",
             "--seed", "3", "--write-config", str(config)],
            stdout=log, stderr=subprocess.STDOUT, text=True,
        )
    deadline = time.monotonic() + 900
    while not config.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    if not config.exists():
        for pid in _children(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait(timeout=30)
        pytest.fail(f"devnet up wrote no config: {log_path.read_text()[-2000:]}")
    anvils = _children(proc.pid)
    assert anvils, "devnet up runs anvil as its child"
    os.kill(proc.pid, signum)
    proc.wait(timeout=30)
    for pid in anvils:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
            f"/proc/{pid}/status").read_text()


def test_the_node_keeps_its_spilled_states_in_a_home_removed_with_it() -> None:
    """anvil spills old block states to $HOME/.foundry/anvil/tmp and removes them only on a
    graceful exit: stopped by signal, it left ~6 GB per devnet build in the user's home (55 GB
    filled the disk in one day). The node runs with a private HOME that `stop` removes."""
    with Anvil.start() as node:
        assert node.state_home is not None and node.state_home.is_dir()
        environ = Path(f"/proc/{node.process.pid}/environ").read_bytes().split(b"\0")
        assert f"HOME={node.state_home}".encode() in environ
        (node.state_home / ".foundry").mkdir()  # where anvil writes its spilled states
    assert not node.state_home.exists()

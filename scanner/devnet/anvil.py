"""Run a local anvil node: start on a free port, wait until it answers, always stop it.

    with Anvil.start() as node:
        rpc = DevnetRpc(node.url)

The process is stopped by its own PID on exit, Ctrl-C or exception (context manager), and an
`atexit` hook catches interpreters that exit without unwinding.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from scanner.devnet.toolchain import anvil_binary
from scanner.errors import ToolchainError, UsageError

CHAIN_ID = 31337
_LISTEN_RE = re.compile(r"Listening on (\S+):(\d+)")
_START_TIMEOUT_SECONDS = 20.0

ANVIL_FLAGS = (
    "--disable-code-size-limit",
    "--gas-limit", "10000000000",
    "--block-base-fee-per-gas", "0",
    "--disable-min-priority-fee",
    "--auto-impersonate",
    "--no-request-size-limit",
    "--chain-id", str(CHAIN_ID),
)


def check_port_free(port: int) -> None:
    """Raise a clear error when `port` on 127.0.0.1 is already taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise UsageError(
                f"port {port} on 127.0.0.1 is busy: choose another with --port"
            ) from exc


@dataclass
class Anvil:
    """A running anvil process."""

    process: subprocess.Popen[str]
    port: int
    # anvil's HOME: it spills old block states to $HOME/.foundry/anvil/tmp and removes them
    # only on a graceful exit, so a stopped node left gigabytes behind in the user's home
    # per devnet build; a private HOME is removed with the node.
    state_home: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls, port: int = 0, state_file: Path | None = None, extra_args: tuple[str, ...] = ()
    ) -> Anvil:
        if port:
            check_port_free(port)
        cmd = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), *ANVIL_FLAGS]
        if state_file is not None:
            cmd += ["--load-state", str(state_file)]
        cmd += list(extra_args)
        state_home = Path(tempfile.mkdtemp(prefix="liqscan-anvil-"))
        try:
            process = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                env={**os.environ, "HOME": str(state_home)},
            )
        except BaseException:
            shutil.rmtree(state_home, ignore_errors=True)
            raise
        node = cls(process=process, port=port, state_home=state_home)
        atexit.register(node.stop)
        try:
            node.port = _read_listen_port(process)
            node.wait_ready()
        except BaseException:
            node.stop()
            raise
        return node

    def wait_ready(self, timeout_seconds: float = _START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout_seconds
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ToolchainError(f"anvil exited with code {self.process.returncode}")
            with contextlib.suppress(requests.RequestException):
                if requests.post(self.url, json=body, timeout=1).ok:
                    return
            time.sleep(0.05)
        raise ToolchainError(f"anvil did not answer on {self.url} within {timeout_seconds:.0f}s")

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.state_home is not None:
            shutil.rmtree(self.state_home, ignore_errors=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> Anvil:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _read_listen_port(process: subprocess.Popen[str]) -> int:
    """Read anvil's banner until the "Listening on host:port" line."""
    assert process.stdout is not None  # created with stdout=PIPE
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                detail = " ".join(s.strip() for s in seen[-3:])
                raise ToolchainError(f"anvil failed to start: {detail or 'no output'}")
            continue
        seen.append(line)
        match = _LISTEN_RE.search(line)
        if match:
            _drain_in_background(process)
            return int(match.group(2))
    raise ToolchainError("anvil did not report its listening port in time")


def _drain_in_background(process: subprocess.Popen[str]) -> None:
    """Keep reading anvil's stdout so a full pipe never blocks the node."""
    import threading

    def drain() -> None:
        assert process.stdout is not None
        with contextlib.suppress(ValueError, OSError):
            for _ in process.stdout:
                pass

    threading.Thread(target=drain, daemon=True).start()


@contextlib.contextmanager
def running_anvil(port: int = 0, state_file: Path | None = None) -> Iterator[Anvil]:
    node = Anvil.start(port=port, state_file=state_file)
    try:
        yield node
    finally:
        node.stop()

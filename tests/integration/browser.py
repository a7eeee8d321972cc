"""Headless Chromium (the Debian package) for page tests: the DOM after the page's scripts
ran, a screenshot, and a live page driven over the DevTools protocol (aiohttp websocket).
Missing Chromium fails the test with the fix (`make setup`)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# No background traffic: this machine's network is closed, and tests must not reach out.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1")
# Virtual time runs as fast as the page lets it: long enough for every fetch of the first
# load (it waits for them), short enough that a poll or two happens at most.
VIRTUAL_TIME_MS = 12_000


def chromium() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("Chromium not found: run `make setup` (installs the Debian package "
                         "chromium)")


def _run(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [chromium(), *FLAGS, f"--user-data-dir={profile}",
               f"--virtual-time-budget={VIRTUAL_TIME_MS}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise AssertionError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def dump_dom(url: str, profile: Path) -> str:
    """The page's DOM after its scripts ran (serialized HTML)."""
    return _run(profile, "--dump-dom", url).stdout


def screenshot(url: str, out: Path, profile: Path, width: int = 1400, height: int = 2000
               ) -> None:
    _run(profile, f"--screenshot={out}", f"--window-size={width},{height}", url)
    if not out.is_file():
        raise AssertionError(f"chromium wrote no screenshot to {out}")


class DevToolsPage:
    """One page of a running Chromium, driven over the DevTools protocol (a websocket)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable)."""
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": "Runtime.evaluate",
                                 "params": {"expression": expression, "returnByValue": True}})
        while True:
            message = await self.ws.receive_json()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{expression}: {message['error']}")
                return message["result"]["result"].get("value")

    async def wait_for(self, expression: str, done: Callable[[Any], bool],
                       timeout_s: float = 120.0) -> Any:
        """Evaluate until `done(value)`; fail after `timeout_s` (a bound, not a measurement)."""
        async with asyncio.timeout(timeout_s):
            while True:
                value = await self.evaluate(expression)
                if done(value):
                    return value
                await asyncio.sleep(0.25)


@contextlib.asynccontextmanager
async def devtools_page(url: str, profile: Path) -> AsyncIterator[DevToolsPage]:
    """Chromium showing `url` in real time, with its DevTools endpoint on a free port."""
    process = await asyncio.create_subprocess_exec(
        chromium(), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
        "--window-size=1400,2000", url, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    try:
        endpoint = await _devtools_endpoint(process.stderr)
        drain = asyncio.create_task(process.stderr.read())  # never let its pipe fill up
        port = endpoint.split(":")[2].split("/")[0]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json()
            page = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                yield DevToolsPage(ws)
        drain.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def _devtools_endpoint(stderr: asyncio.StreamReader) -> str:
    async with asyncio.timeout(60):
        while line := (await stderr.readline()).decode():
            if "DevTools listening on " in line:
                return line.split("DevTools listening on ", 1)[1].strip()
    raise AssertionError("chromium exited before its DevTools endpoint was up")

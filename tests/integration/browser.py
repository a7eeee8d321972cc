"""Headless Chromium (the Debian package) for page tests: the DOM after the page's scripts
ran, and a screenshot. Missing Chromium fails the test with the fix (`make setup`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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

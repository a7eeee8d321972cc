"""`make setup` installs PostgreSQL and Chromium with apt: another apt run (a second clone's
setup, unattended upgrades) may hold dpkg's lock, and apt-get then fails at once unless told
to wait -- `make setup` in two clones at the same time failed that way."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_every_apt_run_of_setup_waits_for_the_lock() -> None:
    recipes = subprocess.run(["make", "-n", "postgres-bin", "chromium-bin"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    runs = re.findall(r"apt-get ([^;&|]*)", recipes)
    assert len(runs) == 4  # update and install, for each of the two packages
    assert all(re.match(r"-o DPkg::Lock::Timeout=\d+ ", run) for run in runs), runs

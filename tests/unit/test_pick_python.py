"""`make setup` builds the virtualenv with scripts/pick_python.py's interpreter (PY=... wins):
the distribution's optimised build first, then python3 on PATH, the first that can build the
project."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "pick_python.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pick_python", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pick_python"] = module  # its NamedTuple resolves annotations by module
    spec.loader.exec_module(module)
    return module


pick = _load()


def test_the_first_candidate_that_can_build_the_project_is_chosen() -> None:
    old = pick.Candidate("/usr/bin/python3", "3.9.2", "older than 3.11", True)
    no_venv = pick.Candidate("/opt/py/bin/python3", "3.12.1", "no venv/ensurepip module", True)
    headless = pick.Candidate("/usr/local/bin/python3", "3.11.9", "", False)
    good = pick.Candidate("/home/u/.pyenv/shims/python3", "3.11.7", "", True)
    later = pick.Candidate("/usr/local/bin/python3.13", "3.13.0", "", True)
    assert pick.choose([old, no_venv, headless, good, later]) == good
    # without C headers anywhere, the first that can build the project (pure-Python math)
    assert pick.choose([old, headless, no_venv]) == headless
    assert pick.choose([old, no_venv]) is None
    assert pick.choose([]) is None


def test_the_distribution_interpreter_comes_before_the_one_on_path(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    distribution = tmp_path / "usr-bin-python3"
    on_path = tmp_path / "bin" / "python3"
    on_path.parent.mkdir()
    for f in (distribution, on_path):
        f.write_text("#!/bin/sh\n")
        f.chmod(0o755)
    monkeypatch.setattr(pick, "DISTRIBUTION_PATHS", (str(distribution),))
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert pick.candidates() == [str(distribution), str(on_path)]
    # the same file twice (python3 on PATH is the distribution's) is probed once
    monkeypatch.setattr(pick, "DISTRIBUTION_PATHS", (str(on_path),))
    assert pick.candidates() == [str(on_path)]


def test_probe_reports_what_an_interpreter_lacks(tmp_path: Path) -> None:
    this = pick.probe(sys.executable)  # the virtualenv's own: it built the project
    assert this.problem == ""
    assert this.version == ".".join(map(str, sys.version_info[:3]))
    include = Path(sysconfig.get_paths()["include"])
    assert this.headers == (include / "Python.h").is_file()
    missing = pick.probe(str(tmp_path / "no-such-python"))
    assert missing.problem == "does not run" and not missing.headers
    broken = tmp_path / "python3"
    broken.write_text("#!/bin/sh\necho not json\n")
    broken.chmod(0o755)
    assert pick.probe(str(broken)).problem == "does not run"


def test_the_script_prints_one_usable_interpreter() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
    if done.returncode == 2:  # no usable interpreter here: one line saying so, no traceback
        assert done.stdout == "" and len(done.stderr.splitlines()) == 1
        assert "Traceback" not in done.stderr and "PY=" in done.stderr
        return
    assert done.returncode == 0, done.stderr
    chosen = done.stdout.strip()
    assert Path(chosen).is_file() and pick.probe(chosen).problem == ""
    assert chosen in done.stderr  # and says which, on stderr


def test_no_usable_interpreter_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    monkeypatch.setattr(pick, "candidates", lambda: ["/nowhere/python3"])
    assert pick.main() == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "/nowhere/python3: does not run" in err


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("override", "expected"), [
    ("", "py=$(python3 scripts/pick_python.py) && $py -m venv .venv"),
    ("PY=/opt/python3", "py=/opt/python3 && $py -m venv .venv"),
])
def test_make_setup_builds_the_virtualenv_with_the_choice(override: str, expected: str) -> None:
    # --no-print-directory: under `make test` this make is nested and would say where it is
    recipe = subprocess.run(["make", "--no-print-directory", "-n", "-B", ".venv/.installed",
                             *filter(None, [override])],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    venv_lines = [line for line in recipe.splitlines() if "-m venv" in line]
    assert len(venv_lines) == 1 and expected in venv_lines[0], recipe

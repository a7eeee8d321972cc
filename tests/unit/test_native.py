"""The compiled math (scanner/native.py) gives what the pure modules give, field for field,
and is never loaded for sources it was not built from."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner import native, native_build
from scanner.domain import Axis, Position, PositionResult
from scanner.pipeline.liquidation import VAULT_FIELDS, vault_fields
from scanner.protocols.aave_v3.rule import AavePosition
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState, AaveUserReserve
from tests.native_compare import ROOT, native_and_pure, require_native_build
from tests.unit.test_aave_leg_table import ASSETS, AXES, accounts, markets

PROBE = ("from scanner import native; import scanner.pipeline.crossing as c; "
         "print(native.status().in_use, c.__file__)")


@st.composite
def healthier_accounts(draw: st.DrawFn) -> AaveAccount:
    """Listed assets used as collateral, smaller debts: accounts the solver prices."""
    held = draw(st.lists(st.sampled_from(ASSETS), min_size=2, max_size=4, unique=True))
    legs = []
    for asset, decimals, _ in held:
        supplied = draw(st.integers(0, 10**5)) * 10**decimals // draw(st.sampled_from([1, 7]))
        debt = draw(st.integers(0, 10**4)) * 10**decimals // draw(st.sampled_from([3, 30]))
        legs.append(AaveUserReserve(asset, supplied, debt, True))
    return AaveAccount("0xA", draw(st.sampled_from([0, 0, 1])), tuple(legs), 0, 0, 0)


def random_cases(count: int) -> list[tuple[Position, Axis]]:
    """Half the leg-table test's accounts (errors, dust, eMode corners), half healthier."""
    cases: list[tuple[Position, Axis]] = []

    @settings(max_examples=count, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(market=markets(), account=st.one_of(accounts(), healthier_accounts()),
           axis=st.sampled_from(AXES))
    def collect(market: AaveMarketState, account: AaveAccount, axis: Axis) -> None:
        state = AavePosition(account, market)
        cases.append((Position("test", "aave-v3", "0xPool", "0xA", state,
                               account.emode_category), axis))

    collect()
    return cases


def test_random_markets_give_identical_results(tmp_path: Path) -> None:
    require_native_build()
    compiled, pure = native_and_pure(random_cases(600), tmp_path)
    assert compiled == pure
    priced = [r for r in pure if isinstance(r, PositionResult)
              and r.liquidation_price_8dec is not None]
    assert len(priced) >= 30, "the cases must reach the solver, not only its errors"


def probe(source_root: Path | None, **env: str) -> tuple[str, str]:
    environment = dict(os.environ, **env)
    if source_root is not None:
        environment["PYTHONPATH"] = str(source_root)
        environment[native.CACHE_ENV] = str(native.cache_root())
    done = subprocess.run([sys.executable, "-c", PROBE], env=environment, check=True,
                          capture_output=True, text=True, cwd=source_root)
    in_use, module_file = done.stdout.split()
    return in_use, module_file


def test_a_changed_source_loads_the_pure_module(tmp_path: Path) -> None:
    require_native_build()
    shutil.copytree(native.SCANNER_DIR, tmp_path / "scanner",
                    ignore=shutil.ignore_patterns("__pycache__"))
    in_use, module_file = probe(tmp_path)
    assert in_use == "True" and module_file.endswith(native.extension_suffix())
    changed = tmp_path / "scanner" / "pipeline" / "monotone.py"  # not the module probed
    changed.write_text(changed.read_text() + "\n# edited after the build\n")
    in_use, module_file = probe(tmp_path)
    assert in_use == "False"
    assert module_file == str(tmp_path / "scanner" / "pipeline" / "crossing.py")


def test_liqscan_native_0_forces_pure_python() -> None:
    require_native_build()
    assert probe(None, **{native.SWITCH_ENV: "1"})[0] == "True"
    in_use, module_file = probe(None, **{native.SWITCH_ENV: "0"})
    assert in_use == "False" and module_file.endswith("crossing.py")


def test_a_second_build_does_not_rebuild() -> None:
    require_native_build()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert native_build.build() == 0
    assert printed.getvalue().startswith("native math: up to date")


def test_pruning_removes_only_liqscan_builds(tmp_path: Path) -> None:
    # LIQSCAN_NATIVE_CACHE may name a directory the user keeps other things in (~/.cache):
    # pruning removed EVERY directory there but its own scratch; now only finished builds of
    # other keys go -- a key's name, not a link, holding the marker that names it
    def build(name: str, marker: str | None) -> Path:
        entry = tmp_path / name
        (entry / "scanner").mkdir(parents=True)
        if marker is not None:
            (entry / native.COMPLETE_MARKER).write_text(marker + "\n")
        return entry

    current, stale = "a" * 24, "0123456789abcdef01234567"
    build(current, current)
    build(stale, stale)
    kept = [build("photos", None), build("b" * 24, None), build("c" * 24, "d" * 24),
            build("E" * 24, "E" * 24), build("f" * 25, "f" * 25)]
    (kept[0] / "holiday.jpg").write_bytes(b"jpeg")
    outside = build("outside", None).rename(tmp_path.parent / f"{tmp_path.name}-outside")
    (outside / native.COMPLETE_MARKER).write_text("9" * 24)
    (tmp_path / ("9" * 24)).symlink_to(outside, target_is_directory=True)
    (tmp_path / "notes.txt").write_text("mine")
    native_build._prune(tmp_path, current)
    assert not (tmp_path / stale).exists()
    assert (tmp_path / current / native.COMPLETE_MARKER).is_file()
    assert all(entry.is_dir() for entry in kept)
    assert (kept[0] / "holiday.jpg").read_bytes() == b"jpeg"
    assert (tmp_path / ("9" * 24)).is_symlink() and (outside / "scanner").is_dir()
    assert (tmp_path / "notes.txt").read_text() == "mine"


def _fake_build(root: Path, key: str) -> Path:
    entry = root / key
    (entry / "scanner").mkdir(parents=True)
    (entry / native.IN_USE_FILE).touch()
    (entry / native.COMPLETE_MARKER).write_text(key + "\n")
    return entry


HOLDER = ("import sys; from pathlib import Path; from scanner import native; "
          "print(native.hold(Path(sys.argv[1])), flush=True); sys.stdin.read()")


def test_pruning_keeps_a_build_a_running_process_holds(tmp_path: Path) -> None:
    # a process imports its compiled modules as it first needs them (a daemon's rare path,
    # hours later): `make setup` after a pull pruned its build and the next such import
    # failed ("cannot open shared object file"); now the build stays until that process ends
    current, running = "a" * 24, "b" * 24
    _fake_build(tmp_path, current)
    held = _fake_build(tmp_path, running)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(held)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        native_build._prune(tmp_path, current)
        assert (held / native.COMPLETE_MARKER).is_file()
    finally:
        holder.communicate("")
    native_build._prune(tmp_path, current)
    assert not held.exists() and (tmp_path / current).is_dir()


def test_a_forced_rebuild_of_a_held_build_says_so_before_compiling(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.CACHE_ENV, str(tmp_path))
    held = _fake_build(tmp_path, native.build_key())

    def no_compile(*_args: object) -> bool:
        raise AssertionError("compiled a build it could not install")

    monkeypatch.setattr(native_build, "_compile", no_compile)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(held)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert native_build.build(force=True) == 0
        assert "is in use by a running process" in printed.getvalue()
        assert (held / native.COMPLETE_MARKER).is_file()
    finally:
        holder.communicate("")


def test_a_pruned_build_is_not_held(tmp_path: Path) -> None:
    # the marker goes first when a build is removed: a process that waited for the lock then
    # finds no build and runs pure Python, never a half-removed build
    entry = _fake_build(tmp_path, "c" * 24)
    (entry / native.COMPLETE_MARKER).unlink()
    assert native.hold(entry) is False
    assert native.hold(tmp_path / ("d" * 24)) is False  # gone altogether


class _Plain:
    def __init__(self, owner: str | None) -> None:
        if owner is not None:
            self.owner = owner  # only some instances have it


class _Slotted:
    __slots__ = ("vault_id",)

    def __init__(self) -> None:
        self.vault_id = 7


class _Dynamic:
    __slots__ = ()

    def __getattr__(self, name: str) -> object:
        if name == "liquidatable_next":
            return True
        raise AttributeError(name)


def test_vault_fields_skip_only_what_no_instance_can_have() -> None:
    """vault_fields' per-class shortcut (a failed getattr is costly on a compiled class)
    gives what a getattr with default None gives, for every kind of state class."""
    market = AaveMarketState("test", 1, 10**8, 1, 1, {}, {})
    states: list[object] = [AavePosition(AaveAccount("0xA", 0, (), 0, 0, 0), market),
                            _Plain("0xOwner"), _Plain(None), _Slotted(), _Dynamic()]
    for state in states:
        position = Position("test", "p", "0xPool", "0xA", state, 0)  # type: ignore[arg-type]
        expected = {name: getattr(state, name, None) for name in VAULT_FIELDS}
        got = vault_fields(position)
        assert {name: got.get(name) for name in VAULT_FIELDS} == expected


def test_a_config_copies_and_pickles_with_the_compiled_modules_loaded() -> None:
    """A frozen dataclass compiled by mypyc can be neither copied nor pickled; the band
    settings a Config holds once were one (in the compiled bands.py)."""
    import copy
    import pickle

    import scanner.pipeline.bands  # noqa: F401  (the compiled group, when built)
    from scanner.config import load_config

    config = load_config(Path(__file__).resolve().parents[2] / "config.toml")
    assert copy.deepcopy(config) == config
    assert pickle.loads(pickle.dumps(config)) == config

"""Compiled exact math: the hot, strictly typed math modules built by mypyc, loaded only when
the build matches the sources on disk.

`make setup` runs `python -m scanner.native_build`, which compiles NATIVE_MODULES into
`.cache/native/<key>/` (or LIQSCAN_NATIVE_CACHE/<key>/). The key hashes those modules' sources,
the interpreter's ABI and BUILD_FORMAT, so an edited source has a new key and no build: the
finder then loads the .py, never a stale extension. Nothing compiled lives in the source tree.

The group is all or nothing: mypyc calls between its modules go straight to C, so a mix of
compiled and pure modules of one group would hold two copies of each class. The decision is
made once, at the first import of any of NATIVE_MODULES (so read-only commands that never
import the math never hash anything), and `status()` reports it.

LIQSCAN_NATIVE=0 forces pure Python. Results are identical either way (tests/unit/test_native.py
and tests/integration/test_native_devnet.py compare them field for field).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

NATIVE_MODULES: tuple[str, ...] = (
    # the records the solver builds per position (PositionResult, Valuation): native classes
    "scanner.domain",
    # the Aave v3 records built per account and reserve read (AaveAccount, AaveUserReserve)
    "scanner.protocols.aave_v3.state",
    "scanner.protocols.aave_v3.generic_logic",
    "scanner.protocols.aave_v3.axis_sums",
    "scanner.protocols.aave_v3.axis_saw",
    "scanner.protocols.aave_v3.axis_monotone",
    "scanner.protocols.aave_v3.leg_table",
    "scanner.protocols.aave_v3.liquidation_call",
    "scanner.protocols.aave_v3.rule",
    # Aave v2's records and rule: the same GenericLogic in ETH terms, its sums compiled per curve
    "scanner.protocols.aave_v2.state",
    "scanner.protocols.aave_v2.generic_logic",
    "scanner.protocols.aave_v2.axis_monotone",
    "scanner.protocols.aave_v2.axis_sums",
    "scanner.protocols.aave_v2.liquidation",
    "scanner.protocols.aave_v2.rule",
    # Compound v3's liquidity per curve (its records stay Python: copied between processes)
    "scanner.protocols.compound_v3.compiled",
    "scanner.protocols.compound_v3.curve",
    "scanner.pipeline.crossing",
    "scanner.pipeline.monotone",
    "scanner.pipeline.liquidation",
    # bins and bands over every position of a snapshot (~0.17 s per 24,000 in pure Python)
    "scanner.pipeline.histogram",
    "scanner.pipeline.band_points",
    "scanner.pipeline.walls",
    "scanner.pipeline.bands",
)
# mypyc's shared library of the group: the per-module extensions import it by this name.
GROUP_NAME = "liqscan_native"
# Bumped when the layout of a build directory or the build options change.
BUILD_FORMAT = 1
COMPLETE_MARKER = "COMPLETE"
# Every process that runs a build holds a shared lock on this file of it for its lifetime:
# its modules are imported as first needed (a daemon's rare path, hours later), so
# native_build must not remove a build a running process may still load from.
IN_USE_FILE = "IN_USE"
SWITCH_ENV = "LIQSCAN_NATIVE"
CACHE_ENV = "LIQSCAN_NATIVE_CACHE"
SCANNER_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class NativeStatus:
    in_use: bool
    reason: str  # why not, or where the build is
    directory: Path | None = None

    def describe(self) -> str:
        return f"yes ({self.reason})" if self.in_use else f"no ({self.reason})"


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else SCANNER_DIR.parent / ".cache" / "native"


def extension_suffix() -> str:
    return importlib.machinery.EXTENSION_SUFFIXES[0]


def source_path(module: str) -> Path:
    """The .py of one of NATIVE_MODULES (they all live under the scanner package)."""
    parts = module.split(".")[1:]
    return SCANNER_DIR.joinpath(*parts[:-1], parts[-1] + ".py")


def build_key() -> str:
    """Hash of everything a build depends on: the compiled sources and the interpreter ABI."""
    import hashlib  # only when a compiled module is first imported (start-up of other commands)

    digest = hashlib.sha256(f"{BUILD_FORMAT}|{sys.implementation.cache_tag}|"
                            f"{extension_suffix()}|{sys.version}".encode())
    for module in NATIVE_MODULES:
        digest.update(module.encode() + b"\0")
        digest.update(source_path(module).read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def build_dir(key: str) -> Path:
    return cache_root() / key


def extension_path(directory: Path, module: str) -> Path:
    parts = module.split(".")
    return directory.joinpath(*parts[:-1], parts[-1] + extension_suffix())


def shared_library_name() -> str:
    return f"{GROUP_NAME}__mypyc"


_decided: NativeStatus | None = None


def _load_shared(directory: Path) -> None:
    """Import the group's shared library under the name its module extensions ask for."""
    name = shared_library_name()
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, directory / (name + extension_suffix()))
    if spec is None or spec.loader is None:
        raise ImportError(f"no loader for {name}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module


def _decide() -> NativeStatus:
    if os.environ.get(SWITCH_ENV, "1") == "0":
        return NativeStatus(False, f"{SWITCH_ENV}=0")
    try:
        directory = build_dir(build_key())
    except OSError as exc:
        return NativeStatus(False, f"sources unreadable: {exc}")
    if not (directory / COMPLETE_MARKER).is_file() or not hold(directory):
        return NativeStatus(False, "no build for the current sources; run `make setup`")
    try:
        _load_shared(directory)
    except ImportError as exc:
        return NativeStatus(False, f"build does not load: {exc}")
    return NativeStatus(True, str(directory), directory)


_held: list[int] = []  # the IN_USE lock's descriptor, kept open while the process lives


def hold(directory: Path) -> bool:
    """Take the shared IN_USE lock of a build for this process's lifetime; False when the
    build went away meanwhile (native_build pruned it: the lock waits for that to finish)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no pruning guard, as before
        return True
    try:
        descriptor = os.open(directory / IN_USE_FILE, os.O_RDONLY)
    except OSError:  # gone, or a build from before the lock file (runs unguarded)
        return (directory / COMPLETE_MARKER).is_file()
    fcntl.flock(descriptor, fcntl.LOCK_SH)
    if not (directory / COMPLETE_MARKER).is_file():  # removed before we held it
        os.close(descriptor)
        return False
    _held.append(descriptor)
    return True


def decision() -> NativeStatus:
    """Whether the compiled group is used in this process (decided once)."""
    global _decided
    if _decided is None:
        _decided = _decide()
    return _decided


def status() -> NativeStatus:
    """Which math runs: compiled if any of NATIVE_MODULES was imported compiled, else what a
    first import would choose."""
    return decision()


class NativeFinder:
    """Points an import of one of NATIVE_MODULES at its compiled extension, when in use (a
    meta path finder: find_spec is all the import system asks; importlib.abc would add ~12 ms
    of imports to every command's start-up)."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _NATIVE_SET:
            return None
        chosen = decision()
        if chosen.directory is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname, extension_path(chosen.directory, fullname))


_NATIVE_SET = frozenset(NATIVE_MODULES)


def install() -> None:
    """Put the finder ahead of the path finder (idempotent)."""
    if not any(isinstance(finder, NativeFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, NativeFinder())

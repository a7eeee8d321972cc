"""Build the compiled math (scanner/native.py) with mypyc: `python -m scanner.native_build`.

Run by `make setup`. Idempotent: a build whose key (sources + interpreter ABI) exists is kept.
A failed build (no C compiler, no mypyc, a compile error) prints one line and exits 0: the
scanner then runs in pure Python with identical results. Writes go to a temporary directory
renamed into place only once the build loads in a fresh interpreter, so a half build is never
picked up.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scanner import native

# setuptools' own script, run in a child so its argv handling and output stay out of ours.
_SETUP_SCRIPT = """
import sys
from setuptools import setup
from mypyc.build import mypycify
target, paths = sys.argv[1], sys.argv[2:]
sys.argv[1:] = []
setup(name="liqscan-native", script_args=["build_ext", "--build-lib", target + "/lib",
                                           "--build-temp", target + "/obj"],
      ext_modules=mypycify(paths, opt_level="3", group_name={group!r},
                           target_dir=target + "/c"))
"""
# Asked of the built tree in a fresh interpreter before it is kept.
_CHECK_SCRIPT = """
import sys
from scanner import native
import scanner.pipeline.liquidation as liquidation
chosen = native.status()
sys.exit(0 if chosen.in_use and liquidation.__file__.endswith({suffix!r}) else 1)
"""


def _compile(work: Path, log: Path) -> bool:
    paths = [str(native.source_path(m).relative_to(native.SCANNER_DIR.parent))
             for m in native.NATIVE_MODULES]
    script = _SETUP_SCRIPT.format(group=native.GROUP_NAME)
    with log.open("w") as out:
        done = subprocess.run([sys.executable, "-c", script, str(work), *paths],
                              cwd=native.SCANNER_DIR.parent, stdout=out, stderr=out)
    return done.returncode == 0


def _loads(cache: Path) -> bool:
    env = dict(os.environ, **{native.CACHE_ENV: str(cache), native.SWITCH_ENV: "1"})
    script = _CHECK_SCRIPT.format(suffix=native.extension_suffix())
    done = subprocess.run([sys.executable, "-c", script], cwd=native.SCANNER_DIR.parent,
                          env=env, capture_output=True)
    return done.returncode == 0


def _last_error(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["no output"])[-1].strip()[:160]


def _prune(root: Path, keep: str) -> None:
    """Builds of other sources than `keep`'s: removed, as this checkout never loads them.
    Only liqscan's own builds -- a key's name, holding the marker that names it: the root
    may be a directory the user chose (LIQSCAN_NATIVE_CACHE) with other things in it, and
    everything else there stays. A build a running process holds (native.hold) stays too:
    that process still imports from it; the next build after it stops removes it."""
    for entry in root.iterdir():
        if entry.name != keep and is_build(entry):
            _remove_unless_held(entry)


def _held(entry: Path) -> bool:
    """Does a running process hold this build (native.hold)? A look, not a claim."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        descriptor = os.open(entry / native.IN_USE_FILE, os.O_RDONLY)
    except OSError:  # no lock file: a build from before it, which nothing holds
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # releases the lock if it was taken
    return False


def _remove_unless_held(entry: Path) -> bool:
    """Remove a build unless a running process holds it; True when removed."""
    try:
        import fcntl
    except ImportError:  # not POSIX: nothing holds a build
        shutil.rmtree(entry, ignore_errors=True)
        return True
    descriptor = os.open(entry / native.IN_USE_FILE, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        # the marker first: a process waiting for the lock then finds no build (native.hold)
        (entry / native.COMPLETE_MARKER).unlink(missing_ok=True)
        shutil.rmtree(entry, ignore_errors=True)
        return True
    finally:
        os.close(descriptor)


def is_build(entry: Path) -> bool:
    """A finished build directory of native_build: a 24-hex-digit key as its name, not a
    link, with the COMPLETE marker whose text is that key."""
    if entry.is_symlink() or not entry.is_dir() or not _KEY_NAME.fullmatch(entry.name):
        return False
    marker = entry / native.COMPLETE_MARKER
    try:
        return marker.is_file() and marker.read_text().strip() == entry.name
    except OSError:
        return False


_KEY_NAME = re.compile(r"[0-9a-f]{24}")  # native.build_key()'s form


def build(force: bool = False) -> int:
    key = native.build_key()
    final = native.build_dir(key)
    if (final / native.COMPLETE_MARKER).is_file() and not force:
        print(f"native math: up to date ({final})")
        return 0
    if force and final.exists() and _held(final):  # said now, not after a minute's compile
        print(f"native math: {final} is in use by a running process; stop it to rebuild")
        return 0
    root = native.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=root, prefix="building-") as scratch:
        work = Path(scratch)
        log = work / "build.log"
        if not _compile(work, log):
            shutil.copyfile(log, root / "last-build.log")
            print(f"native math: build failed, pure Python is used ({_last_error(log)}; "
                  f"full log: {root / 'last-build.log'})")
            return 0
        staged = work / "staged" / key
        shutil.copytree(work / "lib", staged)
        (staged / native.IN_USE_FILE).touch()
        (staged / native.COMPLETE_MARKER).write_text(f"{key}\n")
        if not _loads(work / "staged"):
            print("native math: the build does not load, pure Python is used")
            return 0
        _prune(root, key)
        # a forced rebuild: the same key's old build gives way, unless a process runs it
        if final.exists() and not _remove_unless_held(final):
            print(f"native math: {final} is in use by a running process; stop it to rebuild")
            return 0
        staged.rename(final)
    print(f"native math: built in {time.perf_counter() - start:.0f} s ({final})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    return build(force=parser.parse_args().force)


if __name__ == "__main__":
    sys.exit(main())

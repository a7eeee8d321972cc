"""Write a file so that readers see the old file or the whole new one, and a crash (even
SIGKILL) leaves no half file and, on Linux, no temp file behind.

On Linux the data goes to an anonymous file (O_TMPFILE) in the destination directory: it has
no name until it is complete and fsynced, so a killed process leaves nothing; it is then
linked in place (one atomic step when `out` is new; when `out` exists, linked under a temp
name and renamed over it, a window of two system calls). Elsewhere (or on a filesystem
without O_TMPFILE) a named temp file is written and renamed; a kill there can leave it.
New files get mode 0666 minus the umask, like any file the user's shell would create.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

_NEW_FILE_MODE = 0o666


def write_atomically(out: Path, write: Callable[[Path], int]) -> int:
    """Call `write(path)` to fill a file that then replaces `out`; returns what it returns."""
    fd = _anonymous_file(out.parent)
    if fd is None:
        return _with_named_temp(out, write)
    try:
        count = write(Path(f"/proc/self/fd/{fd}"))
        os.fsync(fd)  # the link must not publish unflushed data
        _link_in_place(fd, out)
        return count
    finally:
        os.close(fd)


def _anonymous_file(folder: Path) -> int | None:
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not Path("/proc/self/fd").is_dir():
        return None
    try:
        return os.open(folder, flag | os.O_RDWR, _NEW_FILE_MODE)
    except OSError:  # EOPNOTSUPP, EISDIR on old kernels, ...: fall back to a named temp file
        return None


def _link(fd: int, target: Path) -> None:
    """linkat(AT_SYMLINK_FOLLOW) of the anonymous file; a dir fd makes Python call linkat
    (plain link() would link the /proc symlink itself and fail with EXDEV)."""
    folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(f"/proc/self/fd/{fd}", target.name, src_dir_fd=folder, dst_dir_fd=folder,
                follow_symlinks=True)
    finally:
        os.close(folder)


def _link_in_place(fd: int, out: Path) -> None:
    try:
        _link(fd, out)
        return
    except FileExistsError:
        pass
    temp = out.parent / f".{out.name}.{secrets.token_hex(6)}.tmp"
    _link(fd, temp)
    try:
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _with_named_temp(out: Path, write: Callable[[Path], int]) -> int:
    fd, temp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    temp = Path(temp_name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, _NEW_FILE_MODE & ~umask)
        count = write(temp)
        with temp.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(temp, out)
        return count
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

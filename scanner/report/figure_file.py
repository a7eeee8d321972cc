"""Write a matplotlib figure to the file a user named: whole or not at all, and a path that
cannot be written (a directory, a read-only folder) is a one-line OutputError (exit 73),
never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.errors import OutputError
from scanner.store.atomic import write_atomically


def require_file_target(out: Path, suffix: str) -> None:
    """Before drawing: `out` must not be a directory."""
    if out.is_dir():
        raise OutputError(f"--out {out} is a directory: give a file name, "
                          f"e.g. {out / ('chart.' + suffix)}")


def save_figure(fig: Any, out: Path, suffix: str) -> None:
    """`fig.savefig` into `out` (format `suffix`), creating its missing parent folders."""
    require_file_target(out, suffix)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(out, lambda path: _save(fig, path, suffix))
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}: choose another --out"
                          ) from exc


def _save(fig: Any, path: Path, suffix: str) -> int:
    fig.savefig(path, format=suffix)
    return 0

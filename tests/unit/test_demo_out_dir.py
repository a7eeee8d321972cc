"""`liqscan demo --out DIR` deletes nothing it did not write."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.demo import MARKER, prepare_out_dir
from scanner.errors import OutputError


def test_new_and_empty_directories_are_used(tmp_path: Path) -> None:
    prepare_out_dir(tmp_path / "new" / "demo")
    assert (tmp_path / "new" / "demo" / MARKER).is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_out_dir(empty)
    assert [p.name for p in empty.iterdir()] == [MARKER]


def test_a_directory_with_other_files_is_refused_untouched(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "liqscan.db").write_text("my own database")
    with pytest.raises(OutputError, match="is not empty and is not a previous demo output"):
        prepare_out_dir(tmp_path)
    assert (tmp_path / "liqscan.db").read_text() == "my own database"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["liqscan.db", "notes.txt"]


def test_a_previous_demo_output_loses_only_the_demo_files(tmp_path: Path) -> None:
    prepare_out_dir(tmp_path)
    for name in ("config.toml", "liqscan.db", "histogram-ETH.png"):
        (tmp_path / name).write_text("from the last demo")
    (tmp_path / "analysis.ipynb").write_text("the user's work")
    prepare_out_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER, "analysis.ipynb"]


def test_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        prepare_out_dir(target)
    assert target.read_text() == "x"

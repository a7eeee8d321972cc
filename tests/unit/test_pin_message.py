"""The pinned-block error names two hashes the reader can tell apart."""

from __future__ import annotations

from scanner.chain.pin import SHORT_HASH_CHARS, distinct_abbreviations

BEFORE = "0x9e2d55b0" + "1" * 56
AFTER_TAIL = "0x9e2d55b0" + "1" * 40 + "2" * 16  # the fault proxy's reorg: a changed tail


def test_hashes_that_differ_early_are_cut_short() -> None:
    before, after = distinct_abbreviations(BEFORE, "0xab" + "1" * 64)
    assert (before, after) == (BEFORE[:SHORT_HASH_CHARS] + "...", "0xab111111...")


def test_hashes_sharing_a_long_prefix_still_differ() -> None:
    # was "0x9e2d55b0... -> 0x9e2d55b0...": the same text for two different blocks
    before, after = distinct_abbreviations(BEFORE, AFTER_TAIL)
    assert before != after
    assert before == BEFORE[:54] + "..." and after == AFTER_TAIL[:54] + "..."


def test_a_missing_block_reads_none() -> None:
    assert distinct_abbreviations(BEFORE, "none") == (BEFORE[:SHORT_HASH_CHARS] + "...", "none")

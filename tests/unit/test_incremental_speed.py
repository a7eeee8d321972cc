"""The incremental path's speed-ups keep its answers: a parsed base is the parse of its text,
whether parsed now or carried over from the last block (the paused collector:
test_collector.py)."""

from __future__ import annotations

import json

from scanner.protocols.aave_v3.derive import _parse, _Parsed

WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
BASE = json.dumps({"e": 1, "r": [[WETH, 1, 10**18 + 7, 0], [USDC, 0, 0, 5 * 10**9]]},
                  separators=(",", ":"))


def test_parse_gives_typed_rows_in_base_order() -> None:
    assert _parse(BASE) == (1, ((WETH, True, 10**18 + 7, 0), (USDC, False, 0, 5 * 10**9)))


def test_parsed_carries_a_known_text_over_and_parses_a_new_one() -> None:
    known = (0, ((WETH, True, 1, 2),))  # deliberately not the parse of any text used below
    parsed = _Parsed({"known": known}, {})
    assert parsed.get("known") is known  # carried over: not parsed again
    assert parsed.get(BASE) == _parse(BASE)  # a new text: parsed
    assert parsed.now == {"known": known, BASE: _parse(BASE)}  # the next block's `before`

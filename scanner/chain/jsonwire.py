"""JSON on the wire of the JSON-RPC client.

Bodies out: orjson. A 10k-position snapshot posts ~33 MB of JSON (mostly calldata hex); the
stdlib encoder spent ~0.15 s of CPU on it, orjson a tenth of that. orjson refuses a few
things the stdlib encodes (integers beyond 64 bits): those bodies go to the stdlib.

Answers in: the stdlib. It parses these answers (long hex strings) nearly as fast as orjson,
and orjson would read a JSON integer beyond 64 bits as a float -- a wrong number, silently.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """`value` as UTF-8 JSON bytes."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: e.g. an int beyond 64 bits
        return json.dumps(value).encode()


def loads(raw: bytes) -> Any:
    """Parse a JSON answer (UTF-8, -16 or -32); ValueError when it is none."""
    return json.loads(raw)

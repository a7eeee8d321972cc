"""Column types that keep chain integers exact in SQL.

SQLite has no integer wider than 64 bits and stores `NUMERIC(78,0)` as REAL, which silently
drops digits of values like 10**30 or 2**256-1 (the health factor of an account with no debt).
`Uint256` stores the value as a zero-padded 78-digit decimal string instead: exact on every
backend, and because every value has the same width, string order equals numeric order, so
`ORDER BY`, `<`, `>=` and indexes work on the raw column. Views CAST it for humans.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

UINT256_MAX = 2**256 - 1
UINT256_DIGITS = 78  # len(str(2**256 - 1))


def encode_uint256(value: int) -> str:
    """The stored form of `value`: 78 zero-padded decimal digits."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"uint256 column expects an int, got {type(value).__name__}")
    if not 0 <= value <= UINT256_MAX:
        raise ValueError(f"value {value} does not fit in a uint256 column")
    return f"{value:0{UINT256_DIGITS}d}"


def decode_uint256(stored: str) -> int:
    return int(stored)


class Uint256(TypeDecorator[int]):
    """An unsigned 256-bit integer stored as a fixed-width decimal string (see module doc)."""

    impl = String(UINT256_DIGITS)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else encode_uint256(value)

    def process_literal_param(self, value: int | None, dialect: Dialect) -> str:
        return "NULL" if value is None else f"'{encode_uint256(value)}'"

    def process_result_value(self, value: Any | None, dialect: Dialect) -> int | None:
        return None if value is None else decode_uint256(str(value))

    @property
    def python_type(self) -> type[int]:
        return int

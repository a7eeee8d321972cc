"""Uint256 column encoding (pure; the database round-trips are in test_store_repository)."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from scanner.store.types import UINT256_MAX, Uint256, decode_uint256, encode_uint256


@pytest.mark.parametrize("value", [0, 1, 10**18, 10**30, UINT256_MAX], ids=str)
def test_encoding_round_trips_with_fixed_width(value: int) -> None:
    stored = encode_uint256(value)
    assert len(stored) == 78
    assert decode_uint256(stored) == value


def test_fixed_width_strings_sort_like_numbers() -> None:
    values = [UINT256_MAX, 0, 9, 10, 10**30, 99, 100]
    assert sorted(values, key=encode_uint256) == sorted(values)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        pytest.param(-1, ValueError, id="negative"),
        pytest.param(2**256, ValueError, id="too-large"),
        pytest.param(1.5, TypeError, id="float"),
        pytest.param(True, TypeError, id="bool"),
        pytest.param("12", TypeError, id="string"),
    ],
)
def test_values_a_uint256_cannot_hold_are_refused(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        encode_uint256(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"]  # type: ignore[no-untyped-call]
)
def test_column_type_is_a_78_char_string(dialect: Dialect) -> None:
    column_type = Uint256()
    assert column_type.dialect_impl(dialect).impl.length == 78  # type: ignore[attr-defined]
    assert column_type.process_bind_param(None, dialect) is None
    assert column_type.process_result_value("0" * 77 + "7", dialect) == 7

"""Bulk inserts below SQLAlchemy's per-row parameter processing: a 100,000-position snapshot
spent most of its write in SQLAlchemy building and converting 2.2M bound values one by one.

    insert_columns(conn, POSITIONS, rows.position_columns(scan_id, positions))
    insert_rows(conn, ACCOUNTS, [{"market_key": ..., ...}, ...])   # the same, row by row

SQLite: one raw `executemany` of a multi-row `INSERT ... VALUES (...), (...)` on the sqlite3
connection (driver errors re-raised as SQLAlchemy's IntegrityError and friends, as
`exec_driver_sql` raises them); PostgreSQL with psycopg 3: `COPY ... FROM STDIN`.
Both run on the caller's connection inside its transaction, so a snapshot stays whole or
absent. Values are converted exactly as the column types do (Uint256: the 78-digit string);
a table with a column type or a Python-side default this module does not know goes through
SQLAlchemy's own executemany instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, Integer, String, Table, insert
from sqlalchemy.exc import DBAPIError

from scanner.store.types import UINT256_DIGITS, UINT256_MAX, Uint256, encode_uint256

Encoder = Callable[[Sequence[Any]], list[Any]] | None  # a whole column at a time
_PLAIN = (String, Integer, BigInteger, Boolean)  # the drivers take the Python value as it is


def insert_rows(conn: Connection, table: Table, values: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row of `values` (dicts with the same keys) into `table`."""
    if values:
        insert_columns(conn, table, {n: [row[n] for row in values] for n in values[0]})


def insert_columns(conn: Connection, table: Table, columns: Mapping[str, Sequence[Any]]
                   ) -> None:
    """INSERT the rows given column by column (`columns`: name -> one value per row, every
    list as long) into `table`: no dict per row to build and take apart again."""
    count = len(next(iter(columns.values()), ()))
    if count == 0:
        return
    dialect = conn.dialect
    names = list(columns)
    encoders = _encoders(table, names)
    if encoders is None or dialect.name not in ("sqlite", "postgresql") or (
            dialect.name == "postgresql" and dialect.driver != "psycopg"):
        conn.execute(insert(table), [dict(zip(columns, row, strict=True))
                                     for row in zip(*columns.values(), strict=True)])
        return
    # column by column: one pass per column instead of a Python call per value
    stored = [columns[n] if e is None else e(columns[n])
              for n, e in zip(names, encoders, strict=True)]
    if dialect.name == "sqlite":
        _sqlite_insert(conn, table, names, stored)
    else:
        _copy(conn, table.name, names, list(zip(*stored, strict=True)))


# Rows per SQLite INSERT statement: ~40 x 23 position columns stays under 999 bound values,
# the smallest limit any SQLite build has (SQLITE_MAX_VARIABLE_NUMBER before 3.32).
SQLITE_MAX_VALUES = 999


def _sqlite_insert(conn: Connection, table: Table, names: Sequence[str],
                   stored: Sequence[Sequence[Any]]) -> None:
    """INSERT the rows of the `stored` columns a batch of rows per statement: SQLite's fixed
    cost per statement execution (reset, bind, program start) was ~10% of writing 200,000
    position rows one statement each. Rows keep their order, so their ids are the same.

    A statement's values are its rows' columns one after another (numbered `?N` marks place
    them in their rows): slices of whole columns, no tuple per row to build and flatten."""
    per_statement = max(1, SQLITE_MAX_VALUES // len(names))
    count = len(stored[0])
    if any(len(column) != count for column in stored):
        raise ValueError(f"columns of {table.name} differ in length: nothing was written")
    batched = count - count % per_statement
    if batched:
        _executemany(conn, _sqlite_statement(conn, table, names, per_statement),
                     [_batch(stored, start, start + per_statement)
                      for start in range(0, batched, per_statement)])
    if count > batched:
        _executemany(conn, _sqlite_statement(conn, table, names, count - batched),
                     [_batch(stored, batched, count)])


def _batch(stored: Sequence[Sequence[Any]], start: int, stop: int) -> list[Any]:
    values: list[Any] = []
    for column in stored:
        values += column[start:stop]
    return values


def _executemany(conn: Connection, statement: str, batches: list[list[Any]]) -> None:
    """`executemany` on the connection's sqlite3 connection (the caller's open transaction),
    its errors raised as SQLAlchemy's (IntegrityError and friends), as `exec_driver_sql`
    would. Not `exec_driver_sql` itself: it takes only tuples, and copying each statement's
    ~1,000 values into one was a third of building them for a 200,000-row snapshot."""
    import sqlite3

    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, batches)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error,
                                  dialect=conn.dialect) from exc
    finally:
        cursor.close()


def _sqlite_statement(conn: Connection, table: Table, names: Sequence[str], rows: int) -> str:
    """`INSERT ... VALUES` of `rows` rows whose values come column after column: value j of
    row i is mark ?(j * rows + i + 1)."""
    quote = conn.dialect.identifier_preparer
    marks = ", ".join("(" + ", ".join(f"?{j * rows + i + 1}" for j in range(len(names))) + ")"
                      for i in range(rows))
    return (f"INSERT INTO {quote.format_table(table)} "
            f"({', '.join(quote.quote(n) for n in names)}) VALUES {marks}")


def _encoders(table: Table, names: Sequence[str]) -> list[Encoder] | None:
    """Per column: how its type stores a value (None: as it is); None when one is unknown."""
    if any(c.default is not None and c.name not in names for c in table.columns):
        return None
    found: list[Encoder] = []
    for name in names:
        kind = table.c[name].type
        if isinstance(kind, Uint256):
            found.append(_uint256_column)
        elif isinstance(kind, _PLAIN):
            found.append(None)
        else:
            return None
    return found


def _uint256_column(values: Sequence[Any]) -> list[str | None]:
    """The column's stored strings. When every value is an int in range (checked once for the
    column), `str().zfill()` pads it: twice as fast as formatting each with a width, and
    mapped in C when the column has no NULL."""
    kinds = set(map(type, values))
    if kinds <= {int, type(None)}:
        present = [v for v in values if v is not None] if type(None) in kinds else values
        if not present or (min(present) >= 0 and max(present) <= UINT256_MAX):
            if len(present) == len(values):
                return list(map(str.zfill, map(str, values), repeat(UINT256_DIGITS)))
            return [None if v is None else str(v).zfill(UINT256_DIGITS) for v in values]
    return [_uint256(v) for v in values]


def _uint256(value: Any) -> str | None:
    if value is None:  # NULL stays NULL, as in the column type
        return None
    if type(value) is int and 0 <= value <= UINT256_MAX:
        return f"{value:0{UINT256_DIGITS}d}"
    return encode_uint256(value)  # raises the column type's own error


def _copy(conn: Connection, table: str, names: Sequence[str],
          tuples: Sequence[tuple[Any, ...]]) -> None:
    """COPY on the connection's psycopg connection (the caller's open transaction)."""
    import psycopg  # only with PostgreSQL
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(n) for n in names))
    driver = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in tuples:
                copy.write_row(row)
    except psycopg.Error as exc:  # the same exception classes as every other statement
        raise DBAPIError.instance(statement.as_string(driver), None, exc, psycopg.Error,
                                  dialect=conn.dialect) from exc

"""The bulk write path (scanner/store/bulk.py: raw executemany on SQLite, COPY on PostgreSQL)
stores exactly what SQLAlchemy's own executemany stores, and a failing bulk write leaves the
snapshot absent, on both backends."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, select

from scanner.domain import PositionResult
from scanner.errors import InconsistentDataError
from scanner.store import rows
from scanner.store.bulk import SQLITE_MAX_VALUES, insert_rows
from scanner.store.models import PositionRow
from scanner.store.repository import Repository
from scanner.store.types import UINT256_MAX
from tests.conftest import make_sample_scan

POSITIONS = cast(Table, PositionRow.__table__)


def _ill_typed(p: PositionResult, **changes: Any) -> PositionResult:
    """`p` with values its field types refuse, as an untyped caller could hand them to the
    store (compiled, scanner/native.py, PositionResult itself refuses them: a stand-in)."""
    return cast(PositionResult, SimpleNamespace(**{**dataclasses.asdict(p), **changes}))


def _edge_positions(n: int) -> list[PositionResult]:
    """Every optional field set and unset, uint256 extremes, unicode in a text column."""
    base = make_sample_scan(n_positions=8).positions
    out = []
    for i in range(n):
        p = base[i % len(base)]
        out.append(dataclasses.replace(
            p, account="0x" + f"{i:040x}", health_factor_wad=UINT256_MAX if i % 3 == 0 else i,
            liquidation_price_8dec=None if i % 4 == 0 else 10**30 + i,
            liquidatable_next=(None, True, False)[i % 3], vault_id=None if i % 2 else 2**40 + i,
            owner=None if i % 2 else "0x" + f"{i + 7:040X}", seizable_usd_8dec=0,
            native_price_unit="wstETH/ETH é" if i % 5 == 0 else p.native_price_unit))
    return out


def _stored(repo: Repository, scan_id: int) -> list[dict[str, Any]]:
    query = select(POSITIONS).where(POSITIONS.c.scan_id == scan_id).order_by(
        POSITIONS.c.axis, POSITIONS.c.account)
    with repo.engine.connect() as conn:
        return [{k: v for k, v in r.items() if k not in ("id", "scan_id")}
                for r in conn.execute(query).mappings()]


def _scan_id(repo: Repository, snapshot_id: int) -> int:
    with repo.engine.connect() as conn:
        return int(conn.exec_driver_sql(
            f"SELECT id FROM scans WHERE snapshot_id = {int(snapshot_id)}").scalar_one())


def test_bulk_rows_read_back_as_sqlalchemys(repo: Repository) -> None:
    sample = make_sample_scan(n_positions=8)
    positions = _edge_positions(300)
    bulk_snapshot = repo.save_scan(sample.record, positions, sample.bins, sample.bands,
                                   sample.discovered, None)
    plain_snapshot = repo.save_scan(dataclasses.replace(sample.record, block=101), (), (), (),
                                    {}, None)
    bulk_scan, plain_scan = _scan_id(repo, bulk_snapshot), _scan_id(repo, plain_snapshot)
    with repo.engine.begin() as conn:  # the path before bulk.py: SQLAlchemy's executemany
        conn.execute(insert(POSITIONS), [rows.position_row(plain_scan, p) for p in positions])
    bulk, plain = _stored(repo, bulk_scan), _stored(repo, plain_scan)
    assert len(bulk) == len(positions)
    assert bulk == plain
    by_account = {p.account: p for p in positions}
    for row in bulk:  # and equal to what was given, value by value
        given = rows.position_row(bulk_scan, by_account[row["account"]])
        assert {k: v for k, v in given.items() if k != "scan_id"} == row


def test_bulk_insert_without_rows_or_with_a_bad_value(repo: Repository) -> None:
    with repo.engine.begin() as conn:
        insert_rows(conn, POSITIONS, [])  # nothing to do
    sample = make_sample_scan(n_positions=2)
    snapshot = repo.save_scan(sample.record, (), (), (), {}, None)
    bad = dataclasses.replace(_edge_positions(1)[0], collateral_usd_8dec=UINT256_MAX + 1)
    with pytest.raises(ValueError, match="does not fit in a uint256 column"), \
            repo.engine.begin() as conn:
        insert_rows(conn, POSITIONS, [rows.position_row(_scan_id(repo, snapshot), bad)])


def test_failing_bulk_write_leaves_no_snapshot(repo: Repository) -> None:
    """Two rows with the same (axis, submarket, account) break the unique key inside the bulk
    insert: the driver's error arrives as SQLAlchemy's, and nothing of the snapshot remains."""
    sample = make_sample_scan(n_positions=8)
    positions = _edge_positions(50)
    duplicated = [*positions, positions[7]]
    with pytest.raises(InconsistentDataError, match="nothing was written"):
        repo.save_scan(sample.record, duplicated, sample.bins, sample.bands, sample.discovered,
                       None)
    with repo.engine.connect() as conn:
        for table in ("snapshots", "scans", "positions", "histogram_bins", "bands"):
            assert conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one() == 0
    snapshot = repo.save_scan(sample.record, positions, sample.bins, sample.bands,
                              sample.discovered, None)  # and the whole one goes in after it
    assert len(_stored(repo, _scan_id(repo, snapshot))) == len(positions)


def test_position_columns_are_position_rows_column_by_column() -> None:
    """The bulk insert's column-wise input (no dict per row) holds what `position_row` does."""
    positions = _edge_positions(40)
    columns = rows.position_columns(7, positions)
    expected = [rows.position_row(7, p) for p in positions]
    assert list(columns) == list(expected[0])  # the same columns, in the same order
    assert [dict(zip(columns, values, strict=True))
            for values in zip(*columns.values(), strict=True)] == expected
    assert rows.position_columns(7, []) == {name: [] for name in expected[0]}


@pytest.mark.parametrize("bad", [-1, True, 1.5])
def test_uint256_column_refuses_what_the_column_type_refuses(repo: Repository, bad: Any) -> None:
    """A value the column type would refuse still raises from the fast column encoder."""
    sample = make_sample_scan(n_positions=2)
    snapshot = repo.save_scan(sample.record, (), (), (), {}, None)
    bad_position = _ill_typed(_edge_positions(1)[0], debt_usd_8dec=bad)
    with pytest.raises((ValueError, TypeError)), repo.engine.begin() as conn:
        insert_rows(conn, POSITIONS, [rows.position_row(_scan_id(repo, snapshot), bad_position)])


def test_position_columns_convert_other_status_values_as_str_did() -> None:
    """Status and direction are looked up per enum member in C; any other value (a plain
    string, something unhashable) still becomes `str()` of it, so the rows stay what
    `position_row` gives and the database's CHECK decides, as before."""
    positions = _edge_positions(6)
    odd = [_ill_typed(positions[0], status="at_risk", direction="up"),
           _ill_typed(positions[1], status=["x"]),
           _ill_typed(positions[2], status="bogus", direction="sideways"),
           *positions[3:]]
    for sample in (odd, odd[:1], positions):
        columns = rows.position_columns(3, sample)
        assert columns["status"] == [rows.position_row(3, p)["status"] for p in sample]
        assert columns["direction"] == [rows.position_row(3, p)["direction"] for p in sample]
    columns = rows.position_columns(3, odd)
    assert columns["status"][1:3] == ["['x']", "bogus"]
    assert columns["direction"][2] == "sideways"


def _rows_per_statement() -> int:
    return SQLITE_MAX_VALUES // (len(POSITIONS.columns) - 1)  # every column but the id


@pytest.mark.parametrize("extra", [-_rows_per_statement() + 1, -1, 0, 1, _rows_per_statement()])
def test_bulk_rows_keep_their_order_however_they_are_batched(repo: Repository, extra: int
                                                              ) -> None:
    """SQLite gets several rows per INSERT: whatever the count (less than one statement's
    worth, a whole number of statements, one left over), every row is stored once, and ids
    follow the given order (here not the unique key's order), as one INSERT per row gave."""
    count = 2 * _rows_per_statement() + extra
    sample = make_sample_scan(n_positions=2)
    positions = _edge_positions(count)[::-1]
    snapshot = repo.save_scan(sample.record, positions, (), (), {}, None)
    query = select(POSITIONS.c.account).where(
        POSITIONS.c.scan_id == _scan_id(repo, snapshot)).order_by(POSITIONS.c.id)
    with repo.engine.connect() as conn:
        assert list(conn.execute(query).scalars()) == [p.account for p in positions]
    assert len(_stored(repo, _scan_id(repo, snapshot))) == count


def test_position_columns_read_a_subclass_field_through_its_property() -> None:
    """Plain PositionResults are read from their instance dicts; a subclass (which may
    compute a field) is read by getattr, so its rows are still what `position_row` gives."""

    class Shown(PositionResult):
        def __getattribute__(self, name: str) -> Any:
            return "0x" + "ab" * 20 if name == "owner" else super().__getattribute__(name)

    positions = _edge_positions(4)
    shown = [Shown(**{f.name: getattr(p, f.name) for f in dataclasses.fields(p)})
             for p in positions]
    for sample in (positions, [positions[0], *shown[1:]]):
        columns = rows.position_columns(5, sample)
        assert columns["owner"] == [rows.position_row(5, p)["owner"] for p in sample]
    assert rows.position_columns(5, shown[1:])["owner"] == ["0x" + "ab" * 20] * 3

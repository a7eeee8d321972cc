"""Exports: CSV, JSON and Parquet read back exactly; a failed export leaves no file behind."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from scanner.errors import OutputError, UsageError
from scanner.store.export import (
    export_bands,
    export_bins,
    export_positions,
    format_units,
    write_records,
)
from scanner.store.repository import Repository
from tests.conftest import SampleScan


@pytest.fixture
def saved(repo: Repository, sample_scan: SampleScan) -> int:
    s = sample_scan
    return repo.save_scan(s.record, s.positions, s.bins, s.bands, s.discovered, s.record.block)


@pytest.mark.parametrize(
    ("value_raw", "decimals", "expected"),
    [
        pytest.param(1_781_09234567, 8, "1781.09234567", id="price"),
        pytest.param(5, 8, "0.00000005", id="tiny"),
        pytest.param(-150, 2, "-1.50", id="negative"),
        pytest.param(
            2**256 - 1,
            18,
            "115792089237316195423570985008687907853269984665640564039457.584007913129639935",
            id="uint256-max-wad",
        ),
        pytest.param(None, 8, None, id="none"),
    ],
)
def test_format_units_is_exact(value_raw: int | None, decimals: int, expected: str | None) -> None:
    assert format_units(value_raw, decimals) == expected


def test_positions_json(
    repo: Repository, saved: int, sample_scan: SampleScan, tmp_path: Path
) -> None:
    out = tmp_path / "positions.json"
    assert export_positions(repo, saved, "json", out) == 4
    rows = json.loads(out.read_text())
    first, hedged = rows[0], rows[3]
    assert first["market"] == "devnet-aave-v3" and first["block"] == 100
    assert (first["protocol"], first["axis"], first["status"], first["direction"]) == (
        "aave-v3", "ETH", "at_risk", "down",
    )  # fmt: skip
    assert first["liquidation_price_usd"] == "1781.09234667"
    assert first["liquidation_price_8dec"] == 1_781_09234667
    assert first["health_factor"] == "1.000000000000000000"
    assert (first["collateral_usd"], first["debt_usd"]) == ("1000.00000000", "500.00000000")
    assert hedged["health_factor_wad"] == 2**256 - 1  # json keeps big ints exact
    assert hedged["liquidation_price_usd"] is None and hedged["direction"] is None
    assert hedged["collateral_usd"] == f"{10**22}.00000000"


def test_bands_and_bins_json(repo: Repository, saved: int, tmp_path: Path) -> None:
    export_bands(repo, saved, "json", tmp_path / "bands.json")
    down = json.loads((tmp_path / "bands.json").read_text())[0]
    assert (down["axis"], down["direction"], down["rank"], down["positions"]) == (
        "ETH",
        "down",
        1,
        2,
    )
    assert (down["low_usd"], down["high_usd"]) == ("1781.09234567", "1800.00000000")
    assert down["collateral_usd"] == f"{10**22}.00000000"
    assert down["debt_usd"] == f"{2**200 // 10**8}.{2**200 % 10**8:08d}"
    assert down["top_accounts"] == ["0x" + f"{1:040x}", "0x" + f"{2:040x}"]
    assert down["distance_low_bps"] == -1_234
    export_bins(repo, saved, "json", tmp_path / "bins.json")
    bins = json.loads((tmp_path / "bins.json").read_text())
    assert [b["bin_index"] for b in bins] == [0, 1, 2]
    assert bins[2]["cumulative_collateral_usd_8dec"] == 3 * 10**30


def test_positions_csv(repo: Repository, saved: int, tmp_path: Path) -> None:
    out = tmp_path / "positions.csv"
    export_positions(repo, saved, "csv", out)
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    assert rows[0]["liquidation_price_usd"] == "1781.09234667"
    assert int(rows[3]["health_factor_wad"]) == 2**256 - 1
    assert rows[3]["liquidation_price_usd"] == "" and rows[3]["direction"] == ""


def test_bands_csv_joins_accounts(repo: Repository, saved: int, tmp_path: Path) -> None:
    out = tmp_path / "bands.csv"
    export_bands(repo, saved, "csv", out)
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["top_accounts"] == "0x" + f"{1:040x}" + ";0x" + f"{2:040x}"
    assert rows[1]["top_accounts"] == ""


def test_parquet_is_exact(repo: Repository, saved: int, tmp_path: Path) -> None:
    export_positions(repo, saved, "parquet", tmp_path / "positions.parquet")
    table = pq.read_table(tmp_path / "positions.parquet")
    assert str(table.schema.field("liquidation_price_usd").type) == "decimal128(38, 8)"
    rows = table.to_pylist()
    assert rows[0]["liquidation_price_usd"] == Decimal("1781.09234667")
    assert rows[3]["collateral_usd"] == Decimal(10**22)
    assert int(rows[3]["health_factor_wad"]) == 2**256 - 1
    assert rows[3]["liquidation_price_usd"] is None
    export_bands(repo, saved, "parquet", tmp_path / "bands.parquet")
    bands = pq.read_table(tmp_path / "bands.parquet").to_pylist()
    assert str(bands[1]["debt_usd"]) == "1.00000000"  # 2**200 in the down band: string column
    assert bands[0]["debt_usd"] == f"{2**200 // 10**8}.{2**200 % 10**8:08d}"
    assert bands[0]["top_accounts"] == ["0x" + f"{1:040x}", "0x" + f"{2:040x}"]
    assert bands[0]["distance_low_bps"] == -1_234
    export_bins(repo, saved, "parquet", tmp_path / "bins.parquet")
    assert pq.read_table(tmp_path / "bins.parquet").num_rows == 3


def _leftovers(directory: Path, keep: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p != keep]


def test_parquet_amount_too_large_for_decimal128_stays_exact(
    repo: Repository, sample_scan: SampleScan, tmp_path: Path
) -> None:
    huge = dataclasses.replace(sample_scan.positions[0], collateral_usd_8dec=2**256 - 1)
    s = sample_scan
    scan_id = repo.save_scan(s.record, [huge], [], [], {}, s.record.block)
    out = tmp_path / "positions.parquet"
    export_positions(repo, scan_id, "parquet", out)
    table = pq.read_table(out)
    assert str(table.schema.field("collateral_usd").type) == "string"
    assert str(table.schema.field("debt_usd").type) == "decimal128(38, 8)"
    (row,) = table.to_pylist()
    assert row["collateral_usd"] == format_units(2**256 - 1, 8)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_failure_mid_write_leaves_no_file(fmt: Any, tmp_path: Path) -> None:
    def records() -> Iterator[dict[str, Any]]:
        yield {"account": "0x01", "collateral_usd": "1.00000000"}
        yield {"account": "0x02", "collateral_usd": "2.00000000"}
        raise RuntimeError("reader died")

    out = tmp_path / f"out.{fmt}"
    with pytest.raises(RuntimeError, match="reader died"):
        write_records(records(), fmt, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_unknown_format_and_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown export format 'xlsx'"):
        write_records([], "xlsx", tmp_path / "x.xlsx")  # type: ignore[arg-type]
    with pytest.raises(OutputError, match="does not exist"):
        write_records([], "json", tmp_path / "missing" / "x.json")
    write_records([], "json", tmp_path / "empty.json")
    assert json.loads((tmp_path / "empty.json").read_text()) == []


def test_breakdown_and_native_price_in_every_format(repo: Repository, tmp_path: Path) -> None:
    from scanner.domain import Share
    from tests.conftest import make_sample_scan

    s = make_sample_scan()
    shares = (Share("devnet-aave-v3", "aave-v3", 1, 10**30, 2**200, 7 * 10**8),
              Share("spark", "spark", 1, 10**8, 0, 0))
    bands = [dataclasses.replace(s.bands[0], shares=shares), s.bands[1]]
    native = dataclasses.replace(s.positions[0], submarket="0x" + "aa" * 20,
                                 liquidation_price_native=123_456_789,
                                 native_price_unit="USDC per wstETH", native_price_decimals=6)
    snapshot_id = repo.save_scan(s.record, [native], s.bins, bands, {}, s.record.block)

    export_bands(repo, snapshot_id, "json", tmp_path / "bands.json")
    down = json.loads((tmp_path / "bands.json").read_text())[0]
    assert [m["market"] for m in down["by_market"]] == ["devnet-aave-v3", "spark"]
    assert down["by_market"][1]["collateral_usd"] == "1.00000000"
    assert [p["protocol"] for p in down["by_protocol"]] == ["aave-v3", "spark"]
    assert down["by_protocol"][0]["debt_usd"] == format_units(2**200, 8)  # exact
    export_bands(repo, snapshot_id, "csv", tmp_path / "bands.csv")
    with (tmp_path / "bands.csv").open(newline="") as handle:
        row = next(csv.DictReader(handle))
    assert json.loads(row["by_market"]) == down["by_market"]
    export_bands(repo, snapshot_id, "parquet", tmp_path / "bands.parquet")
    parquet = pq.read_table(tmp_path / "bands.parquet").to_pylist()[0]
    assert json.loads(parquet["by_protocol"]) == down["by_protocol"]

    export_positions(repo, snapshot_id, "json", tmp_path / "positions.json")
    (position,) = json.loads((tmp_path / "positions.json").read_text())
    assert position["submarket"] == "0x" + "aa" * 20
    assert position["liquidation_price_native"] == "123.456789"
    assert position["liquidation_price_native_unit"] == "USDC per wstETH"
    assert position["liquidation_price_native_raw"] == 123_456_789
    export_positions(repo, snapshot_id, "parquet", tmp_path / "positions.parquet")
    (row_p,) = pq.read_table(tmp_path / "positions.parquet").to_pylist()
    assert row_p["liquidation_price_native_raw"] == "123456789"

"""Export a stored snapshot as CSV, JSON or Parquet, atomically.

`position_records` / `bin_records` / `band_records` build the row dicts that every output
shares (the CLI's `--json` prints the same dicts). Amounts appear twice: a readable exact
decimal string (`liquidation_price_usd` "1781.09234567", from the 8-decimal integer, no float
on the way) and the raw integer (`liquidation_price_8dec`). A position also carries its level
in its protocol oracle's own terms (`liquidation_price_native` + `_unit`, raw in `_raw`).
On a ratio axis (README "Ratio axes") the axis prices -- `liquidation_price_*`,
`axis_price_now_*`, `low_*`, `high_*` -- count `axis_unit` (the quote asset, e.g. WETH) with
8 decimals, not USD; every amount stays USD.
Bins and bands are sums over the snapshot's markets; `by_market` / `by_protocol` break them
down (JSON text in CSV and Parquet).

Files are written atomically (scanner/store/atomic.py): a reader sees the old file or the
complete new one, never half of one, and a killed export leaves no temp file (Linux). The file
gets the mode any new file gets under the process umask.

Parquet columns: `*_usd` are decimal128(38, 8) (exact; 30 integer digits, far beyond any real
amount; a column holding a larger value is written as exact decimal strings instead);
`health_factor` and the raw `*_8dec` / `*_wad` integers are decimal strings, since 2**256-1
(the health factor of an account without debt) fits no parquet decimal.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol, TextIO

from scanner.domain import Band, HistogramBin, PositionResult, Share, SnapshotRecord
from scanner.errors import OutputError, UsageError
from scanner.store.atomic import write_atomically

Format = Literal["csv", "json", "ndjson", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "json", "ndjson", "parquet")
Record = dict[str, Any]

USD_DECIMALS = 8
WAD_DECIMALS = 18
_PARQUET_USD_INT_DIGITS = 38 - USD_DECIMALS


def format_units(value_raw: int | None, decimals: int) -> str | None:
    """`value_raw / 10**decimals` as an exact decimal string with all `decimals` digits."""
    if value_raw is None:
        return None
    sign = "-" if value_raw < 0 else ""
    whole, fraction = divmod(abs(value_raw), 10**decimals)
    return f"{sign}{whole}.{fraction:0{decimals}d}"


def _usd(value_8dec: int | None) -> str | None:
    return format_units(value_8dec, USD_DECIMALS)


def _header(snapshot: SnapshotRecord) -> Record:
    return {"chain": snapshot.chain, "block": snapshot.block}


def _unit(units: Mapping[str, str] | None, axis: str) -> str:
    return (units or {}).get(axis, "USD")


def position_records(snapshot: SnapshotRecord, positions: Iterable[PositionResult],
                     units: Mapping[str, str] | None = None) -> list[Record]:
    """`units`: axis name -> its unit (config AxisConfig.unit); USD when absent."""
    return [
        {"market": p.market_key}
        | _header(snapshot)
        | {
            "protocol": p.protocol,
            "submarket": p.submarket,
            "account": p.account,
            "axis": p.axis,
            "axis_unit": _unit(units, p.axis),
            "status": str(p.status),
            "direction": None if p.direction is None else str(p.direction),
            "liquidation_price_usd": _usd(p.liquidation_price_8dec),
            "liquidation_price_native": format_units(p.liquidation_price_native,
                                                     p.native_price_decimals),
            "liquidation_price_native_unit": p.native_price_unit,
            "axis_price_now_usd": _usd(p.axis_price_now_8dec),
            "health_factor": format_units(p.health_factor_wad, WAD_DECIMALS),
            "collateral_usd": _usd(p.collateral_usd_8dec),
            "debt_usd": _usd(p.debt_usd_8dec),
            "axis_collateral_usd": _usd(p.axis_collateral_usd_8dec),
            "seizable_usd": _usd(p.seizable_usd_8dec),
            "emode_category": p.emode_category,
            "liquidatable_next": p.liquidatable_next,
            "owner": p.owner,
            "vault_id": p.vault_id,
            "liquidation_price_8dec": p.liquidation_price_8dec,
            "liquidation_price_native_raw": p.liquidation_price_native,
            "axis_price_now_8dec": p.axis_price_now_8dec,
            "health_factor_wad": p.health_factor_wad,
            "collateral_usd_8dec": p.collateral_usd_8dec,
            "debt_usd_8dec": p.debt_usd_8dec,
            "axis_collateral_usd_8dec": p.axis_collateral_usd_8dec,
            "seizable_usd_8dec": p.seizable_usd_8dec,
        }
        for p in positions
    ]


def _share_amounts(positions: int, collateral: int, debt: int, seizable: int) -> Record:
    return {"positions": positions, "collateral_usd": _usd(collateral), "debt_usd": _usd(debt),
            "seizable_usd": _usd(seizable)}


def breakdown(shares: Sequence[Share]) -> Record:
    """`by_market` and `by_protocol` of a bin or band: exact decimal strings."""
    by_protocol: dict[str, list[int]] = {}
    for s in shares:
        sums = by_protocol.setdefault(s.protocol, [0, 0, 0, 0])
        for i, value in enumerate((s.positions, s.collateral_usd_8dec, s.debt_usd_8dec,
                                   s.seizable_usd_8dec)):
            sums[i] += value
    return {
        "by_market": [{"market": s.market_key, "protocol": s.protocol} | _share_amounts(
            s.positions, s.collateral_usd_8dec, s.debt_usd_8dec, s.seizable_usd_8dec)
            for s in shares],
        "by_protocol": [{"protocol": key} | _share_amounts(*sums)
                        for key, sums in sorted(by_protocol.items())],
    }


_AMOUNTS = ("collateral_usd", "debt_usd", "seizable_usd")


def bin_records(snapshot: SnapshotRecord, bins: Iterable[HistogramBin],
                units: Mapping[str, str] | None = None) -> list[Record]:
    records = []
    for b in bins:
        raw = {
            f"{name}_8dec": getattr(b, f"{name}_8dec")
            for name in (*_AMOUNTS, "cumulative_collateral_usd")
        }
        records.append(
            _header(snapshot)
            | {"axis": b.axis, "axis_unit": _unit(units, b.axis), "direction": str(b.direction),
               "bin_index": b.bin_index}
            | {"low_usd": _usd(b.low_8dec), "high_usd": _usd(b.high_8dec), "positions": b.positions}
            | {name.removesuffix("_8dec"): _usd(value) for name, value in raw.items()}
            | {"low_8dec": b.low_8dec, "high_8dec": b.high_8dec}
            | raw
            | breakdown(b.shares)
        )
    return records


def band_records(snapshot: SnapshotRecord, bands: Iterable[Band],
                 units: Mapping[str, str] | None = None) -> list[Record]:
    records = []
    for b in bands:
        raw = {f"{name}_8dec": getattr(b, f"{name}_8dec") for name in _AMOUNTS}
        records.append(
            _header(snapshot)
            | {"axis": b.axis, "axis_unit": _unit(units, b.axis), "direction": str(b.direction),
               "rank": b.rank, "kind": b.kind}
            | {"low_usd": _usd(b.low_8dec), "high_usd": _usd(b.high_8dec), "positions": b.positions}
            | {name.removesuffix("_8dec"): _usd(value) for name, value in raw.items()}
            | {
                "share_of_at_risk_bps": b.share_of_at_risk_bps,
                "distance_low_bps": b.distance_low_bps,
                "distance_high_bps": b.distance_high_bps,
                "top_accounts": list(b.top_accounts),
                "low_8dec": b.low_8dec,
                "high_8dec": b.high_8dec,
            }
            | raw
            | breakdown(b.shares)
        )
    return records


# --- the three exports ----------------------------------------------------------------------


class _Stored(Protocol):
    @property
    def record(self) -> SnapshotRecord: ...


class SnapshotReader(Protocol):
    """What the exporters need from scanner.store.repository.Repository (no import cycle)."""

    def get_snapshot(self, snapshot_id: int) -> _Stored: ...
    def load_positions(self, snapshot_id: int) -> list[PositionResult]: ...
    def load_bins(self, snapshot_id: int) -> list[HistogramBin]: ...
    def load_bands(self, snapshot_id: int) -> list[Band]: ...


def export_positions(repo: SnapshotReader, snapshot_id: int, fmt: Format, out: Path) -> int:
    """Write every position of the snapshot to `out`; returns the number of rows."""
    snapshot = repo.get_snapshot(snapshot_id).record
    return write_records(position_records(snapshot, repo.load_positions(snapshot_id)), fmt, out)


def export_bins(repo: SnapshotReader, snapshot_id: int, fmt: Format, out: Path) -> int:
    snapshot = repo.get_snapshot(snapshot_id).record
    return write_records(bin_records(snapshot, repo.load_bins(snapshot_id)), fmt, out)


def export_bands(repo: SnapshotReader, snapshot_id: int, fmt: Format, out: Path) -> int:
    snapshot = repo.get_snapshot(snapshot_id).record
    return write_records(band_records(snapshot, repo.load_bands(snapshot_id)), fmt, out)


def write_records(records: Iterable[Mapping[str, Any]], fmt: Format, out: Path) -> int:
    """Write `records` to `out` in `fmt`, atomically. Returns the number of records."""
    writers: dict[str, Callable[[Iterable[Mapping[str, Any]], Path], int]] = {
        "csv": _write_csv,
        "json": _write_json,
        "ndjson": _write_ndjson,
        "parquet": _write_parquet,
    }
    if fmt not in writers:
        raise UsageError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    return _atomically(out, lambda tmp: writers[fmt](records, tmp))


def _atomically(out: Path, write: Callable[[Path], int]) -> int:
    _require_writable_target(out)
    try:
        return write_atomically(out, write)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror}: choose another --out") from exc


def _require_writable_target(out: Path) -> None:
    if out.is_dir():
        raise OutputError(f"--out {out} is a directory: give a file name, "
                          f"e.g. {out / 'export.csv'}")
    if not out.parent.is_dir():
        raise OutputError(f"cannot write {out}: directory {out.parent} does not exist")


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    return json.dumps(value) if isinstance(value, list | dict) else value


def _write_csv(records: Iterable[Mapping[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", newline="") as handle:
        writer: csv.DictWriter[str] | None = None
        for record in records:
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(record))
                writer.writeheader()
            writer.writerow({key: _csv_value(value) for key, value in record.items()})
            count += 1
    return count


def _write_json(records: Iterable[Mapping[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w") as handle:
        handle.write("[")
        for record in records:
            _json_item(handle, record, first=count == 0)
            count += 1
        handle.write("\n]\n" if count else "]\n")
    return count


def _write_ndjson(records: Iterable[Mapping[str, Any]], path: Path) -> int:
    with path.open("w") as handle:
        return write_ndjson_to(records, handle)


def write_ndjson_to(records: Iterable[Mapping[str, Any]], handle: TextIO) -> int:
    """One JSON object per line (NDJSON / JSON Lines)."""
    count = 0
    for record in records:
        handle.write(json.dumps(record) + "\n")
        count += 1
    return count


def write_records_to(records: Iterable[Mapping[str, Any]], fmt: Format, handle: TextIO) -> int:
    """Write `records` to an open text stream (stdout): csv, json or ndjson."""
    if fmt == "ndjson":
        return write_ndjson_to(records, handle)
    if fmt == "json":
        rows = [dict(r) for r in records]
        handle.write("[" + "".join(("\n  " if i == 0 else ",\n  ") + json.dumps(r)
                                   for i, r in enumerate(rows)) + ("\n]\n" if rows else "]\n"))
        return len(rows)
    if fmt == "csv":
        count = 0
        writer: csv.DictWriter[str] | None = None
        for record in records:
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(record))
                writer.writeheader()
            writer.writerow({key: _csv_value(value) for key, value in record.items()})
            count += 1
        return count
    raise UsageError(f"--format {fmt} cannot be written to stdout: give --out FILE")


def _json_item(handle: TextIO, record: Mapping[str, Any], *, first: bool) -> None:
    handle.write(("\n  " if first else ",\n  ") + json.dumps(record))


def _write_parquet(records: Iterable[Mapping[str, Any]], path: Path) -> int:
    import pyarrow as pa  # heavy: only when a parquet file is asked for
    import pyarrow.parquet as pq

    rows = list(records)
    columns: dict[str, Any] = {}
    for name in rows[0] if rows else ():
        columns[name] = _parquet_column(pa, name, [row[name] for row in rows])
    pq.write_table(pa.table(columns), path)
    return len(rows)


def _parquet_column(pa: Any, name: str, values: Sequence[Any]) -> Any:
    if name.endswith("_usd"):
        return _parquet_usd_column(pa, values)
    if name.endswith(("_8dec", "_wad")):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    if name == "top_accounts":
        return pa.array(values, pa.list_(pa.string()))
    if name.startswith("by_"):
        return pa.array([json.dumps(v) for v in values], pa.string())
    if name == "liquidation_price_native_raw":
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    if name == "liquidatable_next":
        return pa.array(values, pa.bool_())
    integers = ("block", "positions", "emode_category", "rank", "bin_index", "snapshot_id",
                "vault_id")
    if name in integers or name.endswith("_bps"):
        return pa.array(values, pa.int64())
    return pa.array(values, pa.string())


def _parquet_usd_column(pa: Any, values: Sequence[str | None]) -> Any:
    """decimal128(38, 8) when every value fits (30 integer digits); otherwise the exact decimal
    strings, so an absurd amount (a broken or hostile oracle) never fails or rounds the export."""
    fits = all(
        v is None or len(v.lstrip("-").split(".")[0]) <= _PARQUET_USD_INT_DIGITS for v in values
    )
    if not fits:
        return pa.array(values, pa.string())
    # Decimal from the string: exact, no context rounding.
    decimals = [None if v is None else Decimal(v) for v in values]
    return pa.array(decimals, pa.decimal128(38, USD_DECIMALS))

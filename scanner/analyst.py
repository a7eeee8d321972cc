"""The analyst's commands: bands (with a header, longs and shorts apart, and --history),
positions (sorted and filtered), summary and chart. Argument parsing: scanner/cli_analyst.py."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanner.choose import choose_snapshot as _snapshot
from scanner.choose import of_market as _of_market
from scanner.cli import dump_json
from scanner.config import Config, load_config
from scanner.domain import Band, Direction, PositionResult, PositionStatus
from scanner.errors import UsageError
from scanner.report import tables
from scanner.report.format import axis_price, band_line, counted, usd_compact
from scanner.store import export
from scanner.store.lite import snapshot_reads
from scanner.store.snapshot_reads import AxisTotals, SnapshotReads, StoredSnapshot

if TYPE_CHECKING:  # SQLAlchemy (~0.4 s to import): `liqscan bands` on SQLite never loads it
    from scanner.store.repository import Repository

SUMMARY_MOVES_BPS = (500, 1_000, 2_000)


def _repo(config: Config) -> Repository:
    from scanner.commands import _repo as repo_of

    return repo_of(config)


def _reads(source: Repository | SnapshotReads) -> SnapshotReads:
    return source if isinstance(source, SnapshotReads) else source.reads


def _axes(repo: Repository | SnapshotReads, snapshot_id: int, axis: str | None
          ) -> dict[str, AxisTotals]:
    found = _reads(repo).load_axes(snapshot_id)
    if axis is None:
        return found
    if axis not in found:
        raise UsageError(f"snapshot {snapshot_id} has no axis {axis!r} (it has "
                         f"{', '.join(found) or 'none'}): pass --axis with one of them")
    return {axis: found[axis]}


def _unit(units: dict[str, str], axis: str) -> str:
    """What `axis`'s prices count: USD, or a ratio axis's quote asset (never shown as `$`)."""
    return units.get(axis, "USD")


def _price_text(text: str | None, unit: str) -> str:
    """An exact 8-decimal string of an axis price, for people (`-` when absent)."""
    return axis_price(int(Decimal(text) * 10**8), unit) if text else "-"


def _side_totals(bands_or_bins: Sequence[Any], direction: Direction) -> int:
    return sum(b.collateral_usd_8dec for b in bands_or_bins if b.direction is direction)


# --- bands ---------------------------------------------------------------------------------


def cmd_bands(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    units = config.axis_units()
    if getattr(args, "history", False):
        repo = _repo(config)
        return _bands_history(repo, _snapshot(repo, args)[0], args, units)
    # sqlite3 on a SQLite file (no SQLAlchemy import: start-up), else the Repository's reads
    reads = snapshot_reads(config.database_url)
    snapshot_id, record = _snapshot(reads, args)
    axes = _axes(reads, snapshot_id, args.axis)
    bands = _of_market(reads.load_bands(snapshot_id, args.axis), args.market)
    if args.json:
        dump_json(export.band_records(record, bands, units))
        return 0
    out = tables.console()
    stored = reads.get_snapshot(snapshot_id)
    for line in tables.snapshot_lines(stored):
        out.print(line)
    bins = reads.load_bins(snapshot_id, args.axis)
    for name, totals in axes.items():
        on_axis = [b for b in bins if b.axis == name]
        out.print("\n" + tables.axis_line(totals, _side_totals(on_axis, Direction.DOWN),
                                          _side_totals(on_axis, Direction.UP),
                                          _unit(units, name)))
        for direction in Direction:
            chosen = [b for b in bands if b.axis == name and b.direction is direction]
            if chosen:
                out.print(tables.bands_table(chosen, tables.direction_title(name, direction),
                                             _unit(units, name)))
            else:
                out.print(f"{tables.direction_title(name, direction)}: no band or wall")
    return 0


def _bands_history(repo: Repository, snapshot_id: int, args: argparse.Namespace,
                   units: dict[str, str]) -> int:
    from scanner.store.queries import band_history, track_ids

    points = band_history(repo, snapshot_id, args.axis, args.snapshots)
    rows = [_history_record(p.snapshot, p.price_now_8dec, band, _unit(units, band.axis))
            for p in points for band in p.bands
            if args.market is None or any(s.market_key == args.market for s in band.shares)]
    order = {track: i for i, track in enumerate(track_ids(points))}
    rows.sort(key=lambda r: (order.get(r["track_id"], len(order)), r["block"], r["snapshot_id"]))
    if args.json:
        dump_json(rows)
        return 0
    out = tables.console()
    for line in tables.snapshot_lines(repo.get_snapshot(snapshot_id)):
        out.print(line)
    out.print(f"band history over {counted(len(points), 'snapshot')} (a band keeps its track "
              "id while it overlaps its previous self)")
    out.print(_history_table(rows))
    return 0


def _history_record(stored: StoredSnapshot, price_8dec: int | None, band: Band, unit: str
                    ) -> dict[str, Any]:
    """Like the export records: on a ratio axis the `_usd` prices count `axis_unit`."""
    return {"track_id": band.track_id, "split_from": band.split_from,
            "snapshot_id": stored.snapshot_id, "block": stored.record.block,
            "block_timestamp": stored.record.block_timestamp, "axis": band.axis,
            "axis_unit": unit,
            "axis_price_usd": export.format_units(price_8dec, 8),
            "direction": str(band.direction), "kind": band.kind, "rank": band.rank,
            "low_usd": export.format_units(band.low_8dec, 8),
            "high_usd": export.format_units(band.high_8dec, 8),
            "distance_low_bps": band.distance_low_bps,
            "distance_high_bps": band.distance_high_bps,
            "collateral_usd": export.format_units(band.collateral_usd_8dec, 8),
            "positions": band.positions}


def _history_table(rows: list[dict[str, Any]]) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("track", "block", "axis price", "side", "kind", "#", "from", "to", "move",
                 "collateral", "positions", "note"):
        table.add_column(name, justify="left" if name in ("side", "kind", "note") else "right")
    previous: dict[int, dict[str, Any]] = {}
    for r in rows:
        note = f"split from {r['split_from']}" if r["split_from"] else ""
        if r["track_id"] in previous:
            note = _moved(previous[r["track_id"]], r)
        previous[r["track_id"]] = r
        unit = r["axis_unit"]
        table.add_row(str(r["track_id"]), f"{r['block']:,}", _price_text(r["axis_price_usd"], unit),
                      "long" if r["direction"] == "down" else "short", r["kind"], str(r["rank"]),
                      _price_text(r["low_usd"], unit), _price_text(r["high_usd"], unit),
                      f"{r['distance_low_bps'] / 100:+.1f}%..{r['distance_high_bps'] / 100:+.1f}%",
                      usd_compact(int(Decimal(r["collateral_usd"]) * 10**8)),
                      f"{r['positions']:,}", note)
    return table


def _moved(before: dict[str, Any], after: dict[str, Any]) -> str:
    low = Decimal(after["low_usd"]) - Decimal(before["low_usd"])
    collateral = Decimal(after["collateral_usd"]) - Decimal(before["collateral_usd"])
    sign = "+" if collateral >= 0 else "-"
    low_text = axis_price(int(abs(low) * 10**8), after["axis_unit"])
    return (f"low {'+' if low >= 0 else '-'}{low_text}, collateral {sign}"
            f"{usd_compact(int(abs(collateral) * 10**8))}")


# --- positions -----------------------------------------------------------------------------


def _near_alone(args: argparse.Namespace) -> None:
    """--near orders by one price over every status: a filter beside it would be ignored."""
    given = [flag for flag, value in (("--sort", args.sort != "distance"),
                                      ("--status", args.status),
                                      ("--min-collateral", args.min_collateral is not None),
                                      ("--protocol", args.protocol)) if value]
    if given:
        raise UsageError(f"--near cannot be combined with {', '.join(given)}: drop one "
                         "(--near lists every position by its distance to that price)")


def cmd_positions(args: argparse.Namespace) -> int:
    from scanner.store.queries import PositionQuery, find_positions

    config = load_config(args.config)
    repo, units = _repo(config), config.axis_units()
    snapshot_id, record = _snapshot(repo, args)
    if args.near is not None:  # the older ordering: nearest to a given price
        _near_alone(args)
        near_8dec = int(args.near * Decimal(10**8))
        found = repo.load_positions(snapshot_id, axis=args.axis, near_8dec=near_8dec,
                                    limit=args.limit, market_key=args.market)
    else:
        found = find_positions(repo, snapshot_id, PositionQuery(
            axis=args.axis, market_key=args.market, statuses=_statuses(args.status),
            protocol=args.protocol, min_collateral_8dec=_usd_8dec(args.min_collateral),
            sort=args.sort, limit=args.limit))
    if args.json:
        dump_json(export.position_records(record, found, units))
        return 0
    out = tables.console()
    for line in tables.snapshot_lines(repo.get_snapshot(snapshot_id)):
        out.print(line)
    out.print(tables.positions_table(found, units))
    hidden = "" if args.status or args.near is not None else (
        "; not_sensitive and unverified positions are left out: --status all shows them")
    out.print(counted(len(found), "position") + (f" (--limit {args.limit})"
                                             if len(found) == args.limit else "") + hidden)
    return 0


def _statuses(given: Sequence[str] | None) -> tuple[PositionStatus, ...]:
    if not given:
        return (PositionStatus.LIQUIDATABLE_NOW, PositionStatus.AT_RISK)
    if "all" in given:
        return ()
    return tuple(PositionStatus(s) for s in given)


def _usd_8dec(value: Decimal | None) -> int:
    return 0 if value is None else int(value * 10**8)


# --- summary -------------------------------------------------------------------------------


def cmd_summary(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    repo, units = _repo(config), config.axis_units()
    snapshot_id, record = _snapshot(repo, args)
    stored = repo.get_snapshot(snapshot_id)
    report = [_axis_summary(repo, snapshot_id, totals, args.market, args.top,
                            _unit(units, totals.axis))
              for totals in _axes(repo, snapshot_id, args.axis).values()]
    if args.json:
        dump_json({"snapshot_id": snapshot_id, "chain": record.chain, "block": record.block,
                   "block_timestamp": record.block_timestamp, "axes": report})
        return 0
    out = tables.console()
    for line in tables.snapshot_lines(stored):
        out.print(line)
    for axis in report:
        out.print("")
        _print_axis_summary(out, axis)
    return 0


def _axis_summary(repo: Repository, snapshot_id: int, totals: AxisTotals, market: str | None,
                  top: int, unit: str) -> dict[str, Any]:
    """`price_usd` counts `axis_unit` (a ratio axis: its quote asset); amounts are USD."""
    from scanner.store.queries import PositionQuery, find_positions

    at_risk = find_positions(repo, snapshot_id, PositionQuery(
        axis=totals.axis, market_key=market, statuses=(PositionStatus.AT_RISK,), limit=None))
    now = find_positions(repo, snapshot_id, PositionQuery(
        axis=totals.axis, market_key=market, statuses=(PositionStatus.LIQUIDATABLE_NOW,),
        limit=None))
    moves = [_within(at_risk, sign * bps) for bps in SUMMARY_MOVES_BPS for sign in (-1, 1)]
    bands = _of_market(repo.load_bands(snapshot_id, totals.axis), market)
    usd = export.format_units
    return {"axis": totals.axis, "axis_unit": unit, "price_usd": usd(totals.price_now_8dec, 8),
            "liquidatable_now": {"positions": len(now), "collateral_usd": usd(
                sum(p.collateral_usd_8dec for p in now), 8)},
            "at_risk": {"positions": len(at_risk), "collateral_usd": usd(
                sum(p.collateral_usd_8dec for p in at_risk), 8)},
            "within": moves,
            "top_bands": [band_line(b, unit) for b in sorted(bands, key=lambda b: b.rank)[:top]]}


def _within(at_risk: Sequence[PositionResult], move_bps: int) -> dict[str, Any]:
    """At-risk collateral liquidated by a move of the axis price up to `move_bps` (signed)."""
    from scanner.store.queries import distance_bps

    chosen = [p for p in at_risk if (d := distance_bps(p)) is not None
              and (move_bps <= d < 0 if move_bps < 0 else 0 < d <= move_bps)]
    return {"move_bps": move_bps, "positions": len(chosen),
            "collateral_usd": export.format_units(sum(p.collateral_usd_8dec for p in chosen), 8)}


def _print_axis_summary(out: Any, axis: dict[str, Any]) -> None:
    def usd(text: str) -> str:
        return usd_compact(int(Decimal(text) * 10**8))

    now = axis["liquidatable_now"]
    out.print(f"{axis['axis']} {_price_text(axis['price_usd'], axis['axis_unit'])}   "
              f"liquidatable now: {usd(now['collateral_usd'])} ({now['positions']:,} positions)"
              f"   at risk: {usd(axis['at_risk']['collateral_usd'])} "
              f"({axis['at_risk']['positions']:,} positions)")
    falls = [m for m in axis["within"] if m["move_bps"] < 0]
    rises = [m for m in axis["within"] if m["move_bps"] > 0]
    for label, moves in (("falls", falls), ("rises", rises)):
        cells = "   ".join(f"{abs(m['move_bps']) // 100}%: {usd(m['collateral_usd'])} "
                           f"({m['positions']:,})" for m in moves)
        out.print(f"  collateral liquidated if {axis['axis']} {label} by   {cells}")
    out.print("  top bands:" if axis["top_bands"] else "  no band or wall")
    for line in axis["top_bands"]:
        out.print("    " + line)


# --- chart ---------------------------------------------------------------------------------


def cmd_chart(args: argparse.Namespace) -> int:
    from scanner.report.chart import ChartInput, map_title, save_chart

    config = load_config(args.config)
    repo = _repo(config)
    snapshot_id, record = _snapshot(repo, args)
    axes = repo.reads.load_axes(snapshot_id)
    axis = args.axis or (next(iter(axes)) if len(axes) == 1 else None)
    if axis is None:
        raise UsageError(f"the snapshot has several axes ({', '.join(axes)}): pass --axis")
    if getattr(args, "cascade", False):
        return _cascade_chart(repo, snapshot_id, record, axis, args.out)
    totals = _axes(repo, snapshot_id, axis)[axis]
    bins = _market_part(repo.load_bins(snapshot_id, axis), args.market)
    bands = _of_market(repo.load_bands(snapshot_id, axis), args.market)
    out: Path = args.out
    data = ChartInput(axis, totals.price_now_8dec, bins, bands, map_title(record, axis,
                      snapshot_id, args.market), log_y=not args.linear,
                      unit=_unit(config.axis_units(), axis))  # fmt: skip
    save_chart(data, out)
    print(f"wrote {out}: {axis} liquidation map of snapshot {snapshot_id} "
          f"({len(bins)} bins, {len(bands)} bands and walls)", file=sys.stderr)
    return 0


def _cascade_chart(repo: Repository, snapshot_id: int, record: Any, axis: str, out: Path
                   ) -> int:
    from scanner.report.cascade_chart import save_cascade_chart
    from scanner.store.cascades import latest_curve, load_cascades

    curve = latest_curve(repo, snapshot_id, axis)
    singles = load_cascades(repo, snapshot_id, axis, curve=False)
    if not curve and not singles:
        raise UsageError(f"snapshot {snapshot_id} has no stored cascade of {axis}: run "
                         f"`liqscan cascade --axis {axis} --curve` first")
    title = f"{record.chain} block {record.block}, snapshot {snapshot_id}: {axis} cascades"
    save_cascade_chart(curve, singles[0] if singles else None, axis, title, out)
    print(f"wrote {out}: {axis} cascade curve ({len(curve)} shocks) of snapshot {snapshot_id}",
          file=sys.stderr)
    return 0


def _market_part(bins: list[Any], market: str | None) -> list[Any]:
    """Bins holding only `market`'s share (all of them when None)."""
    from dataclasses import replace

    if market is None:
        return bins
    parts = []
    cumulative: dict[Direction, int] = {}
    for b in bins:
        shares = tuple(s for s in b.shares if s.market_key == market)
        collateral = sum(s.collateral_usd_8dec for s in shares)
        cumulative[b.direction] = cumulative.get(b.direction, 0) + collateral
        parts.append(replace(b, shares=shares, collateral_usd_8dec=collateral,
                             positions=sum(s.positions for s in shares),
                             cumulative_collateral_usd_8dec=cumulative[b.direction]))
    return parts


# --- export --------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    repo, units = _repo(config), config.axis_units()
    snapshot_id, record = _snapshot(repo, args)
    if args.axis is not None:
        _axes(repo, snapshot_id, args.axis)  # an axis the snapshot lacks is an error
    records: list[dict[str, Any]]
    if args.what == "positions":
        records = export.position_records(record, repo.load_positions(
            snapshot_id, axis=args.axis, market_key=args.market), units)
    elif args.what == "bins":
        records = export.bin_records(record, _of_market(repo.load_bins(snapshot_id, args.axis),
                                                        args.market), units)
    else:
        records = export.band_records(record, _of_market(
            repo.load_bands(snapshot_id, args.axis), args.market), units)
    if str(args.out) == "-":
        rows = export.write_records_to(records, args.format, sys.stdout)
        sys.stdout.flush()
    else:
        rows = export.write_records(records, args.format, args.out)
    print(f"wrote {rows:,} {args.what} of snapshot {snapshot_id} to "
          f"{'stdout' if str(args.out) == '-' else args.out}", file=sys.stderr)
    return 0

"""Cascades in SQL (migration 0013): one `cascades` row per run, `cascade_rounds` per round.

The JSON shape of a cascade is defined once, here: `cascade_json` of a computed result (the
CLI's `--json`) and `load_cascades` of stored rows (the HTTP API) give the same objects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from scanner.cascade.engine import CascadeResult, CascadeRound
from scanner.store import tables
from scanner.store.repository import Repository

CASCADES = tables.CASCADES
ROUNDS = tables.CASCADE_ROUNDS
_AMOUNTS = ("sold_usd_8dec", "debt_repaid_usd_8dec", "bad_debt_usd_8dec")
_NOW = ("positions", *_AMOUNTS)  # liquidatable_now's keys; columns now_<key> (0016)


@dataclass(frozen=True)
class CascadeRun:
    """A computed cascade and how it was asked for."""

    result: CascadeResult
    shock_bps: int
    depth_model: str
    curve: bool = False


def _ranks(text: str) -> list[int]:
    return [int(r) for r in text.split(",") if r]


def _round_json(r: CascadeRound) -> dict[str, Any]:
    return {
        "round": r.index, "price_8dec": r.price_8dec, "price_after_8dec": r.price_after_8dec,
        "positions": r.positions, "sold_usd_8dec": r.sold_usd_8dec,
        "debt_repaid_usd_8dec": r.debt_repaid_usd_8dec,
        "debt_redistributed_usd_8dec": r.debt_redistributed_usd_8dec,
        "bad_debt_usd_8dec": r.bad_debt_usd_8dec, "proceeds_usd_8dec": r.proceeds_usd_8dec,
        "store_discount_usd_8dec": r.store_discount_usd_8dec,
        "sold": [{"symbol": s.symbol, "asset": s.asset, "amount_raw": str(s.amount_raw),
                  "decimals": s.decimals, "usd_8dec": s.usd_8dec} for s in r.sold],
        "bands_crossed": list(r.bands_crossed),
    }


def cascade_json(run: CascadeRun) -> dict[str, Any]:
    r = run.result
    return {
        "axis": r.axis, "direction": r.direction.value, "curve": run.curve,
        "depth_model": run.depth_model, "shock_bps": run.shock_bps,
        "price_now_8dec": r.price_now_8dec, "shock_price_8dec": r.shock_price_8dec,
        "final_price_8dec": r.final_price_8dec, "rounds": len(r.rounds),
        "positions_liquidated": r.positions_liquidated, "sold_usd_8dec": r.sold_usd_8dec,
        "debt_repaid_usd_8dec": r.debt_repaid_usd_8dec, "bad_debt_usd_8dec": r.bad_debt_usd_8dec,
        "store_discount_usd_8dec": r.store_discount_usd_8dec,
        "converged": r.converged, "buy_modelled": r.buy_modelled,
        "bands_crossed_by_shock": list(r.bands_crossed_by_shock),
        "includes_now": r.includes_now,
        "liquidatable_now": {name: getattr(r.now, name) for name in _NOW},
        "path": [_round_json(x) for x in r.rounds],
    }


def save_cascades(repo: Repository, snapshot_id: int, runs: Sequence[CascadeRun]) -> list[int]:
    """Store every run in one transaction (a curve is whole or absent); their ids."""
    ids = []
    with repo.engine.begin() as conn:
        for run in runs:
            row = cascade_json(run)
            path = row.pop("path")
            row["bands_crossed_by_shock"] = ",".join(map(str, row["bands_crossed_by_shock"]))
            row.update({f"now_{k}": v for k, v in row.pop("liquidatable_now").items()})
            cascade_id = repo._insert_one(conn, CASCADES, dict(row, snapshot_id=snapshot_id))
            if path:
                conn.execute(ROUNDS.insert(), [_round_row(cascade_id, x) for x in path])
            ids.append(cascade_id)
    return ids


def _round_row(cascade_id: int, x: dict[str, Any]) -> dict[str, Any]:
    row = dict(x, cascade_id=cascade_id, round_index=x["round"],
               sold_assets=json.dumps(x["sold"]), bands_crossed=",".join(map(
                   str, x["bands_crossed"])))
    del row["round"], row["sold"]
    return row


def load_cascades(repo: Repository, snapshot_id: int, axis: str | None = None,
                  curve: bool | None = None) -> list[dict[str, Any]]:
    """Stored cascades of a snapshot (newest first), in `cascade_json`'s shape plus `id`."""
    query = select(CASCADES).where(CASCADES.c.snapshot_id == snapshot_id)
    if axis is not None:
        query = query.where(CASCADES.c.axis == axis)
    if curve is not None:
        query = query.where(CASCADES.c.curve == curve)
    with repo.engine.connect() as conn:
        rows = conn.execute(query.order_by(CASCADES.c.id.desc())).mappings().all()
        ids = [row["id"] for row in rows]
        paths: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for r in conn.execute(select(ROUNDS).where(ROUNDS.c.cascade_id.in_(ids)).order_by(
                    ROUNDS.c.cascade_id, ROUNDS.c.round_index)).mappings():
                paths[r["cascade_id"]].append(_round_from_row(r))
    return [_cascade_from_row(row, paths[row["id"]]) for row in rows]


def _round_from_row(r: Any) -> dict[str, Any]:
    return {
        "round": r["round_index"], "price_8dec": r["price_8dec"],
        "price_after_8dec": r["price_after_8dec"], "positions": r["positions"],
        **{name: r[name] for name in _AMOUNTS}, "proceeds_usd_8dec": r["proceeds_usd_8dec"],
        # NULL on a round stored before migration 0016, which did not compute it
        "debt_redistributed_usd_8dec": r["debt_redistributed_usd_8dec"],
        # NULL on a round stored before migration 0018
        "store_discount_usd_8dec": r["store_discount_usd_8dec"],
        "sold": json.loads(r["sold_assets"]), "bands_crossed": _ranks(r["bands_crossed"]),
    }


def _cascade_from_row(row: Any, path: list[dict[str, Any]]) -> dict[str, Any]:
    out = {name: row[name] for name in (
        "id", "axis", "direction", "curve", "depth_model", "shock_bps", "price_now_8dec",
        "shock_price_8dec", "final_price_8dec", "rounds", "positions_liquidated", *_AMOUNTS,
        "converged", "buy_modelled", "store_discount_usd_8dec")}  # the last NULL before 0018
    out["bands_crossed_by_shock"] = _ranks(row["bands_crossed_by_shock"])
    out["includes_now"] = row["includes_now"]
    # a row stored before migration 0016 did not compute them: null, not zeros
    out["liquidatable_now"] = (None if row["now_positions"] is None
                               else {name: row[f"now_{name}"] for name in _NOW})
    out["path"] = path
    return out


def latest_curve(repo: Repository, snapshot_id: int, axis: str) -> list[dict[str, Any]]:
    """The newest stored curve of an axis: its points, one per shock, in shock order."""
    points = load_cascades(repo, snapshot_id, axis, curve=True)
    newest: dict[int, dict[str, Any]] = {}
    for point in points:  # newest first: keep the first seen per shock
        newest.setdefault(point["shock_bps"], point)
    return [newest[k] for k in sorted(newest)]

"""The JSON shapes of the API, built from stored rows (pure; documented in openapi.py).

Bands, bins and positions are the records the CLI's `--json` and `liqscan export` print
(scanner/store/export.py): exact decimal strings (`collateral_usd` "1234.50000000") plus the
raw integers (`collateral_usd_8dec`). A JavaScript client reads the strings: the raw integers
can exceed 2**53.
"""

from __future__ import annotations

from typing import Any

from scanner.domain import Band
from scanner.store.export import format_units
from scanner.store.reads import AxisSummary, HistoryPoint, LiquidatableNow
from scanner.store.repository import StoredSnapshot

Json = dict[str, Any]


def usd(value_8dec: int | None) -> str | None:
    return format_units(value_8dec, 8)


def snapshot_json(stored: StoredSnapshot) -> Json:
    record = stored.record
    return {
        "id": stored.snapshot_id, "chain": record.chain, "chain_id": record.chain_id,
        "block": record.block, "block_timestamp": record.block_timestamp,
        "status": record.status, "created_at": stored.created_at.isoformat(),
        "markets": [{"market": m.market_key, "protocol": m.protocol,
                     "pool_revision": m.pool_revision} for m in record.markets],
        "position_count": stored.position_count, "bin_count": stored.bin_count,
        "band_count": stored.band_count,
    }


def axis_json(summary: AxisSummary) -> Json:
    return {
        "axis": summary.axis,
        "price_now_usd": usd(summary.price_now_8dec),
        "price_now_8dec": summary.price_now_8dec,
        "positions": summary.positions,
        "liquidatable_now_positions": summary.liquidatable_now_positions,
        "liquidatable_now_collateral_usd": usd(summary.liquidatable_now_collateral_usd_8dec),
        "liquidatable_now_debt_usd": usd(summary.liquidatable_now_debt_usd_8dec),
        "liquidatable_now_collateral_usd_8dec": summary.liquidatable_now_collateral_usd_8dec,
    }


def liquidatable_json(total: LiquidatableNow) -> Json:
    return {"positions": total.positions, "collateral_usd": usd(total.collateral_usd_8dec),
            "debt_usd": usd(total.debt_usd_8dec),
            "collateral_usd_8dec": total.collateral_usd_8dec}


def history_band_json(band: Band) -> Json:
    return {
        "direction": str(band.direction), "rank": band.rank, "kind": band.kind,
        "low_usd": usd(band.low_8dec), "high_usd": usd(band.high_8dec),
        "collateral_usd": usd(band.collateral_usd_8dec), "positions": band.positions,
        "share_of_at_risk_bps": band.share_of_at_risk_bps,
        "distance_low_bps": band.distance_low_bps, "distance_high_bps": band.distance_high_bps,
    }


def history_json(chain: str, axis: str, points: list[HistoryPoint]) -> Json:
    return {
        "chain": chain, "axis": axis,
        "points": [{"snapshot_id": p.snapshot_id, "block": p.block,
                    "block_timestamp": p.block_timestamp,
                    "price_now_usd": usd(p.price_now_8dec),
                    "bands": [history_band_json(b) for b in p.bands]} for p in points],
    }

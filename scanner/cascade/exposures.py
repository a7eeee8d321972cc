"""The positions a cascade follows, from a snapshot's reads: each with its protocol's curve on
the axis (resolved against its own market), its level from the scan, and its sale function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scanner.cascade.engine import Exposure
from scanner.cascade.sale import ledger_of, sale_function
from scanner.domain import Address, Axis, PositionResult, PositionStatus
from scanner.errors import UsageError
from scanner.pipeline.scan import MarketOutcome

# statuses a move of the axis can liquidate; unverified positions have no trusted rule
FOLLOWED = (PositionStatus.AT_RISK, PositionStatus.LIQUIDATABLE_NOW)


@dataclass(frozen=True)
class AxisBook:
    """Everything the engine needs about one axis of one snapshot."""

    axis: Axis  # the snapshot's (its price is the snapshot's axis price)
    exposures: tuple[Exposure, ...]
    member_usd_now_8dec: dict[Address, int]  # each member's USD price (first market listing it)


def axis_book(markets: Sequence[MarketOutcome], axes: Sequence[Axis], axis_name: str
              ) -> AxisBook:
    """The positions of every market on `axis_name` (USD axes only)."""
    snapshot_axis = next((a for a in axes if a.name == axis_name), None)
    if snapshot_axis is None:
        names = ", ".join(a.name for a in axes) or "none"
        raise UsageError(f"--axis {axis_name}: the snapshot has no such axis; its axes are {names}")
    if snapshot_axis.unit != "USD":
        raise UsageError(f"--axis {axis_name}: a ratio axis (in {snapshot_axis.unit}) has no "
                         "USD market depth; choose a USD axis")
    exposures: list[Exposure] = []
    member_usd: dict[Address, int] = {}
    for market in markets:
        market_axis = next((a for a in market.axes if a.name == axis_name), None)
        if market_axis is None:
            continue
        for asset in market.read.assets:
            if asset.address in market_axis.members:
                member_usd.setdefault(asset.address, asset.price_8dec)
        exposures += _market_exposures(market, market_axis)
    return AxisBook(snapshot_axis, tuple(exposures), member_usd)


def _market_exposures(market: MarketOutcome, axis: Axis) -> list[Exposure]:
    results: dict[tuple[str, Address], PositionResult] = {
        (r.submarket, r.account): r for r in market.results if r.axis == axis.name}
    symbols = {asset.address: asset.symbol for asset in market.read.assets}
    sale = sale_function(market.record.protocol)
    ledger = ledger_of(market.record.protocol)
    out = []
    for position in market.read.positions:
        result = results.get((position.submarket, position.account))
        if result is None or result.status not in FOLLOWED:
            continue
        out.append(Exposure(
            market_key=position.market_key, protocol=position.protocol,
            account=position.account, curve=position.state.curve(axis), sale=sale,
            direction=result.direction, level_8dec=result.liquidation_price_8dec,
            axis_now_8dec=result.axis_price_now_8dec, symbols=symbols, ledger=ledger,
            liquidatable_now=result.status is PositionStatus.LIQUIDATABLE_NOW))
    return out

"""Resolve configured price axes (symbols or addresses) against one market's reserves."""

from __future__ import annotations

from collections.abc import Mapping

from scanner.config import AxisConfig
from scanner.domain import AaveMarketState, Axis


def resolve_axes(axes: Mapping[str, AxisConfig], market: AaveMarketState) -> list[Axis]:
    """Axes with at least one member listed in the market, in config order.

    The reference is the configured reference when the market lists it, else the first
    member found; its oracle price is the axis price."""
    by_symbol = {r.symbol.lower(): r for r in market.reserves.values()}
    by_address = {r.asset.lower(): r for r in market.reserves.values()}
    resolved: list[Axis] = []
    for name, axis in axes.items():
        members = [
            by_address.get(m.lower()) or by_symbol.get(m.lower()) for m in axis.members
        ]
        present = [m for m in members if m is not None]
        if not present:
            continue
        reference = by_address.get(axis.reference.lower()) or by_symbol.get(axis.reference.lower())
        if reference is None or reference not in present:
            reference = present[0]
        resolved.append(Axis(
            name=name,
            members=frozenset(r.asset for r in present),
            reference=reference.asset,
            reference_price_8dec=reference.price_8dec,
        ))
    return resolved

"""Resolve configured price axes (symbols or addresses) against one market's assets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scanner.config import AxisConfig
from scanner.domain import Asset, Axis


def resolve_axes(axes: Mapping[str, AxisConfig], assets: Sequence[Asset]) -> list[Axis]:
    """Axes with at least one member listed in the market, in config order.

    The reference is the configured reference when the market lists it, else the first
    member found; its oracle price (in this market) is the axis price."""
    by_symbol = {a.symbol.lower(): a for a in assets}
    by_address = {a.address.lower(): a for a in assets}
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
            members=frozenset(a.address for a in present),
            reference=reference.address,
            reference_price_8dec=reference.price_8dec,
        ))
    return resolved


def snapshot_axes(per_market: Sequence[Sequence[Axis]]) -> list[Axis]:
    """One Axis per name for a whole snapshot: the first market's that has it (its members and
    price are the axis's USD reference; each market's positions move relative to their own)."""
    chosen: dict[str, Axis] = {}
    for axes in per_market:
        for axis in axes:
            chosen.setdefault(axis.name, axis)
    return list(chosen.values())

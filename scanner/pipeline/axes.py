"""Resolve configured price axes (symbols or addresses) against the markets of a snapshot.

Each market prices the axes it lists members of (`resolve_axes`). Across the snapshot
(`require_axes_listed`): an axis none of whose members any market lists, or whose reference
asset no market lists, is a config error: silently dropping the axis, or pricing it by another
member, would answer a question nobody asked. A member no market lists (while others are found)
is named in a warning: real markets differ (Spark lists no osETH).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from scanner.config import AxisConfig
from scanner.domain import Asset, Axis
from scanner.errors import ConfigError

log = logging.getLogger(__name__)


def require_axes_listed(
    axes: Mapping[str, AxisConfig], markets: Sequence[tuple[str, Sequence[Asset]]]
) -> None:
    """Raise ConfigError for an axis the snapshot's markets (key, assets) cannot price; warn
    about each member none of them lists."""
    listed = {key for _, assets in markets for a in assets
              for key in (a.symbol.lower(), a.address.lower())}
    keys = [key for key, _ in markets]
    one = len(keys) == 1
    for name, axis in axes.items():
        missing = [m for m in axis.members if m.lower() not in listed]
        if len(missing) == len(axis.members):
            symbols = ", ".join(sorted({a.symbol for _, assets in markets for a in assets}))
            who = (f"{keys[0]} lists none of" if one
                   else f"none of the markets {', '.join(keys)} lists any of")
            raise ConfigError(
                f"axes.{name}.members: {who} {', '.join(axis.members)} "
                f"({'it lists' if one else 'they list'} {symbols}): fix the symbols or "
                "remove the axis")
        if missing:
            who = f"{keys[0]} does not list" if one else f"no market ({', '.join(keys)}) lists"
            log.warning("axes.%s.members: %s %s; the axis uses the others",
                        name, who, ", ".join(missing))
        if axis.reference.lower() not in listed:
            present = [m for m in axis.members if m not in missing]
            who = keys[0] if one else f"any of {', '.join(keys)}"
            raise ConfigError(
                f"axes.{name}.reference {axis.reference} is not listed by {who}: choose a "
                f"member {'it lists' if one else 'they list'} ({', '.join(present)})")


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
            continue  # another market of the snapshot may list it (require_axes_listed)
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

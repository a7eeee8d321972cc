"""Resolve configured price axes (symbols or addresses) against one market's reserves.

An axis none of whose members the market lists, or whose reference asset it does not list, is
a config error: silently dropping the axis, or pricing it by another member, would answer a
question nobody asked. Members the market does not list (while others are found) are named in
a warning: real markets differ (Spark lists no osETH).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from scanner.config import AxisConfig
from scanner.domain import AaveMarketState, AaveReserve, Axis
from scanner.errors import ConfigError

log = logging.getLogger(__name__)


def resolve_axes(
    axes: Mapping[str, AxisConfig], market: AaveMarketState, market_key: str = "the market"
) -> list[Axis]:
    """Every configured axis, in config order, priced by its reference asset's oracle price."""
    by_symbol = {r.symbol.lower(): r for r in market.reserves.values()}
    by_address = {r.asset.lower(): r for r in market.reserves.values()}

    def find(member: str) -> AaveReserve | None:
        return by_address.get(member.lower()) or by_symbol.get(member.lower())

    listed = ", ".join(sorted(r.symbol for r in market.reserves.values()))
    resolved: list[Axis] = []
    for name, axis in axes.items():
        missing = [m for m in axis.members if find(m) is None]
        present = [r for r in map(find, axis.members) if r is not None]
        if not present:
            raise ConfigError(
                f"axes.{name}.members: {market_key} lists none of {', '.join(axis.members)} "
                f"(it lists {listed}): fix the symbols or remove the axis"
            )
        if missing:
            log.warning("axes.%s.members: %s does not list %s; the axis uses the others",
                        name, market_key, ", ".join(missing))
        reference = find(axis.reference)
        if reference is None:
            raise ConfigError(
                f"axes.{name}.reference {axis.reference} is not listed by {market_key}: choose "
                f"a member it lists ({', '.join(r.symbol for r in present)})"
            )
        resolved.append(Axis(
            name=name,
            members=frozenset(r.asset for r in present),
            reference=reference.asset,
            reference_price_8dec=reference.price_8dec,
        ))
    return resolved

"""Resolve configured price axes (symbols or addresses) against the markets of a snapshot.

Each market prices the axes it lists members of (`resolve_axes`). Across the snapshot
(`require_axes_listed`): an axis none of whose members any market lists, or whose reference
asset no market lists, is a config error: silently dropping the axis, or pricing it by another
member, would answer a question nobody asked. A member no market lists (while others are found)
is named in a warning: real markets differ (Spark lists no osETH).

A plain axis (ETH: WETH, wstETH, ...) moves every member together in USD. A ratio axis
(`[axes.wstETH-ETH] members = ["wstETH"], quote = ["WETH"]`) moves its members alone while
every other asset, the quote included, keeps its price: an LST depeg against ETH. Both are
the same `Axis` to a protocol's curve (members scaled by x / reference price now, everything
else fixed); they differ only in the unit the snapshot shows the level in -- USD, or the
quote asset (the reference's price divided by the quote's price in the source market).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

from scanner.config import AxisConfig
from scanner.domain import Asset, Axis
from scanner.errors import ConfigError

log = logging.getLogger(__name__)

UNIT_8DEC = 10**8


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



def _find(assets_by_key: Mapping[str, Asset], token: str) -> Asset | None:
    return assets_by_key.get(token.lower())


def resolve_axes(axes: Mapping[str, AxisConfig], assets: Sequence[Asset]) -> list[Axis]:
    """Axes with at least one member listed in the market, in config order.

    The reference is the configured reference when the market lists it, else the first
    member found; its oracle price (in this market) is the curve's axis price. A ratio axis
    also records the USD price of its first quote asset the market lists (0: none listed)."""
    by_key = {a.symbol.lower(): a for a in assets} | {a.address.lower(): a for a in assets}
    resolved: list[Axis] = []
    for name, axis in axes.items():
        present = [a for m in axis.members if (a := _find(by_key, m)) is not None]
        if not present:
            continue  # another market of the snapshot may list it (require_axes_listed)
        reference = _find(by_key, axis.reference)
        configured = reference is not None and reference in present
        if reference is None or not configured:
            reference = present[0]
        quotes = [a for q in axis.quote if (a := _find(by_key, q)) is not None]
        resolved.append(Axis(
            name=name,
            members=frozenset(a.address for a in present),
            reference=reference.address,
            reference_price_8dec=reference.price_8dec,
            unit=axis.unit,
            quote_price_8dec=quotes[0].price_8dec if quotes else 0,
            reference_is_configured=configured,
        ))
    return resolved


def snapshot_axes(
    per_market: Sequence[Sequence[Axis]],
    configured: Mapping[str, AxisConfig] | None = None,
    market_keys: Sequence[str] = (),
) -> list[Axis]:
    """One Axis per name for a whole snapshot, whose `reference_price_8dec` is the axis price
    every position's relative move is applied to (USD; a ratio axis: quote units, 8 dec).

    Its source is the market named by the axis's `price_source` when this snapshot holds that
    market (which must then price the axis), else the first market that lists the axis's
    reference (else any member; a ratio axis: and a quote asset). A ratio axis whose members
    some market lists but whose quote none does is a ConfigError: its level cannot be shown in
    its unit."""
    configured = configured or {}
    keys = list(market_keys) if market_keys else [str(i) for i in range(len(per_market))]
    by_name: dict[str, list[tuple[str, Axis]]] = {}
    for key, axes in zip(keys, per_market, strict=True):
        for axis in axes:
            by_name.setdefault(axis.name, []).append((key, axis))
    return [_source_axis(name, configured.get(name), candidates, keys)
            for name, candidates in by_name.items()]


def _source_axis(name: str, config: AxisConfig | None, candidates: Sequence[tuple[str, Axis]],
                 market_keys: Sequence[str]) -> Axis:
    ratio = config is not None and bool(config.quote)
    usable = [(k, a) for k, a in candidates if not ratio or a.quote_price_8dec > 0]
    # a market that prices the configured reference itself sets the price, before one that
    # falls back to another member (require_axes_listed: some market lists the reference)
    usable.sort(key=lambda candidate: not candidate[1].reference_is_configured)
    source = config.price_source if config is not None else None
    if source is not None and source in market_keys:
        usable = [(k, a) for k, a in usable if k == source]
        if not usable:
            what = "both a member and a quote asset" if ratio else "a member"
            raise ConfigError(f"axes.{name}.price_source: market {source!r} does not list "
                              f"{what} of this axis: choose a market that prices it")
    if not usable:  # a ratio axis whose members are listed, its quote nowhere
        quote = ", ".join(config.quote) if config is not None else ""
        markets = ", ".join(market_keys)
        raise ConfigError(f"axes.{name}.quote: no market of this snapshot ({markets}) lists "
                          f"{quote}: check the symbol or address, or scan a market that "
                          "prices it")
    axis = usable[0][1]
    if not ratio:
        return axis
    return replace(axis, reference_price_8dec=(
        axis.reference_price_8dec * UNIT_8DEC // axis.quote_price_8dec))

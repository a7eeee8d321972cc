"""Format 8-decimal integers for people: $1,781.09, $412.3M, -8.2%."""

from __future__ import annotations

from decimal import Decimal

from scanner.domain import Band, Share

UNIT_8DEC = 10**8


def usd_8dec_to_decimal(value_8dec: int) -> Decimal:
    return Decimal(value_8dec).scaleb(-8)


def usd_price(value_8dec: int) -> str:
    """$1,781.09 (to the cent, rounded half-even)."""
    return f"${usd_8dec_to_decimal(value_8dec):,.2f}"


def axis_price(value_8dec: int, unit: str = "USD") -> str:
    """A price on an axis: $1,781.09 in USD; `0.9731 WETH` on a ratio axis (quote units)."""
    if unit == "USD":
        return usd_price(value_8dec)
    return f"{usd_8dec_to_decimal(value_8dec):,.4f} {unit}"


def usd_compact(value_8dec: int) -> str:
    """$412.3M, $1.2B, $950.0K, $12.34."""
    value = usd_8dec_to_decimal(value_8dec)
    for scale, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K")):
        if abs(value) >= scale:
            return f"${value / scale:,.1f}{suffix}"
    return f"${value:,.2f}"


def counted(number: int, noun: str) -> str:
    """`1 position`, `1,204 positions`: the count and its noun, singular for one."""
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def pct_bps(value_bps: int) -> str:
    return f"{value_bps / 100:+.1f}%"


def band_line(band: Band, unit: str = "USD") -> str:
    """`ETH  $1,781.09 - $1,862.02   $412.3M collateral   1,204 positions   -8.2% to -4.1%`,
    ending in `   wall` for a wall (a ratio axis: `0.9731 WETH - 0.9802 WETH`)."""
    return (
        f"{band.axis + ' ':<5}{axis_price(band.low_8dec, unit)} - "
        f"{axis_price(band.high_8dec, unit)}   "
        f"{usd_compact(band.collateral_usd_8dec)} collateral   "
        f"{counted(band.positions, 'position')}   "
        f"{pct_bps(band.distance_low_bps)} to {pct_bps(band.distance_high_bps)}"
        + ("   wall" if band.kind == "wall" else "")
    )


def share_lines(shares: tuple[Share, ...]) -> list[str]:
    """A band's breakdown: one line per protocol, then per market, largest collateral first."""
    by_protocol: dict[str, list[int]] = {}
    for s in shares:
        sums = by_protocol.setdefault(s.protocol, [0, 0])
        sums[0] += s.collateral_usd_8dec
        sums[1] += s.positions
    lines = [f"{protocol:<22}{usd_compact(c):>10} collateral  {counted(n, 'position')}"
             for protocol, (c, n) in sorted(by_protocol.items(), key=lambda kv: -kv[1][0])]
    lines += [f"  {s.market_key:<20}{usd_compact(s.collateral_usd_8dec):>10} collateral  "
              f"{counted(s.positions, 'position')}"
              for s in sorted(shares, key=lambda s: (-s.collateral_usd_8dec, s.market_key))]
    return lines

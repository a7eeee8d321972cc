"""Format 8-decimal integers for people: $1,781.09, $412.3M, -8.2%."""

from __future__ import annotations

from decimal import Decimal

from scanner.domain import Band

UNIT_8DEC = 10**8


def usd_8dec_to_decimal(value_8dec: int) -> Decimal:
    return Decimal(value_8dec).scaleb(-8)


def usd_price(value_8dec: int) -> str:
    """$1,781.09 (to the cent, rounded half-even)."""
    return f"${usd_8dec_to_decimal(value_8dec):,.2f}"


def usd_compact(value_8dec: int) -> str:
    """$412.3M, $1.2B, $950.0K, $12.34."""
    value = usd_8dec_to_decimal(value_8dec)
    for scale, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K")):
        if abs(value) >= scale:
            return f"${value / scale:,.1f}{suffix}"
    return f"${value:,.2f}"


def pct_bps(value_bps: int) -> str:
    return f"{value_bps / 100:+.1f}%"


def band_line(band: Band) -> str:
    """`ETH  $1,781.09 - $1,862.02   $412.3M collateral   1,204 positions   -8.2% to -4.1%`,
    ending in `   wall` for a wall."""
    return (
        f"{band.axis:<5}{usd_price(band.low_8dec)} - {usd_price(band.high_8dec)}   "
        f"{usd_compact(band.collateral_usd_8dec)} collateral   "
        f"{band.positions:,} positions   "
        f"{pct_bps(band.distance_low_bps)} to {pct_bps(band.distance_high_bps)}"
        + ("   wall" if band.kind == "wall" else "")
    )

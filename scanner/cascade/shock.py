"""The shock a cascade starts from: `--shock -5%` (signed percent) or `--to PRICE` (USD)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from scanner.errors import UsageError

MAX_FALL_PCT = Decimal(99)  # -100% is a zero price: no market left to sell into
MAX_RISE_PCT = Decimal(1000)
CURVE_STEPS_PCT = tuple(range(1, 41))  # the cascade curve: shocks of 1% .. 40% each way
USD_8DEC = 10**8


def parse_shock_bps(text: str) -> int:
    """'-5%' -> -500, '+12.5%' -> 1250; UsageError naming the fix otherwise."""
    body = text.strip()
    if not body.endswith("%") or body[:1] not in "+-" or len(body) < 3:
        raise UsageError(f"--shock {text!r}: write a signed percentage, e.g. -5% or +5%")
    try:
        pct = Decimal(body[1:-1])
    except InvalidOperation:
        raise UsageError(
            f"--shock {text!r}: write a signed percentage, e.g. -5% or +5%") from None
    if not pct.is_finite() or pct <= 0:
        raise UsageError(f"--shock {text!r}: the move must be a non-zero percentage")
    limit = MAX_FALL_PCT if body[0] == "-" else MAX_RISE_PCT
    if pct > limit:
        raise UsageError(f"--shock {text!r}: at most {body[0]}{limit}%")
    bps = int(pct * 100)
    if bps == 0:
        raise UsageError(f"--shock {text!r}: the move must be at least 0.01%")
    return -bps if body[0] == "-" else bps


def shocked_price_8dec(price_now_8dec: int, shock_bps: int) -> int:
    return price_now_8dec * (10_000 + shock_bps) // 10_000


def parse_to_price_8dec(text: str) -> int:
    try:
        value = Decimal(text.replace(",", "").removeprefix("$"))
    except InvalidOperation:
        raise UsageError(f"--to {text!r}: not a price; write USD, e.g. --to 2500") from None
    if not value.is_finite() or value <= 0 or value >= Decimal(10) ** 60:
        raise UsageError(f"--to {text!r}: the price must be positive and finite")
    price = int(value * USD_8DEC)
    if price == 0:
        raise UsageError(f"--to {text!r}: below one hundred-millionth of a dollar")
    return price

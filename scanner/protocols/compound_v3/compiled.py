"""A Comet account's liquidity as a function of the axis price, compiled once per curve.

`CometCurve.healthy` is asked ~30 times per position; the generic path rebuilds every feed's
price at x (`prices_at`) and walks the market's assets each time. Here the held assets, their
balances, scales, factors and feed answers now are read once; `liquidity(x)` then floors the
same way as `rule.liquidity_8dec` over `curve.prices_at(x)`:

    price(x) = max(p * (x if member else now) // (x if the unit moves else now), 1)
    liquidity = signedMulPrice(presentValue(principal), base price, baseScale)
              + Σ mulFactor(mulPrice(balance, price, scale), liquidateCollateralFactor)

Each price is p * x // x = p, p * x // now (rises), p * now // x (falls) or p: every term is
monotone in x, so the liquidity is when all the moving terms push the same way
(`monotone_sign`); the seed solves the unfloored sum A + B (x / now)^e = 0.
"""

from __future__ import annotations

from scanner.protocols.compound_v3.rule import FACTOR_SCALE, present_value, signed_mul_price
from scanner.protocols.compound_v3.state import CometMarketState, CometUser

# (balance_raw, feed price now (8 dec), is an axis member, scale, liquidate factor)
HeldAsset = tuple[int, int, bool, int, int]


class CompiledComet:
    """The account's terms, ready for `liquidity(x)`."""

    __slots__ = ("base_moves", "base_price_8dec", "base_scale", "held", "now", "present_raw",
                 "unit_moves")

    def __init__(self, present_raw: int, base_price_8dec: int, base_moves: bool,
                 unit_moves: bool, base_scale: int, held: tuple[HeldAsset, ...],
                 now: int) -> None:
        self.present_raw = present_raw
        self.base_price_8dec = base_price_8dec
        self.base_moves = base_moves
        self.unit_moves = unit_moves
        self.base_scale = base_scale
        self.held = held
        self.now = now

    def liquidity(self, x: int) -> int:
        now = self.now
        den = x if self.unit_moves else now
        base = max(self.base_price_8dec * (x if self.base_moves else now) // den, 1)
        total = signed_mul_price(self.present_raw, base, self.base_scale)
        for balance, price, moves, scale, factor in self.held:
            total += (balance * max(price * (x if moves else now) // den, 1) // scale
                      * factor // FACTOR_SCALE)
        return total

    def valuation(self, x: int) -> tuple[int, int, int]:
        """(Σ collateral value, Σ liquidation-weighted value, debt value) at x, native 8 dec:
        `CometCurve._held` and the debt over `prices_at(x)`, floored the same way."""
        now = self.now
        den = x if self.unit_moves else now
        collateral = weighted = 0
        for balance, price, moves, scale, factor in self.held:
            value = balance * max(price * (x if moves else now) // den, 1) // scale
            collateral += value
            weighted += value * factor // FACTOR_SCALE
        base = max(self.base_price_8dec * (x if self.base_moves else now) // den, 1)
        return collateral, weighted, -self.present_raw * base // self.base_scale

    def _exponent(self, moves: bool) -> int:
        """How a feed's price at x scales with x / now: +1, -1 or 0."""
        if moves == self.unit_moves:
            return 0
        return 1 if moves else -1

    def monotone_sign(self) -> int | None:
        """+1 / -1 / 0 (pipeline/monotone.py); None when moving terms push both ways."""
        pushes = {self._exponent(moves) for balance, _, moves, _, _ in self.held if balance}
        if self.present_raw:
            pushes.add(-self._exponent(self.base_moves))  # more debt value: less liquidity
        pushes.discard(0)
        if len(pushes) > 1:
            return None
        return pushes.pop() if pushes else 0

    def seed(self, sign: int) -> int | None:
        """The boundary (DOWN: smallest healthy x; UP: largest): exact when one term moves
        (its price's floors inverted), from the unfloored sum when several do."""
        held = [h for h in self.held if h[0]]
        moving = [h for h in held if self._exponent(h[2])]
        base_e = -self._exponent(self.base_moves) if self.present_raw else 0
        if len(moving) + (1 if base_e else 0) != 1:
            return self._float_seed(sign)
        fixed = sum(balance * max(price, 1) // scale * factor // FACTOR_SCALE
                    for balance, price, moves, scale, factor in held if not self._exponent(moves))
        if base_e:  # only the debt moves: the largest base price with liquidity >= 0
            # floor(|pv| * B / scale) <= fixed
            price = ((fixed + 1) * self.base_scale - 1) // -self.present_raw
            return self._x_at_price(self.base_price_8dec, self._exponent(self.base_moves),
                                    price, highest=True)
        balance, feed, moves, scale, factor = moving[0]
        debt = -signed_mul_price(self.present_raw, max(self.base_price_8dec, 1), self.base_scale)
        need = debt - fixed  # floor(floor(balance * Q / scale) * factor / 1e18) >= need
        value = -((-need * FACTOR_SCALE) // factor) if factor else need
        price = max(-((-value * scale) // balance), 1)
        return self._x_at_price(feed, self._exponent(moves), price, highest=False)

    def _x_at_price(self, feed: int, exponent: int, price: int, highest: bool) -> int | None:
        """Where the feed's price at x crosses `price`: with highest=False the x's whose price
        is >= price (collateral), else <= price (debt); the boundary x of that set."""
        now = self.now
        if feed <= 0 or price <= 0:
            return None
        if exponent > 0:  # feed * x // now: rises with x
            if highest:
                return ((price + 1) * now - 1) // feed  # largest x with price(x) <= price
            return -((-price * now) // feed)  # smallest x with price(x) >= price
        if highest:  # feed * now // x falls: the smallest x with price(x) <= price
            return feed * now // (price + 1) + 1
        return feed * now // price  # largest x with price(x) >= price

    def _float_seed(self, sign: int) -> int | None:
        fixed = moving = 0.0
        exponent = 0
        debt = self.present_raw * self.base_price_8dec / self.base_scale
        terms = [(debt, self.base_moves)] + [
            (balance * price / scale * factor / FACTOR_SCALE, moves)
            for balance, price, moves, scale, factor in self.held]
        for value, moves in terms:
            e = self._exponent(moves)
            if e:
                moving, exponent = moving + value, e
            else:
                fixed += value
        if not exponent or not moving or -fixed / moving <= 0:
            return None
        ratio = (-fixed / moving) ** (1 / exponent)
        if not 0 < ratio < 1e12:
            return None
        estimate = ratio * self.now
        return int(estimate) + 1 if sign > 0 else int(estimate)


def compile_comet(user: CometUser, market: CometMarketState, members: frozenset[str],
                  unit_moves: bool, now: int) -> CompiledComet | None:
    """None for a non-borrower or a held asset without a feed answer (the generic path)."""
    basic = user.basic
    if basic.principal >= 0:
        return None
    prices = market.prices
    held: list[HeldAsset] = []
    for asset in sorted(market.assets, key=lambda a: a.offset):
        if basic.assets_in >> asset.offset & 1:
            price = prices.collateral_8dec.get(asset.asset)
            if price is None:
                return None  # liquidity_8dec raises there
            held.append((basic.collateral_raw.get(asset.asset, 0), price,
                         asset.asset in members, asset.scale,
                         asset.liquidate_collateral_factor_wad))
    return CompiledComet(present_value(basic.principal, market.accrued_totals),
                         prices.base_8dec, market.base_token in members, unit_moves,
                         market.base_scale, tuple(held), now)

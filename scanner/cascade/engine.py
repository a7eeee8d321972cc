"""The liquidation spiral, round by round, to its fixpoint.

    shock the axis to x0
    repeat:
      1. every position the protocol would liquidate at x_k (each protocol's own
         `liquidation_sale`: close factor, bonus, one collateral per call, partial or whole)
      2. the collateral sold on the market, summed by asset over the round
      3. every axis member sold so far, summed since the shock, sold together through the
         DepthModel's `sell_basket` from the prices at x0: an LST through its own pools, whose
         WETH goes into the same WETH/USDC pool as the WETH collateral (one market state, not
         one fresh pool per asset); x_{k+1} = x0 times the axis reference's price ratio
         after/before, read on the reference's own market after all of it (an LST's ratio
         pool moves that LST's market price, not the axis)
    until a round liquidates nothing (the fixpoint) or MAX_ROUNDS.

The price is a function of everything sold since the shock, not of the rounds it came in:
for a Uniswap v3 pool the two are the same (a pool's state is a function of its price), but
an impact model that is concave in the amount (the square-root book) would otherwise charge a
sale split over rounds more than the same sale at once -- so a smaller shock could end lower
than a larger one. A round's proceeds are the cumulative proceeds' increase.

A falling axis liquidates longs (DOWN positions) and their axis collateral is sold; a rising
axis liquidates shorts, whose liquidators buy the axis debt they repay -- moved through the
model's `buy` (else the price stays where the shock put it: `buy_modelled` False); buys are
still priced one asset at a time, each from the same start, the axis moving by the product
of their ratios (a squeeze bought in several members at once is not basketed yet).

Positions liquidatable now (at the snapshot's price, before any shock) are liquidated whatever
the shock: by default they are left out of the spiral and reported apart (`NowSummary`:
what liquidating them at the snapshot's price puts on the market), so that each point of a
curve is what the shock itself sets off; `include_now` puts them in round 0 of every shock
(the pessimistic view: nobody has liquidated them yet when the shock comes). One the axis
does not move is no part of this axis's spiral either way.
A partly liquidated position (Aave's close factor, Maker's hole) stays in play with
what is left and is liquidated again in a later round if the price keeps moving.
Protocol state several positions draw on (a `Ledger`: Maker's Hole/hole room, Liquity's
Stability Pool and system) is used up across the cascade's liquidations, rounds included.

Pure: no I/O. Prices are the snapshot's axis price (USD, 8 dec); each position's own curve
takes the same relative move in its oracle's terms, as `pipeline/liquidation.py` maps them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from scanner.cascade.depth import BasketResult, DepthModel, SaleResult
from scanner.cascade.sale import (
    Ledger,
    LiquidationSale,
    SaleFunction,
    SoldCollateral,
    merge_sold,
)
from scanner.domain import Address, Band, Direction

MAX_ROUNDS = 200  # a spiral still moving after this many rounds is reported unconverged
USD_8DEC = 10**8


@runtime_checkable
class BuyingDepthModel(Protocol):
    """A depth model that also prices buys (a short squeeze): price_after >= price."""

    def buy(self, asset: Address, amount_raw: int, price_usd: float) -> SaleResult: ...


@dataclass
class Exposure:
    """One position on the axis, as the engine follows it through the spiral."""

    market_key: str
    protocol: str
    account: Address
    curve: Any  # the protocol's HealthCurve of what is left of the position
    sale: SaleFunction  # the protocol's liquidation_sale
    direction: Direction | None  # from the scan: the side on which the axis liquidates it
    level_8dec: int | None  # its liquidation price on the axis (None: liquidatable now / none)
    axis_now_8dec: int  # the snapshot's axis price the level is relative to
    symbols: Mapping[Address, str] = field(default_factory=dict)  # the market's tokens
    ledger: Ledger | None = None  # the protocol state its liquidation uses up, if shared
    liquidatable_now: bool = False  # liquidatable at the snapshot's price, before any shock

    def named(self, items: tuple[SoldCollateral, ...]) -> tuple[SoldCollateral, ...]:
        """Each item with both its address and its symbol (a protocol may know only one)."""
        by_symbol = {symbol: address for address, symbol in self.symbols.items()}
        return tuple(replace(item, asset=item.asset or by_symbol.get(item.symbol, ""),
                             symbol=item.symbol or self.symbols.get(item.asset, ""))
                     for item in items)

    def native(self, x_8dec: int) -> int:
        """The axis at x in the curve's own terms (the same relative move)."""
        return int(self.curve.price_now * x_8dec // self.axis_now_8dec)

    def reached(self, x_8dec: int, liquidated_before: bool) -> bool:
        """Worth asking the protocol at x: the level is crossed, or it is already in play. A
        position drawing on a ledger is always asked: what others' liquidations did to the
        shared state (a Liquity redistribution) moves its level away from the scan's."""
        if liquidated_before or self.level_8dec is None or self.ledger is not None:
            return True
        if self.direction is Direction.DOWN:
            return x_8dec < self.level_8dec
        return x_8dec > self.level_8dec


@dataclass(frozen=True)
class PositionLiquidation:
    market_key: str
    protocol: str
    account: Address
    calls: int
    sold_usd_8dec: int
    debt_repaid_usd_8dec: int
    bad_debt_usd_8dec: int
    closed: bool  # nothing left to liquidate
    debt_redistributed_usd_8dec: int = 0  # moved to other positions (Liquity), not repaid
    store_discount_usd_8dec: int = 0  # given up selling its collateral (Compound v3)


@dataclass(frozen=True)
class CascadeRound:
    index: int  # 0 = the shock
    price_8dec: int  # the axis price these liquidations happen at
    price_after_8dec: int  # after the round's forced sales (buys for shorts)
    liquidations: tuple[PositionLiquidation, ...]
    sold: tuple[SoldCollateral, ...]  # by asset, the round's total
    sold_usd_8dec: int
    debt_repaid_usd_8dec: int
    bad_debt_usd_8dec: int
    proceeds_usd_8dec: int  # what the axis sales raised through the depth model
    bands_crossed: tuple[int, ...]  # ranks of the snapshot's bands in [after, price]

    @property
    def positions(self) -> int:
        return len(self.liquidations)

    @property
    def debt_redistributed_usd_8dec(self) -> int:
        return sum(liq.debt_redistributed_usd_8dec for liq in self.liquidations)

    @property
    def store_discount_usd_8dec(self) -> int:
        return sum(liq.store_discount_usd_8dec for liq in self.liquidations)


@dataclass(frozen=True)
class NowSummary:
    """The positions liquidatable at the snapshot's price, before any shock: one liquidation
    each at that price (no spiral), both directions."""

    positions: int = 0
    sold_usd_8dec: int = 0
    debt_repaid_usd_8dec: int = 0
    bad_debt_usd_8dec: int = 0


@dataclass(frozen=True)
class CascadeResult:
    axis: str
    direction: Direction
    price_now_8dec: int
    shock_price_8dec: int
    final_price_8dec: int
    rounds: tuple[CascadeRound, ...]
    converged: bool  # False: still liquidating after MAX_ROUNDS
    buy_modelled: bool = True  # a rise without a buying model keeps the shocked price
    bands_crossed_by_shock: tuple[int, ...] = ()  # ranks of the bands between now and x0
    includes_now: bool = False  # the positions liquidatable now are in round 0
    now: NowSummary = NowSummary()  # those positions, apart

    @property
    def positions_liquidated(self) -> int:
        return len({(liq.market_key, liq.account) for r in self.rounds for liq in r.liquidations})

    @property
    def sold_usd_8dec(self) -> int:
        return sum(r.sold_usd_8dec for r in self.rounds)

    @property
    def debt_repaid_usd_8dec(self) -> int:
        return sum(r.debt_repaid_usd_8dec for r in self.rounds)

    @property
    def bad_debt_usd_8dec(self) -> int:
        return sum(r.bad_debt_usd_8dec for r in self.rounds)

    @property
    def store_discount_usd_8dec(self) -> int:
        return sum(r.store_discount_usd_8dec for r in self.rounds)

    @property
    def move_after_shock_bps(self) -> int:
        """How far the forced selling carried the price beyond the shock (signed bps)."""
        return (self.final_price_8dec - self.shock_price_8dec) * 10_000 // self.shock_price_8dec


def run_cascade(
    axis: str, price_now_8dec: int, shock_price_8dec: int, exposures: Sequence[Exposure],
    depth: DepthModel, member_usd_now_8dec: Mapping[Address, int], bands: Sequence[Band] = (),
    include_now: bool = False, reference: Address | None = None,
) -> CascadeResult:
    """Follow the spiral from `shock_price_8dec`. `member_usd_now_8dec`: each axis member's USD
    price at the snapshot (it moves by the axis ratio); `bands`: the snapshot's, for crossings;
    `include_now`: the positions liquidatable now enter round 0 (else they are reported apart);
    `reference`: the axis reference asset whose price the axis is (default: the one member
    priced, when there is one)."""
    if shock_price_8dec <= 0:
        raise ValueError("the shocked price must be positive")
    direction = Direction.DOWN if shock_price_8dec <= price_now_8dec else Direction.UP
    buys = isinstance(depth, BuyingDepthModel)
    now = liquidatable_now(exposures, price_now_8dec, depth)
    followed = [e for e in exposures if include_now or not e.liquidatable_now]
    done = _Done(axis, direction, price_now_8dec, shock_price_8dec,
                 buys or direction is Direction.DOWN, include_now, now)
    book = _Book([replace(e) for e in followed], depth)  # the caller's exposures stay as they were
    rounds: list[CascadeRound] = []
    price = shock_price_8dec
    by_shock = _crossed(bands, axis, direction, price_now_8dec, shock_price_8dec)
    from_shock = _Mover(depth, member_usd_now_8dec, price_now_8dec, shock_price_8dec,
                        reference)
    pressed: list[SoldCollateral] = []  # every axis member sold (bought) since the shock
    proceeds_so_far_8dec = 0
    for index in range(MAX_ROUNDS):
        sales = book.liquidate_at(price, direction)
        if not sales:
            return done.result(price, rounds, True, by_shock)
        pressed += [s for _, sale in sales for s in (
            sale.sold if direction is Direction.DOWN else sale.repaid) if s.on_axis]
        after, proceeds_8dec = from_shock.apply(merge_sold(pressed), direction, buys)
        rounds.append(_round(index, price, after, sales, proceeds_8dec - proceeds_so_far_8dec,
                             bands, axis, direction))
        proceeds_so_far_8dec, price = proceeds_8dec, after
        book.settle()
    return done.result(price, rounds, False, by_shock)


@dataclass(frozen=True)
class _Done:
    """What a cascade's result holds besides its path."""

    axis: str
    direction: Direction
    price_now_8dec: int
    shock_price_8dec: int
    buy_modelled: bool
    includes_now: bool
    now: NowSummary

    def result(self, final_8dec: int, rounds: list[CascadeRound], converged: bool,
               by_shock: tuple[int, ...]) -> CascadeResult:
        return CascadeResult(self.axis, self.direction, self.price_now_8dec,
                             self.shock_price_8dec, final_8dec, tuple(rounds), converged,
                             self.buy_modelled, by_shock, self.includes_now, self.now)


def liquidatable_now(exposures: Sequence[Exposure], price_now_8dec: int,
                     depth: DepthModel | None = None) -> NowSummary:
    """Every position liquidatable at the snapshot's price, liquidated there once (each
    direction's book apart, ledgers included): what they put on the market before any shock."""
    sales = []
    for direction in Direction:
        book = _Book([replace(e) for e in exposures
                      if e.liquidatable_now and e.direction is direction], depth)
        sales += book.liquidate_at(price_now_8dec, direction)
    return NowSummary(len(sales), sum(s.sold_usd_8dec for _, s in sales),
                      sum(s.debt_repaid_usd_8dec for _, s in sales),
                      sum(s.bad_debt_usd_8dec for _, s in sales))


class _Book:
    """The positions still in play, and which of them were liquidated before."""

    def __init__(self, exposures: list[Exposure], depth: DepthModel | None = None) -> None:
        self.open = exposures
        self.depth = depth  # the market a protocol's buyer resells on (Ledger.resell)
        self.touched: set[int] = set()
        self.shared: dict[tuple[str, object], Any] = {}  # each ledger's state, as used so far
        self.ledgers: dict[tuple[str, object], Ledger] = {}

    def liquidate_at(self, x_8dec: int, direction: Direction
                     ) -> list[tuple[Exposure, LiquidationSale]]:
        """Every position liquidated at x, in the book's order (the order in which keepers
        reach them is unknown; it matters only where a ledger runs out)."""
        sales = []
        still_open = []
        for exposure in self.open:
            sale = None
            if exposure.direction is direction and exposure.reached(
                    x_8dec, id(exposure) in self.touched):
                sale = self._ask(exposure, exposure.native(x_8dec))
            if sale is not None:
                sales.append((exposure, replace(sale, sold=exposure.named(sale.sold),
                                                repaid=exposure.named(sale.repaid))))
                self.touched.add(id(exposure))
                exposure.curve = sale.after
            if exposure.curve is not None:
                still_open.append(exposure)
        self.open = still_open
        return sales

    def _ask(self, exposure: Exposure, x_native: int) -> LiquidationSale | None:
        """The protocol's sale, on the shared state as earlier liquidations left it."""
        ledger = exposure.ledger
        if ledger is None:
            return exposure.sale(exposure.curve, x_native)
        key = (exposure.market_key, ledger.key(exposure.curve))
        state = self.shared.setdefault(key, ledger.read(exposure.curve))
        self.ledgers[key] = ledger
        curve = ledger.bind(exposure.curve, state)
        if ledger.resell is not None and self.depth is not None:
            curve = ledger.resell(curve, self.depth)
        sale = exposure.sale(curve, x_native)
        if sale is not None and sale.ledger_after is not None:
            self.shared[key] = sale.ledger_after
        return sale

    def settle(self) -> None:
        """A round's end: each ledger's state as its `settle` leaves it (Maker: the round's
        auctions taken, their room given back before the next round's barks)."""
        for key, ledger in self.ledgers.items():
            if ledger.settle is not None:
                self.shared[key] = ledger.settle(self.shared[key])


@dataclass(frozen=True)
class _Mover:
    depth: DepthModel
    member_usd_now_8dec: Mapping[Address, int]
    axis_now_8dec: int
    price_8dec: int

    reference: Address | None

    def apply(self, pressure: tuple[SoldCollateral, ...], direction: Direction, buys: bool
              ) -> tuple[int, int]:
        """(axis price after, proceeds in USD 8 dec) of everything sold (or bought) so far."""
        amounts_raw = {item.asset: item.amount_raw for item in pressure if item.amount_raw > 0}
        for item in pressure:  # the protocol says it moves with the axis: it must be priced
            if item.amount_raw > 0 and item.asset not in self.member_usd_now_8dec:
                raise ValueError(f"no USD price for axis member {item.symbol or item.asset}")
        if not amounts_raw:
            return self.price_8dec, 0
        if direction is Direction.DOWN:
            return self._sold(amounts_raw, self.depth.sell_basket)
        if buys and isinstance(self.depth, BuyingDepthModel):
            return self._bought(amounts_raw, self.depth)
        return self.price_8dec, 0

    def _start_usd(self, asset: Address) -> float:
        """`asset`'s USD price at the shocked axis price x0 (a reference no market lists is
        the axis price itself)."""
        usd_now = self.member_usd_now_8dec.get(asset, self.axis_now_8dec)
        return usd_now * self.price_8dec / self.axis_now_8dec / USD_8DEC

    def _reference(self) -> Address:
        if self.reference is not None:
            return self.reference
        if len(self.member_usd_now_8dec) != 1:
            raise ValueError("name the axis reference: several members are priced")
        return next(iter(self.member_usd_now_8dec))

    def _sold(self, amounts_raw: dict[Address, int], sell_basket: _Basket) -> tuple[int, int]:
        reference = self._reference()
        starts_usd = {asset: self._start_usd(asset) for asset in [*amounts_raw, reference]}
        basket = sell_basket(amounts_raw, starts_usd, reference)
        ratio = basket.reference_price_after_usd / starts_usd[reference]
        return (max(int(self.price_8dec * ratio), 1),
                int(basket.total_proceeds_usd * USD_8DEC))

    def _bought(self, amounts_raw: dict[Address, int], depth: BuyingDepthModel
                ) -> tuple[int, int]:
        ratio, cost_usd = 1.0, 0.0
        for asset, amount_raw in amounts_raw.items():
            start = self._start_usd(asset)
            result = depth.buy(asset, amount_raw, start)
            ratio *= result.price_after_usd / start
            cost_usd += result.proceeds_usd
        return max(int(self.price_8dec * ratio), 1), int(cost_usd * USD_8DEC)


_Basket = Callable[[Mapping[Address, int], Mapping[Address, float], Address], BasketResult]


def _round(index: int, price_8dec: int, after_8dec: int,
           sales: list[tuple[Exposure, LiquidationSale]], proceeds_8dec: int,
           bands: Sequence[Band], axis: str, direction: Direction) -> CascadeRound:
    liquidations = tuple(
        PositionLiquidation(e.market_key, e.protocol, e.account, s.calls, s.sold_usd_8dec,
                            s.debt_repaid_usd_8dec, s.bad_debt_usd_8dec, s.after is None,
                            s.debt_redistributed_usd_8dec, s.store_discount_usd_8dec)
        for e, s in sales)
    sold = merge_sold([item for _, s in sales for item in s.sold])
    return CascadeRound(index, price_8dec, after_8dec, liquidations, sold,
                        sum(s.sold_usd_8dec for _, s in sales),
                        sum(s.debt_repaid_usd_8dec for _, s in sales),
                        sum(s.bad_debt_usd_8dec for _, s in sales), proceeds_8dec,
                        _crossed(bands, axis, direction, price_8dec, after_8dec))


def _crossed(bands: Sequence[Band], axis: str, direction: Direction, from_8dec: int,
             to_8dec: int) -> tuple[int, ...]:
    """Ranks of the bands of `axis` and `direction` that the move from..to enters (rank order);
    a move that does not change the price crosses nothing."""
    if from_8dec == to_8dec:
        return ()
    low, high = sorted((from_8dec, to_8dec))
    return tuple(sorted(b.rank for b in bands if b.axis == axis and b.direction is direction
                        and b.low_8dec <= high and b.high_8dec >= low))

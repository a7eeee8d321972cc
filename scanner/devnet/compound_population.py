"""The seeded Comet borrowers: a pure, deterministic function of (seed, n, the specs).

Each Comet gets `n` plans of varied shape: one or several collaterals, collateral arriving by
`supply`, by a funder's `supplyTo` or by `transferAsset` (only a TransferCollateral log names
the borrower), borrowing by `withdraw` or by `transfer` of the base token (no Withdraw log),
heavy-tailed sizes, dust, accounts with collateral and no debt, and `stressed` ones (near
liquidation, or already liquidatable) that open while their Comet's collateral feeds read
`stress_boost` x the final price. Sizing uses floats with a safety margin; the contracts
decide what is actually opened (a plan that fails to open fails the seeding loudly).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.aave_spec import MarketSpec, load_market_spec
from scanner.devnet.compound_spec import (
    FACTOR_SCALE,
    CometSpec,
    CompoundSpec,
    feed_price_8dec,
    load_compound_spec,
)
from scanner.devnet.keepout import RISE_SMALL, Exposure, Keepout
from scanner.errors import ConfigError

BORROW_MARGIN = 0.995  # of the borrow capacity: the contract rounds against the borrower
_PLAN_SEED_OFFSET = 0x434F4D50  # "COMP": Comet plans differ from other plans with the same seed
Amounts = tuple[tuple[str, int], ...]

# kind -> weight. "stressed" kinds open at boosted collateral prices.
KINDS: dict[str, int] = {
    "single": 30, "multi": 18, "borrow_via_transfer": 10, "collateral_via_transfer": 6,
    "collateral_supply_to": 6, "dust": 6, "no_debt": 3, "near_liquidation": 12, "liquidatable": 4,
}
STRESSED_KINDS = ("near_liquidation", "liquidatable")


@dataclass(frozen=True)
class CometPositionPlan:
    account: str
    comet: str  # CometSpec.key
    kind: str
    collateral: Amounts  # (symbol, amount_raw), in supply order
    borrow_raw: int  # base units; 0 = no debt
    collateral_route: str  # "supply" | "supply_to" | "transfer_asset"
    borrow_route: str  # "withdraw" | "transfer"

    @property
    def stressed(self) -> bool:
        return self.kind in STRESSED_KINDS


def comet_account(seed: int, comet_index: int, index: int) -> str:
    payload = b"liqscan-comet" + b"".join(v.to_bytes(8, "big") for v in (seed, comet_index, index))
    return str(to_checksum_address(keccak(payload)[12:]))


def final_aggregators_8dec(market: MarketSpec) -> dict[str, int]:
    return {r.symbol: r.price_8dec for r in market.reserves}


def _size_quote(rng: random.Random, kind: str, usd_per_quote: float) -> float:
    """Collateral value in the Comet's quote unit: lognormal (median $20k), whales to $25M."""
    if kind == "dust":
        return rng.uniform(20.0, 150.0) / usd_per_quote
    return min(max(rng.lognormvariate(math.log(20_000), 1.5), 300.0), 25_000_000.0) / usd_per_quote


def _collateral_shares(rng: random.Random, comet: CometSpec, kind: str) -> dict[str, float]:
    symbols = [a.symbol for a in comet.assets]
    if kind != "multi":
        return {rng.choice(symbols): 1.0}
    chosen = rng.sample(symbols, rng.randint(2, len(symbols)))
    weights = [rng.uniform(0.2, 1.0) for _ in chosen]
    return {s: w / sum(weights) for s, w in zip(chosen, weights, strict=True)}


def _target(rng: random.Random, kind: str) -> float:
    """Debt as a share of the borrow capacity (normal kinds) or of the liquidation capacity at
    final prices (stressed kinds: < 1 near liquidation, > 1 already liquidatable)."""
    if kind == "near_liquidation":
        return rng.uniform(0.97, 0.995)
    if kind == "liquidatable":
        return rng.uniform(1.01, 1.08)
    return float(rng.uniform(0.15, BORROW_MARGIN) ** 0.6)  # skewed towards the capacity


def _plan(rng: random.Random, account: str, comet: CometSpec, kind: str, market: MarketSpec,
          prices: Mapping[str, int], boost: float) -> tuple[CometPositionPlan, _Sizing]:
    usd_per_quote = 1.0 if comet.quote == "USD" else prices[comet.quote] / 1e8
    size = _size_quote(rng, kind, usd_per_quote)
    amounts: list[tuple[str, int]] = []
    borrow_cap = liquidation_cap = 0.0  # in quote units, at final prices
    for symbol, share in _collateral_shares(rng, comet, kind).items():
        price = feed_price_8dec(prices, symbol, comet.quote) / 1e8
        amount_raw = int(size * share / price * 10 ** market.reserve(symbol).decimals)
        value = amount_raw / 10 ** market.reserve(symbol).decimals * price
        asset = comet.asset(symbol)
        borrow_cap += value * asset.borrow_collateral_factor_wad / FACTOR_SCALE
        liquidation_cap += value * asset.liquidate_collateral_factor_wad / FACTOR_SCALE
        amounts.append((symbol, amount_raw))
    sizing = _Sizing(account, comet, kind, tuple(amounts), borrow_cap, liquidation_cap, market,
                     prices, boost)
    return sizing.plan(_target(rng, kind)), sizing


@dataclass(frozen=True)
class _Sizing:
    """A Comet plan's collateral, drawn; its debt follows from a target (`_target`)."""

    account: str
    comet: CometSpec
    kind: str
    amounts: Amounts
    borrow_cap: float
    liquidation_cap: float
    market: MarketSpec
    prices: Mapping[str, int]
    boost: float

    def plan(self, target: float) -> CometPositionPlan:
        kind, comet, market = self.kind, self.comet, self.market
        debt = (self.liquidation_cap * target if kind in STRESSED_KINDS
                else self.borrow_cap * target)
        if kind in STRESSED_KINDS and debt > self.borrow_cap * self.boost * BORROW_MARGIN:
            raise ConfigError(f"stress_boost {self.boost} too small to open a {kind} position "
                              f"on Comet {comet.key}")
        base_price = feed_price_8dec(self.prices, comet.base, comet.quote) / 1e8
        base_decimals = market.reserve(comet.base).decimals
        borrow_raw = 0 if kind == "no_debt" else int(debt / base_price * 10**base_decimals)
        borrow_min_raw = int(comet.base_borrow_min * 10**base_decimals)
        if kind == "dust":
            borrow_raw = max(borrow_raw, borrow_min_raw)
        if 0 < borrow_raw < borrow_min_raw:
            borrow_raw = 0  # too small to open on this Comet: keeps the collateral, no debt
        collateral_route = {"collateral_via_transfer": "transfer_asset",
                            "collateral_supply_to": "supply_to"}.get(kind, "supply")
        borrow_route = "transfer" if kind == "borrow_via_transfer" else "withdraw"
        return CometPositionPlan(self.account, comet.key, kind, self.amounts, borrow_raw,
                                 collateral_route, borrow_route)

    def redraw(self, rng: random.Random) -> CometPositionPlan:
        return self.plan(_target(rng, self.kind))

    def exposure(self, plan: CometPositionPlan) -> Exposure:
        """USD at the final aggregator prices; liquidate factors as thresholds."""
        def usd(symbol: str, amount_raw: int) -> float:
            reserve = self.market.reserve(symbol)
            return float(amount_raw * self.prices[symbol] / 10**reserve.decimals) / 1e8

        factor = {a.symbol: a.liquidate_collateral_factor_wad / FACTOR_SCALE
                  for a in self.comet.assets}
        return Exposure(tuple((s, usd(s, a), factor[s]) for s, a in plan.collateral),
                        ((self.comet.base, usd(self.comet.base, plan.borrow_raw)),))


def _kinds(rng: random.Random, n: int) -> list[str]:
    names = list(KINDS)
    kinds = names[:n] + rng.choices(names, weights=list(KINDS.values()), k=max(0, n - len(names)))
    rng.shuffle(kinds)
    return kinds


def generate_compound_population(seed: int, n_per_comet: int, spec: CompoundSpec | None = None,
                                 market: MarketSpec | None = None,
                                 keepout: Keepout | None = None) -> list[CometPositionPlan]:
    """`n_per_comet` plans for every Comet of the spec, every kind at least once. Deterministic.
    With a `keepout`, levels inside a planted window are drawn again (scanner.devnet.keepout)."""
    spec = spec or load_compound_spec()
    market = market or load_market_spec()
    if n_per_comet < 0:
        raise ConfigError(f"number of Compound positions must be >= 0, got {n_per_comet}")
    prices = final_aggregators_8dec(market)
    boost = float(spec.stress_boost)
    plans: list[CometPositionPlan] = []
    for comet_index, comet in enumerate(spec.comets):
        rng = random.Random(seed + _PLAN_SEED_OFFSET + comet_index)
        for index, kind in enumerate(_kinds(rng, n_per_comet)):
            account = comet_account(seed, comet_index, index)
            plan, sizing = _plan(rng, account, comet, kind, market, prices, boost)
            if keepout is not None:
                plan = keepout.clear(plan, f"comet/{comet_index}/{index}", sizing.exposure,
                                     sizing.redraw, RISE_SMALL)
            plans.append(plan)
    return plans

"""The planned Aave v2 borrowers: a pure function of (seed, n), so a cached chain is reloaded
and its plans generated again.

Shapes: ETH longs on WETH/wstETH, BTC longs, ETH shorts (stablecoin collateral, WETH debt),
several collaterals with several debts, a USDT deposit that the user enables but that counts
for nothing (LT 0); stable-rate and variable debt; health factors from ~1.02 to ~5.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from scanner.devnet.aave2 import V2MarketSpec, load_v2_spec
from scanner.devnet.aave_spec import MarketSpec, load_market_spec
from scanner.devnet.keepout import RISE_AAVE2, Exposure, Keepout
from scanner.devnet.population import account_address
from scanner.errors import ConfigError

STABLE_RATE, VARIABLE_RATE = 1, 2
_V2_PATH = 2  # account_address(seed, _V2_PATH, i): no collision with the v3 plans
_USD_8DEC = 10**8

# kind -> (weight, collateral choices, debt choices)
RECIPES: dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]] = {
    "eth_long": (30, ("WETH",), ("USDC", "DAI", "USDT")),
    "lst_long": (12, ("wstETH", "WETH"), ("USDC", "DAI")),
    "btc_long": (12, ("WBTC",), ("USDC", "DAI", "WETH")),
    "eth_short": (12, ("USDC", "DAI"), ("WETH",)),
    "mixed": (24, ("WETH", "WBTC", "DAI"), ("USDC", "USDT", "WETH")),
    "lt_zero_deposit": (10, ("WETH", "USDT"), ("DAI",)),
}


@dataclass(frozen=True)
class V2PositionPlan:
    account: str
    kind: str
    wave: int  # 0 opens first (and accrues wave_gap_days more interest), 1 after the gap
    supplies: tuple[tuple[str, int], ...]  # (symbol, raw), deposit order
    borrows: tuple[tuple[str, int, int], ...]  # (symbol, raw, rate mode 1 stable / 2 variable)


def _target_hf(rng: random.Random) -> float:
    """A third near liquidation (1.02-1.12), the rest lognormal up to ~5."""
    if rng.random() < 0.33:
        return rng.uniform(1.02, 1.12)
    return 1.12 + min(rng.lognormvariate(math.log(0.6), 0.8), 4.0)


def _raw(spec: MarketSpec, symbol: str, usd: float) -> int:
    reserve = spec.reserve(symbol)
    unit: int = 10**reserve.decimals
    return int(usd * _USD_8DEC) * unit // reserve.price_8dec


def _plan(v2: V2MarketSpec, prices: MarketSpec, seed: int, i: int, kind: str,
          rng: random.Random, keepout: Keepout | None = None) -> V2PositionPlan:
    _, collaterals, debts = RECIPES[kind]
    size_usd = min(max(rng.lognormvariate(math.log(20_000), 1.3), 500.0), 5_000_000.0)
    shares = [rng.uniform(0.3, 1.0) for _ in collaterals]
    supplies_usd = {s: size_usd * w / sum(shares) for s, w in zip(collaterals, shares, strict=True)}
    target_hf = _target_hf(rng)
    chosen = rng.sample(debts, k=min(len(debts), rng.choice((1, 1, 2))))
    split = [rng.uniform(0.3, 1.0) for _ in chosen]
    modes = [STABLE_RATE if v2.reserve(s).stable and s not in supplies_usd
             and rng.random() < 0.45 else VARIABLE_RATE for s in chosen]

    def plan_at(hf: float) -> V2PositionPlan:
        weighted_lt = sum(u * v2.reserve(s).lt_bps for s, u in supplies_usd.items()) / 10_000
        weighted_ltv = sum(u * v2.reserve(s).ltv_bps for s, u in supplies_usd.items()) / 10_000
        # never above the LTV the pool lets a borrow reach (1% spare for price rounding)
        debt_usd = min(weighted_lt / hf, weighted_ltv * 0.99)
        borrows = [(s, _raw(prices, s, debt_usd * w / sum(split)), mode)
                   for s, w, mode in zip(chosen, split, modes, strict=True)]
        return V2PositionPlan(
            account=account_address(seed, _V2_PATH, i), kind=kind, wave=i % 2,
            supplies=tuple((s, _raw(prices, s, u)) for s, u in supplies_usd.items()),
            borrows=tuple(b for b in borrows if b[1] > 0))

    plan = plan_at(target_hf)
    if keepout is not None:
        plan = keepout.clear(plan, f"aave2/{i}", lambda p: aave2_exposure(v2, prices, p),
                             lambda r: plan_at(_target_hf(r)), RISE_AAVE2)
    return plan


def aave2_exposure(v2: V2MarketSpec, prices: MarketSpec, plan: V2PositionPlan) -> Exposure:
    def usd(symbol: str, amount_raw: int) -> float:
        reserve = prices.reserve(symbol)
        return float(amount_raw * reserve.price_8dec / 10**reserve.decimals) / _USD_8DEC

    return Exposure(
        tuple((s, usd(s, a), v2.reserve(s).lt_bps / 10_000) for s, a in plan.supplies),
        tuple((s, usd(s, a)) for s, a, _ in plan.borrows))


def generate_aave2_population(seed: int, n: int,
                              keepout: Keepout | None = None) -> list[V2PositionPlan]:
    """`n` v2 borrowers of every kind (each kind at least once when n allows); with a
    `keepout`, levels inside a planted window are drawn again (scanner.devnet.keepout)."""
    if n < 0:
        raise ConfigError(f"number of Aave v2 positions must be >= 0, got {n}")
    v2, prices = load_v2_spec(), load_market_spec()
    rng = random.Random(f"liqscan-aave2-{seed}")
    names = list(RECIPES)
    kinds = names[:n] + rng.choices(names, weights=[w for w, _, _ in RECIPES.values()],
                                    k=max(0, n - len(names)))
    return [_plan(v2, prices, seed, i, kind, rng, keepout) for i, kind in enumerate(kinds)]

"""The seeded Aave borrower population: a pure, deterministic function of (seed, n, clusters).

No RPC here. Amounts are computed with an integer mirror of Aave v3.0 `GenericLogic`
(`health_factor_wad`), so each plan carries the health factor the Pool will report after
seeding (final oracle prices), up to interest accrued since.

Planted clusters (`ClusterSpec`) are extra positions on top of the `n` background ones:
single-collateral loans against USDC whose liquidation price lies inside [low, high].
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.aave_spec import MarketSpec, ReserveSpec, load_market_spec, price_to_8dec
from scanner.devnet.keepout import RISE_SMALL, Exposure, Keepout, keepout_for
from scanner.domain import WAD
from scanner.errors import ConfigError

USD_8DEC = 10**8
BPS = 10_000
BORROW_MARGIN_BPS = 9_950  # borrow at most 99.5% of the LTV limit: Aave rounds against us
CLUSTER_EDGE_SHARE = 0.05  # keep planted prices 5% of the range away from its edges
ISOLATED_BUDGET_SHARE = 0.8  # of the isolated asset's debt ceiling
STABLES = ("USDC", "USDT", "DAI")
MAX_UINT256 = (1 << 256) - 1  # the Pool's health factor when there is no debt

Amounts = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ClusterSpec:
    """About `total_usd` of collateral in `asset` whose liquidation prices lie in [low, high]."""

    asset: str
    total_usd: float
    low_usd: float
    high_usd: float
    # The background keeps clear of the window (scanner.devnet.keepout), so the cluster's
    # edges are known exactly (the demo). Off, background positions interleave with it as
    # they would on a chain (the test devnet's low-contrast cluster among eight protocols).
    clear_margin: bool = False

    @classmethod
    def parse(cls, text: str) -> ClusterSpec:
        """`ASSET:USD:LOW:HIGH`, e.g. `WETH:5000000:2400:2500`."""
        parts = text.split(":")
        if len(parts) != 4:
            raise ConfigError(f"cluster {text!r}: expected ASSET:USD:LOW:HIGH")
        try:
            total, low, high = (float(p) for p in parts[1:])
        except ValueError as exc:
            raise ConfigError(f"cluster {text!r}: USD, LOW and HIGH must be numbers") from exc
        return cls(parts[0], total, low, high)

    def key(self) -> str:
        clear = ":clear" if self.clear_margin else ""
        return f"{self.asset}:{self.total_usd}:{self.low_usd}:{self.high_usd}{clear}"


@dataclass(frozen=True)
class AavePositionPlan:
    account: str
    kind: str
    emode: int
    supplies: Amounts  # (symbol, amount_raw), supplied in this order
    borrows: Amounts  # (symbol, amount_raw), variable rate
    intended_health_factor_wad: int  # at the final (post-seeding) oracle prices
    cluster: int | None = None  # index of the ClusterSpec this position was planted for


# --- integer mirror of Aave v3.0 GenericLogic.calculateUserAccountData ------------------


def _lt_ltv_bps(spec: MarketSpec, reserve: ReserveSpec, emode: int) -> tuple[int, int]:
    if emode and reserve.emode_category == emode:
        category = spec.emode(emode)
        return category.lt_bps, category.ltv_bps
    return reserve.lt_bps, reserve.ltv_bps


def account_totals_8dec(spec: MarketSpec, supplies: Amounts, borrows: Amounts, emode: int,
                        prices_8dec: Mapping[str, int]) -> tuple[int, int, int, int]:
    """(total collateral, total debt, avg LT bps, avg LTV bps) as v3.0 computes them:
    values floored per asset, averages floored to whole bps."""
    collateral = lt_sum = ltv_sum = debt = 0
    for symbol, amount_raw in supplies:
        reserve = spec.reserve(symbol)
        value = amount_raw * prices_8dec[symbol] // 10**reserve.decimals
        lt_bps, ltv_bps = _lt_ltv_bps(spec, reserve, emode)
        collateral += value
        lt_sum += value * lt_bps
        ltv_sum += value * ltv_bps
    for symbol, amount_raw in borrows:
        debt += amount_raw * prices_8dec[symbol] // 10 ** spec.reserve(symbol).decimals
    if collateral == 0:
        return 0, debt, 0, 0
    return collateral, debt, lt_sum // collateral, ltv_sum // collateral


def health_factor_wad(spec: MarketSpec, supplies: Amounts, borrows: Amounts, emode: int,
                      prices_8dec: Mapping[str, int]) -> int:
    """HF = percentMul(collateral, avgLT).wadDiv(debt), half-up rounding as in WadRayMath."""
    collateral, debt, lt_bps, _ = account_totals_8dec(spec, supplies, borrows, emode, prices_8dec)
    if debt == 0:
        return MAX_UINT256
    weighted = (collateral * lt_bps + BPS // 2) // BPS
    return (weighted * WAD + debt // 2) // debt


def final_prices(spec: MarketSpec) -> dict[str, int]:
    return {r.symbol: r.price_8dec for r in spec.reserves}


def seed_prices(spec: MarketSpec) -> dict[str, int]:
    return {r.symbol: r.seed_price_8dec for r in spec.reserves}


# --- building one position --------------------------------------------------------------


def _amount_raw(spec: MarketSpec, symbol: str, usd_8dec: int) -> int:
    reserve = spec.reserve(symbol)
    unit_raw: int = 10**reserve.decimals
    return usd_8dec * unit_raw // reserve.seed_price_8dec


def build_plan(spec: MarketSpec, account: str, kind: str, emode: int,
               collateral_usd_8dec: Mapping[str, int], debt_shares: Mapping[str, float],
               target_hf: float, cluster: int | None = None) -> AavePositionPlan:
    """Size the debts so the health factor at seed prices is `target_hf` (capped by the LTV)."""
    supplies = tuple((s, _amount_raw(spec, s, usd)) for s, usd in collateral_usd_8dec.items())
    collateral, _, lt_bps, ltv_bps = account_totals_8dec(spec, supplies, (), emode,
                                                         seed_prices(spec))
    max_debt_8dec = collateral * ltv_bps // BPS * BORROW_MARGIN_BPS // BPS
    debt_8dec = max_debt_8dec  # target_hf 0: as much as the LTV allows
    if target_hf > 0:
        debt_8dec = min(int(collateral * lt_bps / BPS / target_hf), max_debt_8dec)
    borrows = tuple(
        (s, _amount_raw(spec, s, int(debt_8dec * share))) for s, share in debt_shares.items()
    )
    borrows = tuple((s, a) for s, a in borrows if a > 0)
    hf_wad = health_factor_wad(spec, supplies, borrows, emode, final_prices(spec))
    return AavePositionPlan(account, kind, emode, supplies, borrows, hf_wad, cluster)


def account_address(seed: int, *path: int) -> str:
    """A deterministic address: keccak("liqscan-aave", seed, path...)[12:]."""
    payload = b"liqscan-aave" + b"".join(v.to_bytes(8, "big") for v in (seed, *path))
    return str(to_checksum_address(keccak(payload)[12:]))


# --- the background population ----------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A position before sizing: what it holds and how healthy it should be."""

    emode: int
    collateral_shares: Mapping[str, float]
    debt_shares: Mapping[str, float]
    target_hf: float


def _hf(rng: random.Random, near_one: float = 1.0) -> float:
    """Most between 1.05 and 3 (lognormal around 1.55); 5% close to liquidation."""
    if rng.random() < 0.05:
        return near_one * rng.uniform(1.01, 1.05)
    return 1.0 + min(rng.lognormvariate(math.log(0.55), 0.75), 9.0)


def _stable(rng: random.Random) -> str:
    return rng.choices(STABLES, weights=(5, 3, 2))[0]


def _split(rng: random.Random, first: str, second: str) -> dict[str, float]:
    share = rng.uniform(0.2, 0.8)
    return {first: share, second: 1.0 - share}


RECIPES: dict[str, tuple[float, Callable[[random.Random], Draft]]] = {
    "weth_only": (24, lambda r: Draft(0, {"WETH": 1.0}, {_stable(r): 1.0}, _hf(r))),
    "weth_lst": (9, lambda r: Draft(0, _split(r, "WETH", r.choice(("wstETH", "rETH"))),
                                    {_stable(r): 1.0}, _hf(r))),
    "weth_wbtc": (8, lambda r: Draft(0, _split(r, "WETH", "WBTC"), {_stable(r): 1.0}, _hf(r))),
    "weth_stable_collateral": (7, lambda r: Draft(0, _split(r, "WETH", r.choice(("USDC", "DAI"))),
                                                  {"USDT": 1.0}, _hf(r))),
    "multi_debt": (7, lambda r: Draft(0, {"WETH": 1.0}, {"USDC": 0.5, "DAI": 0.3, "USDT": 0.2},
                                      _hf(r))),
    "eth_short": (6, lambda r: Draft(0, {r.choice(("USDC", "DAI")): 1.0}, {"WETH": 1.0}, _hf(r))),
    "emode_loop": (12, lambda r: Draft(1, {r.choice(("wstETH", "rETH")): 1.0}, {"WETH": 1.0},
                                       r.uniform(1.04, 1.25))),
    "isolated": (4, lambda r: Draft(0, {"ISO": 1.0}, {_stable(r): 1.0}, _hf(r))),
    "no_eth": (8, lambda r: Draft(0, {"WBTC": 1.0}, {"USDC": 1.0}, _hf(r))),
    "dust": (6, lambda r: Draft(0, {"WETH": 1.0}, {"USDC": 1.0}, _hf(r))),
    # LINK opens near max LTV; seeding then drops its price below the liquidation point
    "liquidatable": (1, lambda r: Draft(0, {"LINK": 1.0}, {"USDC": 1.0}, 0.0)),
}


def _size_usd(rng: random.Random, kind: str) -> float:
    """Heavy-tailed collateral size: lognormal, median $15k, a few whales up to $30M."""
    if kind == "dust":
        return rng.uniform(5.0, 100.0)
    size = rng.lognormvariate(math.log(15_000), 1.4)
    if kind == "isolated":
        return min(size, 1_000_000.0)
    return min(max(size, 200.0), 30_000_000.0)


def _kinds(rng: random.Random, n: int) -> list[str]:
    """Every kind at least once when n allows it; the rest drawn by weight."""
    names = list(RECIPES)
    kinds = names[:n] + rng.choices(names, weights=[w for w, _ in RECIPES.values()],
                                    k=max(0, n - len(names)))
    rng.shuffle(kinds)
    return kinds


def aave_exposure(spec: MarketSpec, plan: AavePositionPlan) -> Exposure:
    """The plan at the final prices, LTs as the Pool applies them (eMode included)."""
    prices = final_prices(spec)

    def usd(symbol: str, amount_raw: int) -> float:
        return float(amount_raw * prices[symbol] / 10 ** spec.reserve(symbol).decimals) / USD_8DEC

    return Exposure(
        tuple((s, usd(s, a), _lt_ltv_bps(spec, spec.reserve(s), plan.emode)[0] / BPS)
              for s, a in plan.supplies),
        tuple((s, usd(s, a)) for s, a in plan.borrows))


def _with_hf(plan_at: Callable[[float], AavePositionPlan],
             rng: random.Random) -> AavePositionPlan:
    return plan_at(_hf(rng))


def _background(spec: MarketSpec, seed: int, n: int, rng: random.Random,
                keepout: Keepout | None = None) -> list[AavePositionPlan]:
    iso = spec.reserve("ISO")
    isolated_budget_usd = iso.debt_ceiling_usd * ISOLATED_BUDGET_SHARE
    plans: list[AavePositionPlan] = []
    for index, kind in enumerate(_kinds(rng, n)):
        draft = RECIPES[kind][1](rng)
        size_usd = _size_usd(rng, kind)
        if kind == "isolated":  # keep the total isolated debt under the debt ceiling
            size_usd = min(size_usd, isolated_budget_usd)
            isolated_budget_usd -= size_usd * iso.ltv_bps / BPS
        collateral = {s: int(size_usd * share * USD_8DEC)
                      for s, share in draft.collateral_shares.items()}
        plan_at = partial(build_plan, spec, account_address(seed, 0, index), kind, draft.emode,
                          collateral, draft.debt_shares)
        plan = plan_at(draft.target_hf)
        if keepout is not None:
            plan = keepout.clear(plan, f"aave/{index}", partial(aave_exposure, spec),
                                 partial(_with_hf, plan_at), RISE_SMALL)
        plans.append(plan)
    return plans


# --- planted clusters --------------------------------------------------------------------


def _check_cluster(spec: MarketSpec, cluster: ClusterSpec) -> ReserveSpec:
    reserve = spec.reserve(cluster.asset)
    if reserve.lt_bps == 0 or reserve.debt_ceiling_usd or reserve.axis == "USD" \
            or reserve.seed_price_8dec != reserve.price_8dec:
        raise ConfigError(f"cluster asset {cluster.asset}: must be a non-stable, "
                          "non-isolated collateral with a fixed price")
    if not cluster.total_usd > 0:
        raise ConfigError(f"cluster {cluster.key()}: USD total must be > 0")
    if not 0 < cluster.low_usd < cluster.high_usd:
        raise ConfigError(f"cluster {cluster.key()}: need 0 < LOW < HIGH")
    # borrowing is capped by the LTV, so liquidation prices above price*LTV/LT are unreachable
    ceiling_usd = reserve.price_8dec / USD_8DEC * reserve.ltv_bps / reserve.lt_bps
    ceiling_usd *= BORROW_MARGIN_BPS / BPS
    if cluster.high_usd > ceiling_usd:
        raise ConfigError(f"cluster {cluster.key()}: HIGH must be <= {ceiling_usd:.2f} "
                          f"(max LTV at the {cluster.asset} price)")
    return reserve


def _cluster_plans(spec: MarketSpec, seed: int, number: int, cluster: ClusterSpec,
                   rng: random.Random) -> list[AavePositionPlan]:
    """WETH-style single collateral vs USDC debt: liq = debt / (amount * LT) in [low, high]."""
    reserve = _check_cluster(spec, cluster)
    count = int(min(max(cluster.total_usd / 50_000, 5), 200))
    weights = [rng.lognormvariate(0.0, 0.8) for _ in range(count)]
    edge = (cluster.high_usd - cluster.low_usd) * CLUSTER_EDGE_SHARE
    plans = []
    for i, weight in enumerate(weights):
        size_8dec = int(cluster.total_usd * weight / sum(weights) * USD_8DEC)
        liq_8dec = price_to_8dec(round(rng.uniform(cluster.low_usd + edge,
                                                   cluster.high_usd - edge), 8), "cluster")
        # HF = collateral*LT/debt = price/liq for a single collateral
        target_hf = reserve.price_8dec / liq_8dec
        plans.append(build_plan(spec, account_address(seed, 1 + number, i), "cluster", 0,
                                {reserve.symbol: size_8dec}, {"USDC": 1.0}, target_hf, number))
    return plans


def generate_aave_population(seed: int, n: int, clusters: Sequence[ClusterSpec] = (),
                             spec: MarketSpec | None = None) -> list[AavePositionPlan]:
    """`n` background positions of every kind, then the planted clusters. Deterministic."""
    spec = spec or load_market_spec()
    if n < 0:
        raise ConfigError(f"number of Aave positions must be >= 0, got {n}")
    if not 0 <= seed < 2**63 - 1:
        raise ConfigError(f"seed must be in [0, 2**63 - 1), got {seed}")
    for cluster in clusters:
        _check_cluster(spec, cluster)
    rng = random.Random(seed)
    plans = _background(spec, seed, n, rng, keepout_for(seed, clusters, spec))
    for number, cluster in enumerate(clusters):
        plans += _cluster_plans(spec, seed, number, cluster, random.Random(f"{seed}/{number}"))
    return plans

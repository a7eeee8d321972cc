"""Seeded borrowers of the v3.6 market: a pure, deterministic function of (seed, n).

No RPC here. Shapes cover what v3.6 changed: wstETH collateral that only counts inside eModes
1 and 2 (its reserve LT is 0), DAI debt that only eModes allow, eMode positions whose other
collateral keeps its own LT (WBTC, USDC next to wstETH), rETH that becomes LTV-0 in eMode 1,
besides plain longs, shorts, BTC-only, dust and already-liquidatable LINK loans.

Each plan carries the health factor the v3.6 Pool will report at the final prices (before
interest), from an integer mirror of v3.6 GenericLogic: collateral values floored, debt values
rounded up, HF = wadDiv(sum(value * LT), debt) / 1e4 (no averaged, floored LT).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.aave36_spec import Market36Spec, load_market36_spec
from scanner.devnet.keepout import RISE_SMALL, Exposure, Keepout
from scanner.devnet.population import (
    BORROW_MARGIN_BPS,
    BPS,
    MAX_UINT256,
    USD_8DEC,
    AavePositionPlan,
    Amounts,
    Draft,
)
from scanner.domain import WAD
from scanner.errors import ConfigError


def _final_prices(spec: Market36Spec) -> dict[str, int]:
    return {r.symbol: r.price_8dec for r in spec.reserves}


def _seed_prices(spec: Market36Spec) -> dict[str, int]:
    return {r.symbol: r.seed_price_8dec for r in spec.reserves}


def account_totals36_8dec(spec: Market36Spec, supplies: Amounts, borrows: Amounts, emode: int,
                          prices_8dec: Mapping[str, int]) -> tuple[int, int, int, int]:
    """(collateral, debt, sum(value * LT bps), sum(value * LTV bps)) as v3.6 sums them."""
    collateral = lt_sum = ltv_sum = debt = 0
    for symbol, amount_raw in supplies:
        value = amount_raw * prices_8dec[symbol] // 10 ** spec.reserve(symbol).decimals
        lt_bps, ltv_bps = spec.lt_ltv_bps(symbol, emode)
        collateral += value
        lt_sum += value * lt_bps
        ltv_sum += value * ltv_bps
    for symbol, amount_raw in borrows:
        unit = 10 ** spec.reserve(symbol).decimals
        debt += -(-amount_raw * prices_8dec[symbol] // unit)  # MathUtils.mulDivCeil
    return collateral, debt, lt_sum, ltv_sum


def health_factor36_wad(spec: Market36Spec, supplies: Amounts, borrows: Amounts, emode: int,
                        prices_8dec: Mapping[str, int]) -> int:
    """HF = sum(value * LT).wadDiv(debt) / 1e4: wadDiv rounds half up, the / 1e4 floors."""
    _, debt, lt_sum, _ = account_totals36_8dec(spec, supplies, borrows, emode, prices_8dec)
    if debt == 0:
        return MAX_UINT256
    return (lt_sum * WAD + debt // 2) // debt // BPS


def account36_address(seed: int, index: int) -> str:
    """A deterministic address, distinct from the v3.0 population's: keccak("liqscan-aave36"...)."""
    payload = b"liqscan-aave36" + seed.to_bytes(8, "big") + index.to_bytes(8, "big")
    return str(to_checksum_address(keccak(payload)[12:]))


def build_plan36(spec: Market36Spec, account: str, kind: str, draft: Draft,
                 size_usd: float) -> AavePositionPlan:
    """Size the debts so the HF at seed prices is the draft's target (capped by the LTV)."""
    for symbol in draft.debt_shares:
        if not spec.can_borrow(symbol, draft.emode):
            raise ConfigError(f"recipe {kind}: {symbol} is not borrowable in eMode {draft.emode}")
    supplies = tuple(
        (s, int(size_usd * share * USD_8DEC) * 10 ** spec.reserve(s).decimals
         // spec.reserve(s).seed_price_8dec)
        for s, share in draft.collateral_shares.items())
    _, _, lt_sum, ltv_sum = account_totals36_8dec(spec, supplies, (), draft.emode,
                                                  _seed_prices(spec))
    debt_8dec = ltv_sum // BPS * BORROW_MARGIN_BPS // BPS
    if draft.target_hf > 0:
        debt_8dec = min(int(lt_sum / BPS / draft.target_hf), debt_8dec)
    borrows = tuple(
        (s, int(debt_8dec * share) * 10 ** spec.reserve(s).decimals
         // spec.reserve(s).seed_price_8dec)
        for s, share in draft.debt_shares.items())
    borrows = tuple((s, a) for s, a in borrows if a > 0)
    hf_wad = health_factor36_wad(spec, supplies, borrows, draft.emode, _final_prices(spec))
    return AavePositionPlan(account, kind, draft.emode, supplies, borrows, hf_wad)


def _hf(rng: random.Random) -> float:
    """Most between 1.05 and 3 (lognormal around 1.55); 5% close to liquidation."""
    if rng.random() < 0.05:
        return rng.uniform(1.01, 1.05)
    return 1.0 + min(rng.lognormvariate(math.log(0.55), 0.75), 9.0)


def _split(rng: random.Random, first: str, second: str) -> dict[str, float]:
    share = rng.uniform(0.2, 0.8)
    return {first: share, second: 1.0 - share}


def _stable(rng: random.Random) -> str:
    return rng.choice(("USDC", "USDT"))


RECIPES36: dict[str, tuple[float, Callable[[random.Random], Draft]]] = {
    "weth_only": (16, lambda r: Draft(0, {"WETH": 1.0}, {_stable(r): 1.0}, _hf(r))),
    "weth_wbtc": (7, lambda r: Draft(0, _split(r, "WETH", "WBTC"), {"USDC": 1.0}, _hf(r))),
    "eth_short": (5, lambda r: Draft(0, {"USDC": 1.0}, {"WETH": 1.0}, _hf(r))),
    "no_eth": (5, lambda r: Draft(0, {"WBTC": 1.0}, {"USDC": 1.0}, _hf(r))),
    "emode_loop": (8, lambda r: Draft(1, {"WETH": 1.0}, {"WETH": 1.0}, r.uniform(1.04, 1.25))),
    # wstETH counts only inside eMode 1/2 (reserve LT 0)
    "emode_only_loop": (10, lambda r: Draft(1, {"wstETH": 1.0}, {"WETH": 1.0},
                                            r.uniform(1.02, 1.4))),
    "emode_only_stable": (9, lambda r: Draft(2, {"wstETH": 1.0}, {r.choice(("USDC", "DAI")): 1.0},
                                             _hf(r))),
    # eMode collateral next to collateral outside the eMode's bitmap: LTs mix across the axis
    "emode_only_wbtc": (8, lambda r: Draft(1, _split(r, "wstETH", "WBTC"), {"USDC": 1.0}, _hf(r))),
    "emode_only_usdc": (5, lambda r: Draft(1, _split(r, "wstETH", "USDC"), {"DAI": 1.0}, _hf(r))),
    "emode_stable_mix": (4, lambda r: Draft(2, _split(r, "wstETH", "USDC"), {"USDT": 1.0},
                                            _hf(r))),
    # DAI is borrowable only inside eModes
    "emode_dai": (5, lambda r: Draft(1, {"WETH": 1.0}, {"DAI": 1.0}, _hf(r))),
    # rETH goes LTV-0 in eMode 1 after seeding: LT unchanged, ltvZero flag set
    "ltv_zero": (5, lambda r: Draft(1, _split(r, "rETH", "wstETH"), {"WETH": 1.0},
                                    r.uniform(1.05, 1.3))),
    "dust": (4, lambda r: Draft(0, {"WETH": 1.0}, {"USDC": 1.0}, _hf(r))),
    # LINK opens near max LTV; the v3.0 seeding then drops its shared feed below liquidation
    "liquidatable": (1, lambda r: Draft(0, {"LINK": 1.0}, {"USDC": 1.0}, 0.0)),
}


def _size_usd(rng: random.Random, kind: str) -> float:
    if kind == "dust":
        return rng.uniform(5.0, 100.0)
    return min(max(rng.lognormvariate(math.log(15_000), 1.4), 200.0), 30_000_000.0)


def aave36_exposure(spec: Market36Spec, plan: AavePositionPlan) -> Exposure:
    prices = _final_prices(spec)

    def usd(symbol: str, amount_raw: int) -> float:
        return float(amount_raw * prices[symbol] / 10 ** spec.reserve(symbol).decimals) / USD_8DEC

    return Exposure(
        tuple((s, usd(s, a), spec.lt_ltv_bps(s, plan.emode)[0] / BPS) for s, a in plan.supplies),
        tuple((s, usd(s, a)) for s, a in plan.borrows))


def _with_hf(spec: Market36Spec, account: str, kind: str, draft: Draft, size_usd: float,
             rng: random.Random) -> AavePositionPlan:
    return build_plan36(spec, account, kind, replace(draft, target_hf=_hf(rng)), size_usd)


def generate_aave36_population(seed: int, n: int, spec: Market36Spec | None = None,
                               keepout: Keepout | None = None) -> list[AavePositionPlan]:
    """`n` positions, every kind at least once when n allows it. Deterministic. With a
    `keepout`, levels inside a planted window are drawn again (scanner.devnet.keepout)."""
    spec = spec or load_market36_spec()
    if n < 0:
        raise ConfigError(f"number of Aave v3.6 positions must be >= 0, got {n}")
    rng = random.Random(f"aave36/{seed}")
    names = list(RECIPES36)
    kinds = names[:n] + rng.choices(names, weights=[w for w, _ in RECIPES36.values()],
                                    k=max(0, n - len(names)))
    rng.shuffle(kinds)
    plans = []
    for index, kind in enumerate(kinds):
        draft = RECIPES36[kind][1](rng)
        account, size_usd = account36_address(seed, index), _size_usd(rng, kind)
        plan = build_plan36(spec, account, kind, draft, size_usd)
        if keepout is not None:
            plan = keepout.clear(plan, f"aave36/{index}", partial(aave36_exposure, spec),
                                 partial(_with_hf, spec, account, kind, draft, size_usd),
                                 RISE_SMALL)
        plans.append(plan)
    return plans

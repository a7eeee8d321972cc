"""The seeded Maker urns: a pure, deterministic function of (seed, n per ilk).

Each ilk (ETH-A on WETH, WSTETH-A on wstETH, WBTC-A on the 8-decimal WBTC) gets `n` urns of
varied shape: opened through the CdpManager (an UrnHandler is the urn), straight in the Vat,
through the CdpManager and then given to another owner (`give`), or straight in the Vat and
then moved with `fork` to a second account (whole or half). Sizes are heavy-tailed; the
collateral ratio over `mat` is drawn from buckets: at the edge (unsafe once the ilk's stale
rate is dripped), near (unsafe at the OSM's next, lower price), comfortable, far.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import partial

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.keepout import RISE_MAKER, Exposure, Keepout
from scanner.errors import ConfigError

_PLAN_SEED_OFFSET = 0x4D4B5221  # "MKR!": Maker plans differ from other plans with the same seed
ILK_SYMBOLS = {"ETH-A": "WETH", "WSTETH-A": "wstETH", "WBTC-A": "WBTC"}
ROUTES = ("cdp", "cdp", "vat", "cdp_give", "vat_fork_whole", "vat_fork_half")
# bucket -> (weight, lowest and highest collateral ratio over mat, in bps)
RATIO_BUCKETS: dict[str, tuple[int, int, int]] = {
    "edge": (10, 10_005, 10_070),
    "near": (20, 10_080, 10_330),
    "comfortable": (45, 10_400, 16_000),
    "far": (25, 16_000, 40_000),
}
MIN_USD = 12_000  # over the devnet dust (5,000 DAI) at any ratio, after a half fork
MAX_USD = 4_000_000


@dataclass(frozen=True)
class MakerUrnPlan:
    index: int
    ilk: str
    route: str
    owner: str  # opens the vault (CdpManager owner, or the Vat urn itself)
    other: str  # the `give` receiver, or the `fork` destination
    collateral_usd: int
    ratio_over_mat_bps: int
    bucket: str


def account(label: str) -> str:
    return str(to_checksum_address(keccak(text=f"liqscan-maker-{label}")[-20:]))


def maker_exposure(plan: MakerUrnPlan) -> Exposure:
    """Per dollar of collateral: unsafe when the price falls by the ratio over mat."""
    return Exposure(((ILK_SYMBOLS[plan.ilk], 1.0, 1.0),),
                    (("DAI", 10_000 / plan.ratio_over_mat_bps),))


def _redraw(plan: MakerUrnPlan, rng: random.Random) -> MakerUrnPlan:
    """Another ratio from the plan's bucket."""
    _, low, high = RATIO_BUCKETS[plan.bucket]
    return replace(plan, ratio_over_mat_bps=rng.randint(low, high))


def generate_maker_population(seed: int, n_per_ilk: int,
                              keepout: Keepout | None = None) -> list[MakerUrnPlan]:
    """With a `keepout`, ratios inside a planted window are drawn again from their bucket
    (scanner.devnet.keepout)."""
    if n_per_ilk < 0:
        raise ConfigError(f"number of Maker urns per ilk must be >= 0, got {n_per_ilk}")
    rng = random.Random(seed + _PLAN_SEED_OFFSET)
    buckets = list(RATIO_BUCKETS)
    weights = [RATIO_BUCKETS[b][0] for b in buckets]
    plans: list[MakerUrnPlan] = []
    for ilk in ILK_SYMBOLS:
        for i in range(n_per_ilk):
            index = len(plans)
            bucket = rng.choices(buckets, weights)[0]
            _, low, high = RATIO_BUCKETS[bucket]
            usd = int(min(MAX_USD, MIN_USD * rng.paretovariate(0.9)))
            plan = MakerUrnPlan(
                index, ilk, ROUTES[i % len(ROUTES)], account(f"owner-{index}"),
                account(f"other-{index}"), usd, rng.randint(low, high), bucket)
            if keepout is not None:
                plan = keepout.clear(plan, f"maker/{index}", maker_exposure,
                                     partial(_redraw, plan), RISE_MAKER)
            plans.append(plan)
    return plans

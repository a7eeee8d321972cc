"""The seeded Liquity v2 troves: a pure, deterministic function of (seed, n per branch).

The two live branches (WETH, wstETH) get `n` troves each, the rETH branch (shut down by an
oracle failure during the seeding) a few. A trove has its own interest rate or sits in one of
the branch's batches (the batch's rate and management fee); it is opened before the seeding's
liquidations (so it carries a pending redistribution gain) or after them (none). Sizes are
heavy-tailed; the collateral ratio over MCR at opening is drawn from buckets: at the edge
(below MCR once 30+ days of interest and the redistributions land), near, comfortable, far.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.keepout import RISE_LIQUITY2, Exposure, Keepout
from scanner.errors import ConfigError

_PLAN_SEED_OFFSET = 0x424F4C44  # "BOLD": Liquity v2 plans differ from others with one seed
LIVE_BRANCHES = ("WETH", "wstETH")
SHUT_BRANCH = "rETH"
SHUT_BRANCH_TROVES = 8
BATCHES_PER_BRANCH = 3
# bucket -> (weight, lowest and highest collateral ratio over MCR at opening, in bps)
RATIO_BUCKETS: dict[str, tuple[int, int, int]] = {
    "edge": (15, 10_020, 10_250),
    "near": (25, 10_250, 11_500),
    "comfortable": (40, 11_500, 18_000),
    "far": (20, 18_000, 45_000),
}
MIN_USD = 6_000  # over the real MIN_DEBT (2,000 BOLD) at any ratio
MAX_USD = 3_000_000


@dataclass(frozen=True)
class TrovePlan:
    index: int
    branch: str  # the collateral symbol
    owner: str
    owner_index: int
    batch: int | None  # the branch's batch number, None for an individual rate
    rate_bps: int  # an individual trove's annual interest rate
    early: bool  # opened before the redistributions (so it takes a share of them)
    collateral_usd: int
    ratio_over_mcr_bps: int
    bucket: str


def account(label: str) -> str:
    return str(to_checksum_address(keccak(text=f"liqscan-bold-{label}")[-20:]))


def batch_manager(branch: str, number: int) -> str:
    return account(f"batch-{branch}-{number}")


def _plan(rng: random.Random, index: int, branch: str) -> TrovePlan:
    buckets = list(RATIO_BUCKETS)
    bucket = rng.choices(buckets, [RATIO_BUCKETS[b][0] for b in buckets])[0]
    _, low, high = RATIO_BUCKETS[bucket]
    usd = int(min(MAX_USD, MIN_USD * rng.paretovariate(0.9)))
    in_batch = rng.random() < 0.4
    return TrovePlan(index, branch, account(f"owner-{index % 97}"), index,
                     rng.randrange(BATCHES_PER_BRANCH) if in_batch else None,
                     rng.randint(50, 2_500), rng.random() < 0.5, usd,
                     rng.randint(low, high), bucket)


def liquity2_exposure(plan: TrovePlan) -> Exposure:
    """Per dollar of collateral: below MCR when the price falls by the ratio over MCR."""
    return Exposure(((plan.branch, 1.0, 1.0),), (("BOLD", 10_000 / plan.ratio_over_mcr_bps),))


def _kept_clear(plan: TrovePlan, keepout: Keepout | None) -> TrovePlan:
    """The plan, or its ratio drawn again from its bucket until clear of the planted windows."""
    if keepout is None:
        return plan
    _, low, high = RATIO_BUCKETS[plan.bucket]
    return keepout.clear(plan, f"liquity2/{plan.index}", liquity2_exposure,
                         lambda r: replace(plan, ratio_over_mcr_bps=r.randint(low, high)),
                         RISE_LIQUITY2)


def generate_liquity2_population(seed: int, n_per_branch: int,
                                 keepout: Keepout | None = None) -> list[TrovePlan]:
    """With a `keepout`, ratios inside a planted window are drawn again (scanner.devnet.keepout)."""
    if n_per_branch < 0:
        raise ConfigError(f"number of Liquity v2 troves per branch must be >= 0, got "
                          f"{n_per_branch}")
    if n_per_branch == 0:
        return []
    rng = random.Random(seed + _PLAN_SEED_OFFSET)
    plans: list[TrovePlan] = []
    for branch in LIVE_BRANCHES:
        plans += [_plan(rng, len(plans) + i, branch) for i in range(n_per_branch)]
    plans += [_plan(rng, len(plans) + i, SHUT_BRANCH) for i in range(SHUT_BRANCH_TROVES)]
    return [_kept_clear(p, keepout) for p in plans]

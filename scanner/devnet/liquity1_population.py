"""The seeded Liquity v1 troves: a pure, deterministic function of (seed, n).

`n` troves of varied shape, opened in three waves around two redistributions (so troves carry
pending rewards of two, one or no redistribution), plus `victims` opened in the first wave
only to be liquidated by redistribution while the Stability Pool is empty. Sizes are
heavy-tailed; the collateral ratio at opening is drawn from buckets: at the edge (liquidatable
once the final price move lands), near, in the recovery band (below the system's TCR: recovery
mode can take them), comfortable and far.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import partial

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.keepout import RISE_LIQUITY1, Exposure, Keepout
from scanner.errors import ConfigError

_PLAN_SEED_OFFSET = 0x4C515431  # "LQT1": Liquity v1 plans differ from other plans
# bucket -> (weight, lowest and highest ICR at opening, in bps)
ICR_BUCKETS: dict[str, tuple[int, int, int]] = {
    "edge": (8, 11_030, 11_080),
    "near": (17, 11_100, 13_000),
    "recovery_band": (35, 13_000, 16_500),
    "comfortable": (25, 16_500, 25_000),
    "far": (15, 25_000, 60_000),
}
VICTIM_ICR_BPS = (11_100, 11_300)  # liquidated after a 5% fall
MIN_LUSD = 2_000  # above MIN_NET_DEBT (1,800 LUSD) after the fee
MAX_LUSD = 3_000_000
WAVES = 3


@dataclass(frozen=True)
class TrovePlan:
    index: int
    owner: str
    wave: int  # 0: before both redistributions, 1: between them, 2: after them
    lusd: int  # LUSD drawn (the debt adds the 0.5% fee and the 200 LUSD reserve)
    icr_bps: int  # at the opening price
    bucket: str  # an ICR bucket, or "victim"


def account(label: str) -> str:
    return str(to_checksum_address(keccak(text=f"liqscan-liquity1-{label}")[-20:]))


def _victims(n: int) -> int:
    return max(2, n // 40) if n else 0


MCR_BPS = 11_000
FINAL_MOVE_BPS = -40  # the feed's last move (liquity1.py), after every trove opened


def liquity1_exposure(plan: TrovePlan) -> Exposure:
    """Per LUSD of debt, at the feed's final price (opening price moved FINAL_MOVE_BPS)."""
    collateral = plan.icr_bps / 10_000 * (10_000 + FINAL_MOVE_BPS) / 10_000
    return Exposure((("WETH", collateral, 10_000 / MCR_BPS),), (("LUSD", 1.0),))


def icr_clear_of(keepout: Keepout, icr_bps: int) -> int:
    """The lowest ICR from `icr_bps` up (10 bps steps) whose level keeps clear: a higher ICR
    is a lower level, below the planted windows."""
    def exposure(icr: int) -> Exposure:
        return liquity1_exposure(TrovePlan(0, "", 2, 1, icr, "whale"))

    while keepout.blocks(exposure(icr_bps), RISE_LIQUITY1):
        icr_bps += 10
    return icr_bps


def _redraw(plan: TrovePlan, rng: random.Random) -> TrovePlan:
    """Another ICR from the plan's bucket."""
    _, low, high = ICR_BUCKETS[plan.bucket]
    return replace(plan, icr_bps=rng.randint(low, high))


def generate_liquity1_population(seed: int, n: int,
                                 keepout: Keepout | None = None) -> list[TrovePlan]:
    """`n` scanned troves plus the victims (bucket "victim", wave 0 and 1: one round each).
    With a `keepout`, a scanned trove's ICR inside a planted window is drawn again from its
    bucket (scanner.devnet.keepout); victims are liquidated during the seeding."""
    if n < 0:
        raise ConfigError(f"number of Liquity v1 troves must be >= 0, got {n}")
    rng = random.Random(seed + _PLAN_SEED_OFFSET)
    buckets = list(ICR_BUCKETS)
    weights = [ICR_BUCKETS[b][0] for b in buckets]
    plans: list[TrovePlan] = []
    for i in range(n):
        bucket = rng.choices(buckets, weights)[0]
        _, low, high = ICR_BUCKETS[bucket]
        lusd = int(min(MAX_LUSD, MIN_LUSD * rng.paretovariate(0.8)))
        plan = TrovePlan(i, account(f"owner-{i}"), i % WAVES, lusd, rng.randint(low, high),
                         bucket)
        if keepout is not None:
            plan = keepout.clear(plan, f"liquity1/{i}", liquity1_exposure,
                                 partial(_redraw, plan), RISE_LIQUITY1)
        plans.append(plan)
    for v in range(_victims(n)):
        index = len(plans)
        lusd = int(min(MAX_LUSD // 10, MIN_LUSD * 4 * rng.paretovariate(1.0)))
        plans.append(TrovePlan(index, account(f"victim-{v}"), v % 2, lusd,
                               rng.randint(*VICTIM_ICR_BPS), "victim"))
    return plans

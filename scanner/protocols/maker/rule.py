"""Maker (dss) rules as pure integer functions, exactly as the contracts compute them.

Units: `ink`, `art` and pip prices are wad (1e18), `rate`, `spot`, `mat`, `par` and the Jug's
`duty`/`base` ray (1e27), `dust`, `line`, `hole`, `Hole`, `dirt`, `Dirt` rad (1e45), `chop` wad.

- Jug.drip:    rate = rpow(base + duty, now - rho, RAY) * prev / RAY; rpow rounds half up at
               every product; the Vat folds the difference, so its rate becomes exactly that;
- Spotter.poke: spot = rdiv(rdiv(val * 1e9, par), mat) (two floors), 0 when the pip has no value;
- Dog.bark:    unsafe when spot > 0 and ink * spot < art * rate (the stored rate and spot: a keeper
               drips and pokes first, which is what `drip_rate` and `spot_ray` give);
               dart = min(art, room * WAD / rate / chop) with room = min(Hole - Dirt, hole - dirt),
               the whole urn when the remainder would be dusty; dink = ink * dart / art.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.errors import InconsistentDataError

WAD = 10**18
RAY = 10**27
UINT256_MAX = 2**256 - 1


class MakerRevertError(InconsistentDataError):
    """The inputs make the Maker contract itself revert (an overflow guard)."""


def _checked(value: int, what: str) -> int:
    if not 0 <= value <= UINT256_MAX:
        raise MakerRevertError(f"Maker reverts: {what} overflows uint256")
    return value


def rpow(x: int, n: int, base: int) -> int:
    """x**n in fixed point `base`, each product rounded half up (Jug._rpow)."""
    if x == 0:
        return base if n == 0 else 0
    z = base if n % 2 == 0 else x
    half = base // 2
    n //= 2
    while n:
        x = (_checked(_checked(x * x, "rpow x*x") + half, "rpow round")) // base
        if n % 2:
            z = (_checked(_checked(z * x, "rpow z*x") + half, "rpow round")) // base
        n //= 2
    return z


def drip_rate(stored_rate_ray: int, base_ray: int, duty_ray: int, rho: int, timestamp: int) -> int:
    """The ilk's rate once `Jug.drip(ilk)` runs at `timestamp` (Vat.fold adds the difference)."""
    if timestamp < rho:
        raise InconsistentDataError(f"Jug dripped at {rho}, after timestamp {timestamp}")
    factor = rpow(_checked(base_ray + duty_ray, "base + duty"), timestamp - rho, RAY)
    return _checked(factor * stored_rate_ray, "rmul") // RAY


def spot_ray(val_wad: int, has: bool, par_ray: int, mat_ray: int) -> int:
    """What `Spotter.poke` files as the ilk's spot for a pip value."""
    if not has:
        return 0
    if par_ray == 0 or mat_ray == 0:
        raise MakerRevertError("Spotter.poke reverts: par or mat is 0")
    return _checked(val_wad * 10**9 * RAY, "rdiv") // par_ray * RAY // mat_ray


def unsafe(ink_wad: int, art_wad: int, spot: int, rate_ray: int) -> bool:
    """Dog.bark's condition: what it requires before it liquidates (else "Dog/not-unsafe")."""
    return spot > 0 and ink_wad * spot < art_wad * rate_ray


@dataclass(frozen=True)
class ClipperIlk:
    """An ilk's Clipper (`buf`, `tail`, `cusp`) and its StairstepExponentialDecrease abacus
    (`step`, `cut`), read at the scan block (scanner/protocols/maker/auction.py uses them)."""

    buf_ray: int
    tail_s: int
    cusp_ray: int
    step_s: int
    cut_ray: int


@dataclass(frozen=True)
class DogIlk:
    """`Dog.ilks(ilk)` and the Dog's global Hole/Dirt (rad; chop wad); `clip` the ilk's
    Clipper, None when it has none or its abacus is not a stairstep."""

    chop_wad: int
    hole_rad: int
    dirt_rad: int
    hole_total_rad: int  # Dog.Hole
    dirt_total_rad: int  # Dog.Dirt
    clip: ClipperIlk | None = None


@dataclass(frozen=True)
class Bite:
    """What one `bark` takes: gem (wad) and normalised debt (wad), and the auction's tab (rad)."""

    dink_wad: int
    dart_wad: int
    tab_rad: int


def bark_outcome(ink_wad: int, art_wad: int, rate_ray: int, dust_rad: int, dog: DogIlk
                 ) -> Bite | None:
    """Dog.bark's seizure for an unsafe urn; None when bark would revert on the limits
    (liquidation-limit-hit, dusty partial auction, null auction)."""
    if not (dog.hole_total_rad > dog.dirt_total_rad and dog.hole_rad > dog.dirt_rad):
        return None
    if rate_ray == 0 or dog.chop_wad == 0 or art_wad == 0:
        return None
    room = min(dog.hole_total_rad - dog.dirt_total_rad, dog.hole_rad - dog.dirt_rad)
    dart = min(art_wad, room * WAD // rate_ray // dog.chop_wad)
    if art_wad > dart:
        if (art_wad - dart) * rate_ray < dust_rad:
            dart = art_wad
        elif dart * rate_ray < dust_rad:
            return None
    dink = ink_wad * dart // art_wad
    if dink == 0:
        return None
    return Bite(dink, dart, dart * rate_ray * dog.chop_wad // WAD)

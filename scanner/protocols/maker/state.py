"""What is read from Maker at one block (frozen): per ilk the Vat, Jug, Spotter, Dog and pip
values, per urn its ink/art and, for CdpManager vaults, the cdp id and owner."""

from __future__ import annotations

from dataclasses import dataclass

from scanner.domain import Address
from scanner.protocols.maker.rule import DogIlk


@dataclass(frozen=True)
class PipValue:
    """A pip's `peek` (current) or `peep` (next) answer: a wad price and `has`."""

    val_wad: int
    has: bool


@dataclass(frozen=True)
class MakerIlk:
    """One collateral type at the scan block. `rate_ray` is accrued to the block's timestamp
    (as `jug.drip` would make it); `rate_next_ray` to the moment the OSM's next price can
    become current (max(now, zzz + hop)); `spot_ray` as `spotter.poke` would file it now."""

    name: str  # "ETH-A"
    gem: Address
    symbol: str
    Art_wad: int  # the Vat's total normalised debt of the ilk
    stored_rate_ray: int
    stored_spot_ray: int
    line_rad: int
    dust_rad: int
    duty_ray: int
    base_ray: int
    rho: int
    mat_ray: int
    par_ray: int
    pip: Address
    current: PipValue  # pip.peek()
    next: PipValue | None  # pip.peep(); None when the pip is no OSM
    next_time: int  # when `next` can become current (block timestamp when unknown)
    timestamp: int  # the scan block's
    rate_ray: int
    rate_next_ray: int
    spot_ray: int
    dog: DogIlk


@dataclass(frozen=True)
class MakerUrn:
    """`Vat.urns(ilk, urn)` and, for a CdpManager vault, its cdp id and `owns(cdp)`."""

    urn: Address
    ink_wad: int
    art_wad: int
    cdp: int | None
    owner: Address | None

"""Maker on the devnet: our own dss contracts (contracts/src/DevnetMaker*.sol, see their
headers) over the Aave devnet's WETH, wstETH and WBTC, seeded with urns of every shape.

    maker = deploy_and_seed_maker(rpc, aave, plans)

Timeline (all real transactions; the clock moves with evm_increaseTime):
 1. deploy, init the three ilks, two OSM pokes an hour apart so `peek` has a value, poke;
 2. open every planned urn (rate is still exactly 1.0 ray), then `give`s and `fork`s;
 3. 20 days: drip WSTETH-A; 15 more days: drip ETH-A; WBTC-A is never dripped (a 35-day
    stale rate: bark would use it, a keeper drips first);
 4. the medians move (WETH and wstETH -3%, WBTC -2%) and each OSM is poked once: the current
    price stays, the NEXT one (`peep`) is lower; the Spotter pokes every ilk.
Prices come from their own medians, set once from the Aave feeds: moving Maker never touches
the other markets' prices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, getcontext
from typing import Any

from eth_abi.abi import decode

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.maker_population import ILK_SYMBOLS, MakerUrnPlan
from scanner.devnet.own_contracts import (
    Call,
    advance,
    compile_own,
    deploy,
    read_address,
    read_uint,
    send,
)
from scanner.devnet.prices import get_price_usd_8dec
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.solc import CompiledContract
from scanner.errors import ConfigError

SOURCES = ("DevnetMakerVat.sol", "DevnetMakerJug.sol", "DevnetMakerSpotter.sol",
           "DevnetMakerDog.sol", "DevnetMakerOsm.sol", "DevnetMakerCdpManager.sol",
           "DevnetMakerJoin.sol", "DevnetMakerRegistry.sol", "DevnetMakerClipper.sol")
MAX_UINT256 = 2**256 - 1
WAD = 10**18
RAY = 10**27
RAD = 10**45
SECONDS_PER_YEAR = 31_536_000
HOP_SECONDS = 3600
DAY = 86_400


@dataclass(frozen=True)
class IlkParams:
    mat_bps: int
    fee_bps_per_year: int
    hole_dai: int
    next_price_move_bps: int  # the median's move before the last OSM poke (the NEXT price)


ILK_PARAMS = {
    "ETH-A": IlkParams(14_500, 500, 100_000_000, -300),
    "WSTETH-A": IlkParams(15_000, 450, 100_000_000, -300),
    "WBTC-A": IlkParams(14_500, 800, 300_000, -200),  # a small hole: big urns go in parts
}
DUST_DAI = 1_000
LINE_DAI = 10**10
CHOP_WAD = 113 * 10**16
HOLE_TOTAL_DAI = 150_000_000


@dataclass(frozen=True)
class ClipperParams:
    """Every ilk's Clipper, set as the real ETH-A Clipper (StairstepExponentialDecrease)."""

    buf_ray: int = 120 * RAY // 100  # top = feed price x 1.20
    tail_s: int = 8_400  # 140 minutes, then a reset is needed
    cusp_ray: int = 40 * RAY // 100  # or once the price is below 40% of top
    step_s: int = 90  # the price drops every 90 s ...
    cut_ray: int = 99 * RAY // 100  # ... by 1%


CLIPPER = ClipperParams()


@dataclass(frozen=True)
class MakerIlkDeployment:
    name: str
    symbol: str
    gem: str
    decimals: int
    join: str
    median: str
    pip: str  # the OSM
    clip: str  # the Clipper the Dog kicks its auctions on


@dataclass(frozen=True)
class MakerDeployment:
    deployer: str
    vat: str
    jug: str
    spotter: str
    dog: str
    cdp_manager: str
    chainlog: str
    ilk_registry: str
    ilks: tuple[MakerIlkDeployment, ...]
    borrowers: tuple[tuple[str, str], ...]  # (ilk, urn) left with debt by the seeding
    deploy_block: int

    def ilk(self, name: str) -> MakerIlkDeployment:
        for ilk in self.ilks:
            if ilk.name == name:
                return ilk
        raise ConfigError(f"no devnet Maker ilk {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MakerDeployment:
        return cls(**{**data, "ilks": tuple(MakerIlkDeployment(**i) for i in data["ilks"]),
                      "borrowers": tuple((str(a), str(b)) for a, b in data["borrowers"])})


def b32(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


def per_second_ray(fee_bps_per_year: int) -> int:
    getcontext().prec = 60
    yearly = Decimal(10_000 + fee_bps_per_year) / Decimal(10_000)
    return int(yearly ** (Decimal(1) / Decimal(SECONDS_PER_YEAR)) * Decimal(RAY))


def compile_maker_contracts() -> dict[str, CompiledContract]:
    return compile_own(SOURCES)


def _deploy_ilk(rpc: DevnetRpc, c: Mapping[str, CompiledContract], aave: AaveDeployment,
                core: Mapping[str, str], name: str) -> MakerIlkDeployment:
    d, symbol = aave.deployer, ILK_SYMBOLS[name]
    price_wad = get_price_usd_8dec(rpc, aave, symbol) * 10**10
    median = deploy(rpc, c, d, "DevnetMakerMedian", ["uint256"], [price_wad])
    pip = deploy(rpc, c, d, "DevnetMakerOsm", ["address"], [median])
    join = deploy(rpc, c, d, "DevnetMakerGemJoin", ["address", "bytes32", "address"],
                   [core["vat"], b32(name), aave.tokens[symbol]])
    clip = deploy(rpc, c, d, "DevnetMakerClipper", ["address", "address", "address", "bytes32"],
                   [core["vat"], core["spotter"], core["dog"], b32(name)])
    p, ilk = ILK_PARAMS[name], b32(name)
    send(rpc, d, [
        (pip, "kiss(address)", (core["spotter"],)),
        (core["vat"], "rely(address)", (join,)),
        (core["vat"], "init(bytes32)", (ilk,)),
        (core["vat"], "file(bytes32,bytes32,uint256)", (ilk, b32("line"), LINE_DAI * RAD)),
        (core["vat"], "file(bytes32,bytes32,uint256)", (ilk, b32("dust"), DUST_DAI * RAD)),
        (core["jug"], "init(bytes32)", (ilk,)),
        (core["jug"], "file(bytes32,bytes32,uint256)",
         (ilk, b32("duty"), per_second_ray(p.fee_bps_per_year))),
        (core["spotter"], "file(bytes32,bytes32,address)", (ilk, b32("pip"), pip)),
        (core["spotter"], "file(bytes32,bytes32,uint256)",
         (ilk, b32("mat"), p.mat_bps * RAY // 10_000)),
        (core["dog"], "file(bytes32,bytes32,uint256)", (ilk, b32("chop"), CHOP_WAD)),
        (core["dog"], "file(bytes32,bytes32,uint256)", (ilk, b32("hole"), p.hole_dai * RAD)),
        (core["ilk_registry"], "put(bytes32,address,address,uint256,address)",
         (ilk, join, aave.tokens[symbol], aave.decimals[symbol], pip)),
        *_clipper_calls(core["dog"], clip, pip, ilk),
    ])
    return MakerIlkDeployment(name, symbol, aave.tokens[symbol], aave.decimals[symbol], join,
                              median, pip, clip)


def _clipper_calls(dog: str, clip: str, pip: str, ilk: bytes) -> list[Call]:
    """File the Clipper's parameters and wire it to the Dog both ways (the Dog kicks, the
    Clipper digs); its cached chost needs the ilk's dust and chop filed before."""
    p = CLIPPER
    return [*((clip, "file(bytes32,uint256)", (b32(what), value))
              for what, value in (("buf", p.buf_ray), ("tail", p.tail_s), ("cusp", p.cusp_ray),
                                  ("step", p.step_s), ("cut", p.cut_ray))),
            (clip, "file(bytes32,address)", (b32("vow"), dog)),
            (clip, "rely(address)", (dog,)), (dog, "rely(address)", (clip,)),
            (pip, "kiss(address)", (clip,)),  # the Clipper's kick reads the OSM
            (dog, "file(bytes32,bytes32,address)", (ilk, b32("clip"), clip)),
            (clip, "upchost()", ())]


def deploy_maker(rpc: DevnetRpc, aave: AaveDeployment) -> MakerDeployment:
    """Deploy the core and the three ilks; the OSMs hold a current and a next value."""
    c = compile_maker_contracts()
    d = aave.deployer
    vat = deploy(rpc, c, d, "DevnetMakerVat")
    core = {"vat": vat}
    for key, name in (("jug", "DevnetMakerJug"), ("spotter", "DevnetMakerSpotter"),
                      ("dog", "DevnetMakerDog"), ("cdp_manager", "DevnetMakerCdpManager")):
        core[key] = deploy(rpc, c, d, name, ["address"], [vat])
    core["chainlog"] = deploy(rpc, c, d, "DevnetMakerChainlog")
    core["ilk_registry"] = deploy(rpc, c, d, "DevnetMakerIlkRegistry")
    deploy_block = rpc.block_number()
    send(rpc, d, [
        (vat, "rely(address)", (core["jug"],)), (vat, "rely(address)", (core["spotter"],)),
        (vat, "rely(address)", (core["dog"],)),
        (vat, "file(bytes32,uint256)", (b32("Line"), LINE_DAI * 10 * RAD)),
        (core["jug"], "file(bytes32,address)", (b32("vow"), core["dog"])),
        (core["dog"], "file(bytes32,uint256)", (b32("Hole"), HOLE_TOTAL_DAI * RAD)),
        *((core["chainlog"], "setAddress(bytes32,address)", (b32(key), core[field]))
          for key, field in (("MCD_VAT", "vat"), ("MCD_JUG", "jug"), ("MCD_SPOT", "spotter"),
                             ("MCD_DOG", "dog"), ("CDP_MANAGER", "cdp_manager"),
                             ("ILK_REGISTRY", "ilk_registry"))),
    ])
    ilks = tuple(_deploy_ilk(rpc, c, aave, core, name) for name in ILK_SYMBOLS)
    _poke_osms(rpc, d, ilks)  # cur = 0, nxt = price
    advance(rpc, HOP_SECONDS)
    _poke_osms(rpc, d, ilks)  # cur = nxt = price
    _poke_spotter(rpc, d, core["spotter"], ilks)
    return MakerDeployment(d, vat, core["jug"], core["spotter"], core["dog"],
                           core["cdp_manager"], core["chainlog"], core["ilk_registry"], ilks,
                           (), deploy_block)


def _poke_osms(rpc: DevnetRpc, sender: str, ilks: Sequence[MakerIlkDeployment]) -> None:
    send(rpc, sender, [(i.pip, "poke()", ()) for i in ilks])


def _poke_spotter(rpc: DevnetRpc, sender: str, spotter: str,
                  ilks: Sequence[MakerIlkDeployment]) -> None:
    send(rpc, sender, [(spotter, "poke(bytes32)", (b32(i.name),)) for i in ilks])


@dataclass(frozen=True)
class _Sized:
    plan: MakerUrnPlan
    amount_raw: int
    ink_wad: int
    art_wad: int


def _size(rpc: DevnetRpc, maker: MakerDeployment, plan: MakerUrnPlan) -> _Sized:
    # imported here: the protocol package loads its ABIs, which `devnet up` must not need
    # before it has checked the toolchain
    from scanner.protocols.maker.rule import spot_ray

    ilk = maker.ilk(plan.ilk)
    val = read_uint(rpc, ilk.median, "val()")
    scale = 10 ** (18 - ilk.decimals)
    amount_raw = max(plan.collateral_usd * WAD * WAD // val // scale, 1)
    ink = amount_raw * scale
    spot = spot_ray(val, True, RAY, ILK_PARAMS[plan.ilk].mat_bps * RAY // 10_000)
    return _Sized(plan, amount_raw, ink, ink * spot * 10_000 // (RAY * plan.ratio_over_mat_bps))


def _open_txs(maker: MakerDeployment, s: _Sized, cdp: int | None, handler: str | None
              ) -> list[Tx]:
    """Mint, join to the urn (the UrnHandler of a vault, else the owner), frob."""
    plan, ilk = s.plan, maker.ilk(s.plan.ilk)
    urn = handler or plan.owner
    txs = [Tx(plan.owner, ilk.gem, calldata("mint(uint256)", s.amount_raw)),
           Tx(plan.owner, ilk.gem, calldata("approve(address,uint256)", ilk.join, MAX_UINT256)),
           Tx(plan.owner, ilk.join, calldata("join(address,uint256)", urn, s.amount_raw))]
    if cdp is not None:
        txs.append(Tx(plan.owner, maker.cdp_manager, calldata(
            "frob(uint256,int256,int256)", cdp, s.ink_wad, s.art_wad)))
    else:
        txs.append(Tx(plan.owner, maker.vat, calldata(
            "frob(bytes32,address,address,address,int256,int256)", b32(plan.ilk), urn, urn,
            urn, s.ink_wad, s.art_wad)))
    return txs


def seed_maker(rpc: DevnetRpc, maker: MakerDeployment, plans: Sequence[MakerUrnPlan]
               ) -> MakerDeployment:
    """Open every plan, let time pass, move the next prices; return the deployment with the
    (ilk, urn) pairs left with debt."""
    sized = [_size(rpc, maker, p) for p in plans]
    cdp_plans = [s for s in sized if s.plan.route.startswith("cdp")]
    rpc.send_many([Tx(s.plan.owner, maker.cdp_manager, calldata(
        "open(bytes32,address)", b32(s.plan.ilk), s.plan.owner)) for s in cdp_plans])
    count = read_uint(rpc, maker.cdp_manager, "cdpi()")
    cdp_of = {read_address(rpc, maker.cdp_manager, "owns(uint256)", i): i
              for i in range(1, count + 1)}
    handler_of = {i: read_address(rpc, maker.cdp_manager, "urns(uint256)", i)
                  for i in range(1, count + 1)}
    txs: list[Tx] = []
    for s in sized:
        cdp = cdp_of[s.plan.owner] if s.plan.route.startswith("cdp") else None
        txs += _open_txs(maker, s, cdp, handler_of[cdp] if cdp else None)
    rpc.send_many(txs)
    forks = [s for s in sized if s.plan.route.startswith("vat_fork")]
    rpc.send_many([Tx(s.plan.other, maker.vat, calldata("hope(address)", s.plan.owner))
                   for s in forks])
    moves: list[Tx] = []
    for s in sized:
        p = s.plan
        if p.route == "cdp_give":
            moves.append(Tx(p.owner, maker.cdp_manager, calldata(
                "give(uint256,address)", cdp_of[p.owner], p.other)))
        elif p.route.startswith("vat_fork"):
            half = p.route == "vat_fork_half"
            moves.append(Tx(p.owner, maker.vat, calldata(
                "fork(bytes32,address,address,int256,int256)", b32(p.ilk), p.owner, p.other,
                # half of the token units: an 8-decimal gem's ink stays a multiple of 1e10
                s.amount_raw // 2 * (s.ink_wad // s.amount_raw) if half else s.ink_wad,
                s.art_wad // 2 if half else s.art_wad)))
    rpc.send_many(moves)
    _age(rpc, maker)
    return MakerDeployment(**{**asdict(maker), "ilks": maker.ilks,
                              "borrowers": _borrowers(rpc, maker, sized, cdp_of, handler_of)})


def _age(rpc: DevnetRpc, maker: MakerDeployment) -> None:
    d = maker.deployer
    advance(rpc, 20 * DAY)
    send(rpc, d, [(maker.jug, "drip(bytes32)", (b32("WSTETH-A"),))])
    advance(rpc, 15 * DAY)
    send(rpc, d, [(maker.jug, "drip(bytes32)", (b32("ETH-A"),))])
    moves = []
    for ilk in maker.ilks:
        val = read_uint(rpc, ilk.median, "val()")
        moved = val * (10_000 + ILK_PARAMS[ilk.name].next_price_move_bps) // 10_000
        moves.append((ilk.median, "poke(uint256)", (moved,)))
    send(rpc, d, moves)
    _poke_osms(rpc, d, maker.ilks)  # cur stays, nxt = the moved price
    _poke_spotter(rpc, d, maker.spotter, maker.ilks)


def _borrowers(rpc: DevnetRpc, maker: MakerDeployment, sized: Sequence[_Sized],
               cdp_of: Mapping[str, int], handler_of: Mapping[int, str]
               ) -> tuple[tuple[str, str], ...]:
    candidates = set()
    for s in sized:
        p = s.plan
        if p.route.startswith("cdp"):
            candidates.add((p.ilk, handler_of[cdp_of[p.owner]]))
        else:
            candidates |= {(p.ilk, p.owner), (p.ilk, p.other)}
    out = []
    for ilk, urn in sorted(candidates):
        (_ink, art) = decode(["uint256", "uint256"], rpc.eth_call(
            maker.vat, calldata("urns(bytes32,address)", b32(ilk), urn)))
        if art > 0:
            out.append((ilk, urn))
    return tuple(out)


def deploy_and_seed_maker(rpc: DevnetRpc, aave: AaveDeployment,
                          plans: Sequence[MakerUrnPlan]) -> MakerDeployment:
    return seed_maker(rpc, deploy_maker(rpc, aave), plans)

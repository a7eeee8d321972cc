"""Maker (dss): resolve, discover and read every urn of the configured ilks at one block.

No math and no SQL here: every read names its block and a failed read raises. The rule is
`rule.py` (integers, as the contracts compute) on the axis through `curve.py`.

The pips (OSMs) answer `peek`/`peep` only to whitelisted callers; the Spotter is one of them
(it must be, to poke), so both are read with an `eth_call` from the Spotter's address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from eth_utils.address import to_checksum_address

from scanner.chain.abi import decode_output, encode_call, load_abi
from scanner.chain.multicall import Call, require_data
from scanner.chain.rpc import RpcOutcome
from scanner.config import MarketConfig
from scanner.domain import Address, Asset, MarketRead, Position
from scanner.errors import ConfigError, InconsistentDataError
from scanner.protocols.base import ChainReader, NotTheProtocolError
from scanner.protocols.maker.curve import MakerPosition
from scanner.protocols.maker.discover import (
    ProgressCallback,
    cdp_urn_calls,
    decode_addresses,
    discover_urns,
    ilk_topic,
)
from scanner.protocols.maker.rule import ClipperIlk, DogIlk, drip_rate, spot_ray
from scanner.protocols.maker.state import MakerIlk, MakerUrn, PipValue

VAT = load_abi("maker", "Vat")
JUG = load_abi("maker", "Jug")
SPOTTER = load_abi("maker", "Spotter")
DOG = load_abi("maker", "Dog")
CDP_MANAGER = load_abi("maker", "CdpManager")
OSM = load_abi("maker", "OSM")
CHAINLOG = load_abi("maker", "Chainlog")
ILK_REGISTRY = load_abi("maker", "IlkRegistry")
CLIPPER = load_abi("maker", "Clipper")
ABACUS = load_abi("maker", "StairstepExponentialDecrease")
ERC20 = load_abi("erc20", "ERC20")

# config key -> Chainlog key
CHAINLOG_KEYS = {"vat": "MCD_VAT", "spotter": "MCD_SPOT", "jug": "MCD_JUG", "dog": "MCD_DOG",
                 "cdp_manager": "CDP_MANAGER", "ilk_registry": "ILK_REGISTRY"}
CORE_KEYS = ("vat", "spotter", "jug", "dog")
_GAS = 40_000
CdpOwner = tuple[int, Address]  # a CdpManager vault: (cdp id, owns(cdp))


@dataclass(frozen=True)
class MakerAddresses:
    vat: Address
    spotter: Address
    jug: Address
    dog: Address
    cdp_manager: Address | None
    ilk_registry: Address | None


def _address(data: bytes, abi: Any, name: str) -> Address:
    return str(to_checksum_address(decode_output(abi, name, data)[0]))


def ilk_name(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("utf-8", "replace")


class MakerAdapter(ChainReader):
    """Reads the urns of a Maker deployment. No math, no SQL; every read names its block."""

    key: ClassVar[str] = "maker"

    async def _one(self, target: Address, abi: Any, name: str, args: Sequence[Any],
                   block: int, what: str) -> bytes:
        (result,) = await self._calls([Call(target, encode_call(abi, name, args), False, _GAS)],
                                      block)
        return require_data(result, what)

    # --- resolve ---------------------------------------------------------------------------

    async def resolve(self, block: int) -> MakerAddresses:
        given = dict(self.market.addresses)
        chainlog = given.pop("chainlog", None)
        if chainlog is not None:
            await self.rpc.require_code({f"{self._where}.chainlog": chainlog}, block)
            given = {**await self._from_chainlog(chainlog, block), **given}
        missing = [k for k in (*CORE_KEYS, "ilk_registry") if k not in given]
        if missing:
            raise ConfigError(
                f"{self._where}: set `chainlog`, or all of vat, spotter, jug, dog and "
                f"ilk_registry (missing: {', '.join(missing)})")
        await self.rpc.require_code({f"{self._where}.{k}": v for k, v in given.items()}, block)
        return MakerAddresses(given["vat"], given["spotter"], given["jug"], given["dog"],
                              given.get("cdp_manager"), given["ilk_registry"])

    async def _from_chainlog(self, chainlog: Address, block: int) -> dict[str, Address]:
        calls = [Call(chainlog, encode_call(CHAINLOG, "getAddress",
                                            [key.encode().ljust(32, b"\0")]), True, _GAS)
                 for key in CHAINLOG_KEYS.values()]
        found: dict[str, Address] = {}
        for (name, key), result in zip(CHAINLOG_KEYS.items(), await self._calls(calls, block),
                                       strict=True):
            if result.success and len(result.data) == 32:
                found[name] = _address(result.data, CHAINLOG, "getAddress")
            elif name in (*CORE_KEYS, "ilk_registry"):
                # another contract reverts or answers something else
                raise NotTheProtocolError("chainlog", f"getAddress({key}) failed")
        return found

    # --- discover --------------------------------------------------------------------------

    async def discover_accounts(
        self, addresses: MakerAddresses, from_block: int, to_block: int,
        on_progress: ProgressCallback | None = None,
    ) -> dict[Address, int]:
        ilks = self.market.texts.get("ilks")
        urns, cdps = await discover_urns(self.rpc, self.chain, addresses.vat,
                                         addresses.cdp_manager, ilks, from_block, to_block,
                                         on_progress)
        if cdps and addresses.cdp_manager is not None:
            handlers = decode_addresses(
                await self._calls(cdp_urn_calls(addresses.cdp_manager, cdps), to_block),
                "CdpManager.urns")
            for handler in handlers:
                urns.setdefault(handler, to_block)
        return urns

    # --- read ------------------------------------------------------------------------------

    async def read(self, addresses: MakerAddresses, accounts: Sequence[Address], block: int
                   ) -> MarketRead:
        timestamp = int((await self.rpc.get_block(block))["timestamp"])
        ilks = await self.read_ilks(addresses, block, timestamp)
        owners = await self.cdp_owners(addresses, block)
        urns = await self.read_urns(addresses, ilks, accounts, owners, block)
        return assemble_read(self.market, block, timestamp, ilks, urns)

    async def _ilk_names(self, addresses: MakerAddresses, block: int) -> list[str]:
        configured = self.market.texts.get("ilks")
        if configured:
            return list(configured)
        assert addresses.ilk_registry is not None
        data = await self._one(addresses.ilk_registry, ILK_REGISTRY, "list", [], block,
                               "IlkRegistry.list")
        return [ilk_name(bytes(raw)) for raw in decode_output(ILK_REGISTRY, "list", data)[0]]

    async def read_ilks(self, addresses: MakerAddresses, block: int, timestamp: int
                        ) -> list[MakerIlk]:
        names = await self._ilk_names(addresses, block)
        a = addresses
        head = [Call(a.jug, encode_call(JUG, "base", []), False, _GAS),
                Call(a.spotter, encode_call(SPOTTER, "par", []), False, _GAS),
                Call(a.dog, encode_call(DOG, "Hole", []), False, _GAS),
                Call(a.dog, encode_call(DOG, "Dirt", []), False, _GAS)]
        per_ilk: list[Call] = []
        for name in names:
            key = bytes.fromhex(ilk_topic(name)[2:])
            assert a.ilk_registry is not None
            per_ilk += [Call(a.vat, encode_call(VAT, "ilks", [key]), False, _GAS),
                        Call(a.jug, encode_call(JUG, "ilks", [key]), False, _GAS),
                        Call(a.spotter, encode_call(SPOTTER, "ilks", [key]), False, _GAS),
                        Call(a.dog, encode_call(DOG, "ilks", [key]), False, _GAS),
                        Call(a.ilk_registry, encode_call(ILK_REGISTRY, "gem", [key]), False, _GAS)]
        results = [require_data(r, f"Maker read at block {block}")
                   for r in await self._calls(head + per_ilk, block)]
        base = int(decode_output(JUG, "base", results[0])[0])
        par = int(decode_output(SPOTTER, "par", results[1])[0])
        hole_total = int(decode_output(DOG, "Hole", results[2])[0])
        dirt_total = int(decode_output(DOG, "Dirt", results[3])[0])
        raw: list[dict[str, Any]] = []
        for n, name in enumerate(names):
            vat_r, jug_r, spot_r, dog_r, gem_r = results[4 + 5 * n: 9 + 5 * n]
            art_total, rate, spot, line, dust = decode_output(VAT, "ilks", vat_r)
            if int(rate) == 0:
                raise ConfigError(f"{self._where}.ilks: {name!r} is not an ilk of the Vat "
                                  f"{a.vat} at block {block}")
            duty, rho = decode_output(JUG, "ilks", jug_r)
            pip, mat = decode_output(SPOTTER, "ilks", spot_r)
            clip, chop, hole, dirt = decode_output(DOG, "ilks", dog_r)
            raw.append(dict(name=name, gem=_address(gem_r, ILK_REGISTRY, "gem"),
                            Art_wad=int(art_total), stored_rate_ray=int(rate),
                            stored_spot_ray=int(spot), line_rad=int(line), dust_rad=int(dust),
                            duty_ray=int(duty), base_ray=base, rho=int(rho), mat_ray=int(mat),
                            par_ray=par, pip=str(to_checksum_address(pip)),
                            dog=DogIlk(int(chop), int(hole), int(dirt), hole_total, dirt_total),
                            clip=str(to_checksum_address(clip))))
        symbols = await self._symbols([r["gem"] for r in raw], block)
        if not self.market.texts.get("ilks"):
            raw = [r for r in raw if self._on_an_axis(r["gem"], symbols[r["gem"]])]
        clippers = await self._clippers([r.pop("clip") for r in raw], block)
        for r, clipper in zip(raw, clippers, strict=True):
            r["dog"] = replace(r["dog"], clip=clipper)
        pips = await self._pips(a.spotter, [r["pip"] for r in raw], block, timestamp)
        ilks = []
        for r in raw:
            current, nxt, next_time = pips[r["pip"]]
            rate_now = drip_rate(r["stored_rate_ray"], base, r["duty_ray"], r["rho"], timestamp)
            rate_next = drip_rate(r["stored_rate_ray"], base, r["duty_ray"], r["rho"],
                                  max(next_time, timestamp))
            ilks.append(MakerIlk(
                **r, symbol=symbols[r["gem"]], current=current, next=nxt,
                next_time=max(next_time, timestamp), timestamp=timestamp, rate_ray=rate_now,
                rate_next_ray=rate_next,
                spot_ray=spot_ray(current.val_wad, current.has, par, r["mat_ray"])))
        return ilks

    async def _clippers(self, clips: Sequence[Address], block: int
                        ) -> list[ClipperIlk | None]:
        """Each ilk's Clipper (`buf`, `tail`, `cusp`, `calc`: must answer) and its abacus's
        `step` and `cut`; None for an ilk with no Clipper or whose abacus is no stairstep
        (a LinearDecrease has no `step`)."""
        live = [c for c in clips if int(c, 16) != 0]
        calls = [Call(c, encode_call(CLIPPER, name, []), False, _GAS)
                 for c in live for name in ("buf", "tail", "cusp", "calc")]
        results = [require_data(r, f"Clipper read at block {block}")
                   for r in await self._calls(calls, block)]
        params: dict[Address, list[int]] = {}
        calcs = []
        for n, clip in enumerate(live):
            buf, tail, cusp = (int(decode_output(CLIPPER, name, results[4 * n + k])[0])
                               for k, name in enumerate(("buf", "tail", "cusp")))
            params[clip] = [buf, tail, cusp]
            calcs.append(_address(results[4 * n + 3], CLIPPER, "calc"))
        abacus = await self._calls([Call(calc, encode_call(ABACUS, name, []), True, _GAS)
                                    for calc in calcs for name in ("step", "cut")], block)
        out: dict[Address, ClipperIlk] = {}
        for n, clip in enumerate(live):
            step, cut = abacus[2 * n: 2 * n + 2]
            if step.success and cut.success and len(step.data) == len(cut.data) == 32:
                buf, tail, cusp = params[clip]
                out[clip] = ClipperIlk(buf, tail, cusp,
                                       int(decode_output(ABACUS, "step", step.data)[0]),
                                       int(decode_output(ABACUS, "cut", cut.data)[0]))
        return [out.get(c) for c in clips]

    def _on_an_axis(self, gem: Address, symbol: str) -> bool:
        """Without `ilks`, an ilk is scanned when its gem is a configured axis's member or
        quote (by symbol or address): a registry also lists RWA, PSM and other ilks no axis
        moves, whose pips need not even answer. No axis configured: every ilk."""
        wanted = {a.lower() for a in self.market.axis_assets}
        return not wanted or gem.lower() in wanted or symbol.lower() in wanted

    async def _symbols(self, tokens: Sequence[Address], block: int) -> dict[Address, str]:
        calls = [Call(t, encode_call(ERC20, "symbol", []), True, _GAS) for t in tokens]
        out = {}
        for token, result in zip(tokens, await self._calls(calls, block), strict=True):
            symbol = token
            if result.success and result.data:
                try:
                    symbol = str(decode_output(ERC20, "symbol", result.data)[0])
                except InconsistentDataError:  # bytes32 symbols (MKR-style)
                    symbol = result.data[:32].rstrip(b"\0").decode("utf-8", "replace") or token
            out[token] = symbol
        return out

    async def _pips(self, spotter: Address, pips: Sequence[Address], block: int, timestamp: int
                    ) -> dict[Address, tuple[PipValue, PipValue | None, int]]:
        """peek (must answer), peep, zzz + hop (absent on a pip that is no OSM) of each pip,
        called from the Spotter, which every pip of the system whitelists."""
        unique = sorted(set(pips))
        calls = []
        for pip in unique:
            for name in ("peek", "peep", "zzz", "hop"):
                call = {"from": spotter, "to": pip,
                        "data": "0x" + encode_call(OSM, name, []).hex()}
                calls.append(("eth_call", [call, hex(block)]))
        outcomes = await self.rpc.batch_outcomes(calls)
        out = {}
        for n, pip in enumerate(unique):
            peek, peep, zzz, hop = outcomes[4 * n: 4 * n + 4]
            current = _pip_value(peek.unwrap("eth_call"), f"pip {pip}.peek() at block {block}")
            nxt = (_pip_value(peep.result, f"pip {pip}.peep()") if _answered(peep) else None)
            next_time = timestamp
            if _answered(zzz) and _answered(hop):
                next_time = (int(decode_output(OSM, "zzz", _hex(zzz.result))[0])
                             + int(decode_output(OSM, "hop", _hex(hop.result))[0]))
            out[pip] = (current, nxt, next_time)
        return out

    async def read_urns(self, addresses: MakerAddresses, ilks: Sequence[MakerIlk],
                        accounts: Sequence[Address], owners: Mapping[Address, CdpOwner],
                        block: int) -> list[tuple[MakerIlk, MakerUrn]]:
        """Every (ilk, account) with debt at `block`; the others are dropped. `owners`:
        `cdp_owners` at the same block."""
        calls = [Call(addresses.vat, encode_call(VAT, "urns", [bytes.fromhex(ilk_topic(
            i.name)[2:]), account]), False, _GAS) for account in accounts for i in ilks]
        results = await self._calls(calls, block)
        found = []
        for n, result in enumerate(results):
            account, ilk = accounts[n // len(ilks)], ilks[n % len(ilks)]
            ink, art = decode_output(VAT, "urns", require_data(result, f"Vat.urns({account})"))
            if int(art) == 0:
                continue
            found.append((ilk, make_urn(str(to_checksum_address(account)), int(ink), int(art),
                                        owners)))
        return found

    async def cdp_owners(self, addresses: MakerAddresses, block: int
                         ) -> dict[Address, CdpOwner]:
        """UrnHandler -> (cdp id, owns(cdp)) for every vault of the CdpManager at `block`."""
        manager = addresses.cdp_manager
        if manager is None:
            return {}
        data = await self._one(manager, CDP_MANAGER, "cdpi", [], block, "CdpManager.cdpi")
        count = int(decode_output(CDP_MANAGER, "cdpi", data)[0])
        calls = [Call(manager, encode_call(CDP_MANAGER, name, [cdp]), False, _GAS)
                 for cdp in range(1, count + 1) for name in ("urns", "owns")]
        results = await self._calls(calls, block)
        out = {}
        for cdp in range(1, count + 1):
            urn_r, own_r = results[2 * (cdp - 1): 2 * cdp]
            urn = _address(require_data(urn_r, f"CdpManager.urns({cdp})"), CDP_MANAGER, "urns")
            out[urn] = (cdp, _address(require_data(own_r, f"CdpManager.owns({cdp})"),
                                      CDP_MANAGER, "owns"))
        return out


def make_urn(urn: Address, ink_wad: int, art_wad: int, owners: Mapping[Address, CdpOwner]
             ) -> MakerUrn:
    """The urn with its CdpManager vault (cdp id, owner) when it has one."""
    cdp, owner = owners.get(urn, (None, None))
    return MakerUrn(urn, ink_wad, art_wad, cdp, owner)


def assemble_read(market: MarketConfig, block: int, timestamp: int, ilks: Sequence[MakerIlk],
                  urns: Sequence[tuple[MakerIlk, MakerUrn]]) -> MarketRead:
    """The market's read from its ilks and urns: the one assembly of a full read and an
    incremental one. Positions in the order urn, then the ilks' order."""
    order = {ilk.name: n for n, ilk in enumerate(ilks)}
    found = sorted(urns, key=lambda f: (f[1].urn, order[f[0].name]))
    prices = tuple(sorted({(i.gem, i.current.val_wad) for i in ilks}))
    positions = tuple(Position(market.key, market.protocol, ilk.name, urn.urn,
                               MakerPosition(urn, ilk, prices)) for ilk, urn in found)
    assets = tuple(sorted({Asset(i.gem, i.symbol, i.current.val_wad // 10**10) for i in ilks},
                          key=lambda a: a.address))
    return MarketRead(market.key, market.protocol, block, timestamp, 0, assets, positions,
                      mirror_mismatches(found))


def _answered(outcome: RpcOutcome) -> bool:
    """A revert means the pip has no such function (no OSM); other errors raise."""
    if outcome.ok:
        return bool(outcome.result) and outcome.result != "0x"
    error = outcome.error or {}
    if error.get("code") == 3 or "revert" in str(error.get("message", "")).lower():
        return False
    outcome.unwrap("eth_call")
    return False


def _hex(value: Any) -> bytes:
    return bytes.fromhex(str(value).removeprefix("0x"))


def _pip_value(result: Any, what: str) -> PipValue:
    data = _hex(result)
    if len(data) != 64:
        raise InconsistentDataError(f"{what} answered {len(data)} bytes, not (bytes32, bool)")
    val, has = decode_output(OSM, "peek", data)
    return PipValue(int.from_bytes(bytes(val), "big"), bool(has))


def mirror_mismatches(found: Sequence[tuple[MakerIlk, MakerUrn]]) -> tuple[Address, ...]:
    """Urns of an ilk dripped at this very block (rho == now) whose stored rate differs from
    the rule's accrual: there the Vat's own rate is the truth and the rule contradicts it."""
    return tuple(urn.urn for ilk, urn in found
                 if ilk.rho == ilk.timestamp and ilk.stored_rate_ray != ilk.rate_ray)

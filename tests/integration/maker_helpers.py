"""Shared by the Maker tests: the devnet Maker as a [[markets]] entry, its urns, moving its
OSMs, and the keeper probe (drip, poke, bark) run by eth_call with the OSM's current value
overridden -- the Jug, Spotter, Dog and Vat judge, unmodified."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode

from scanner.config import AxisConfig, ChainConfig, MarketConfig
from scanner.devnet.maker import HOP_SECONDS, MakerDeployment, b32
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.solc import compile_sources
from scanner.devnet.toolchain import project_root
from tests.integration.adapter_contract import AdapterEnv

MAKER_AXES = {"ETH": AxisConfig("ETH", ("WETH", "wstETH"), "WETH"),
              "BTC": AxisConfig("BTC", ("WBTC",), "WBTC")}
PROBE_ADDRESS = "0x00000000000000000000000000000000000a11CE"
# DevnetMakerOsm storage: wards, stopped, (src, hop, zzz), cur (val | has << 128), nxt, bud
OSM_CUR_SLOT = "0x" + "00" * 31 + "03"


def maker_of(devnet: Devnet) -> MakerDeployment:
    assert devnet.maker is not None
    return devnet.maker


def maker_market(devnet: Devnet, explicit: bool = False) -> MarketConfig:
    maker = maker_of(devnet)
    addresses = ({"vat": maker.vat, "spotter": maker.spotter, "jug": maker.jug,
                  "dog": maker.dog, "cdp_manager": maker.cdp_manager,
                  "ilk_registry": maker.ilk_registry} if explicit
                 else {"chainlog": maker.chainlog})
    return MarketConfig(key="maker-devnet", chain="devnet", protocol="maker",
                        start_block=maker.deploy_block, addresses=addresses)


def maker_env(devnet: Devnet, explicit: bool = False) -> AdapterEnv:
    chain = ChainConfig(name="devnet", rpc_url=devnet.rpc_url, chain_id=31337, confirmations=0)
    borrowers = frozenset(urn for _, urn in maker_of(devnet).borrowers)
    return AdapterEnv(devnet.rpc_url, chain, maker_market(devnet, explicit), borrowers,
                      devnet.head_block, MAKER_AXES)


def uint(rpc: DevnetRpc, to: str, signature: str, *args: Any, block: int | str = "latest"
         ) -> int:
    (value,) = decode(["uint256"], rpc.eth_call(to, calldata(signature, *args), block))
    return int(value)


def advance_osms(rpc: DevnetRpc, maker: MakerDeployment, factor_bps: int | None = None) -> int:
    """Optionally move every median by factor_bps/1e4, then advance to the OSMs' next hop and
    poke them (cur = the old next price); return the block of the pokes."""
    if factor_bps is not None:
        rpc.send_many([Tx(maker.deployer, i.median, calldata(
            "poke(uint256)", uint(rpc, i.median, "val()") * factor_bps // 10_000))
            for i in maker.ilks])
    zzz = max(uint(rpc, i.pip, "zzz()") for i in maker.ilks)
    head_time = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    rpc.call("evm_setNextBlockTimestamp", [max(zzz + HOP_SECONDS, head_time + 1)])
    rpc.send_many([Tx(maker.deployer, i.pip, calldata("poke()")) for i in maker.ilks])
    return rpc.block_number()


@dataclass(frozen=True)
class Verdict:
    rate_ray: int
    barked: bool


def probe_code() -> str:
    src = project_root() / "contracts" / "src" / "DevnetMakerProbe.sol"
    return compile_sources({"DevnetMakerProbe.sol": src})["DevnetMakerProbe"].deployed_bytecode


def keeper_verdicts(rpc: DevnetRpc, maker: MakerDeployment,
                    cases: Sequence[tuple[str, str, int | None]], block: int | str = "latest"
                    ) -> list[Verdict]:
    """For each (ilk, urn, OSM current value or None to keep it): drip, poke and bark in one
    eth_call at `block`, the ilk's OSM answering `peek` with that value."""
    code = probe_code()
    tag = hex(block) if isinstance(block, int) else block
    requests = []
    for ilk, urn, val_wad in cases:
        overrides: dict[str, Any] = {PROBE_ADDRESS: {"code": code}}
        if val_wad is not None:
            word = "0x" + (1 << 128 | val_wad).to_bytes(32, "big").hex()
            overrides[maker.ilk(ilk).pip] = {"stateDiff": {OSM_CUR_SLOT: word}}
        data = calldata("check(address,address,address,bytes32,address)", maker.jug,
                        maker.spotter, maker.dog, b32(ilk), urn)
        requests.append(("eth_call", [{"to": PROBE_ADDRESS, "data": data, "gas": hex(3_000_000)},
                                      tag, overrides]))
    out = []
    for start in range(0, len(requests), 200):
        for raw in rpc.batch(requests[start:start + 200]):
            rate, barked = decode(["uint256", "uint256"], bytes.fromhex(str(raw)[2:]))
            out.append(Verdict(int(rate), bool(barked)))
    return out

"""Maker liquidations executed whole on the devnet's own dss contracts: `Dog.bark` kicks an
auction on the ilk's Clipper (contracts/src/DevnetMakerClipper.sol); a keeper funded with
real DAI (its own urn, frobbed) takes each auction whole at the first price step at or below
the feed price it was kicked from -- the moment the engine's Maker sale assumes -- and exits
the gem it bought through the GemJoin, to sell it on the market."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from scanner.devnet.maker import CLIPPER, MakerDeployment, MakerIlkDeployment, b32
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.protocols.maker.auction import feed_price_ray, stairstep_price, take_step
from scanner.protocols.maker.rule import RAY, WAD, ClipperIlk

KEEPER = "0x00000000000000000000000000000000000a11CE"
BARK_TOPIC = "0x" + keccak(
    b"Bark(bytes32,address,uint256,uint256,uint256,address,uint256)").hex()
KICK_TOPIC = "0x" + keccak(b"Kick(uint256,uint256,uint256,uint256,address,address,uint256)").hex()
TAKE_TOPIC = "0x" + keccak(b"Take(uint256,uint256,uint256,uint256,uint256,uint256,address)").hex()
PARAMS = ClipperIlk(CLIPPER.buf_ray, CLIPPER.tail_s, CLIPPER.cusp_ray, CLIPPER.step_s,
                    CLIPPER.cut_ray)


@dataclass(frozen=True)
class Auction:
    """One bark and the auction it kicked (from the Bark and Kick events)."""

    ilk: MakerIlkDeployment
    urn: str
    dink_wad: int
    due_rad: int  # dart x rate: the debt taken off the urn
    id: int
    top_ray: int
    tab_rad: int
    lot_wad: int
    tic: int  # the kick's block timestamp


@dataclass(frozen=True)
class Taken:
    """A whole-auction take (from the Take event)."""

    auction: Auction
    steps: int
    price_ray: int
    owe_rad: int
    slice_wad: int  # the gem the keeper bought: lot - what went back to the urn


def bark(rpc: DevnetRpc, maker: MakerDeployment, ilk: MakerIlkDeployment, urn: str
         ) -> Auction | None:
    """`Dog.bark(ilk, urn, keeper)`; None when the Dog refuses (safe, or no room)."""
    try:
        receipt = rpc.send(Tx(KEEPER, maker.dog, calldata(
            "bark(bytes32,address,address)", b32(ilk.name), urn, KEEPER)))
    except RpcCallError:
        return None
    (bark_log,) = [lg for lg in receipt["logs"] if lg["topics"][0] == BARK_TOPIC]
    dink, _dart, due, clip = decode(["uint256", "uint256", "uint256", "address"],
                                    bytes.fromhex(bark_log["data"][2:]))
    assert clip.lower() == ilk.clip.lower(), "the Dog kicks on the ilk's Clipper"
    (kick,) = [lg for lg in receipt["logs"] if lg["topics"][0] == KICK_TOPIC]
    top, tab, lot, _coin = decode(["uint256"] * 4, bytes.fromhex(kick["data"][2:]))
    block = rpc.call("eth_getBlockByNumber", [receipt["blockNumber"], False])
    return Auction(ilk, urn, int(dink), int(due), int(kick["topics"][1], 16), int(top),
                   int(tab), int(lot), int(block["timestamp"], 16))


def fund_keeper(rpc: DevnetRpc, maker: MakerDeployment, dai_rad: int, val_wad: int) -> None:
    """Real DAI for the keeper: WETH minted, joined to its own ETH-A urn at twice the debt's
    value and `dai_rad` drawn (frob); the Vat lets every Clipper move it (`hope`)."""
    ilk = maker.ilk("ETH-A")
    (_, rate, _, _, _) = decode(["uint256"] * 5, rpc.eth_call(maker.vat, calldata(
        "ilks(bytes32)", b32(ilk.name))))
    art_wad = -(-dai_rad // rate)  # rounded up: at least dai_rad of DAI
    ink_wad = 2 * dai_rad // RAY * WAD // val_wad + WAD
    rpc.send_many([
        Tx(KEEPER, ilk.gem, calldata("mint(uint256)", ink_wad)),
        Tx(KEEPER, ilk.gem, calldata("approve(address,uint256)", ilk.join, ink_wad)),
        Tx(KEEPER, ilk.join, calldata("join(address,uint256)", KEEPER, ink_wad)),
        Tx(KEEPER, maker.vat, calldata("frob(bytes32,address,address,address,int256,int256)",
                                       b32(ilk.name), KEEPER, KEEPER, KEEPER, ink_wad, art_wad)),
        *(Tx(KEEPER, maker.vat, calldata("hope(address)", i.clip)) for i in maker.ilks)])


def take_all(rpc: DevnetRpc, auctions: Sequence[Auction], val_wad: dict[str, int]
             ) -> list[Taken]:
    """Each auction taken whole at the first step whose price is at or below the feed price
    it was kicked from (the ilk's OSM value over par 1), in kick order: the block of the take
    is set to tic + steps x step."""
    taken = []
    for a in sorted(auctions, key=lambda a: (a.tic, a.id)):
        steps = take_step(PARAMS, a.top_ray, feed_price_ray(val_wad[a.ilk.name], RAY))
        assert steps is not None, "the auction reaches the feed price before a reset"
        price = stairstep_price(a.top_ray, steps * PARAMS.step_s, PARAMS.step_s, PARAMS.cut_ray)
        rpc.call("evm_setNextBlockTimestamp", [a.tic + steps * PARAMS.step_s])
        receipt = rpc.send(Tx(KEEPER, a.ilk.clip, calldata(
            "take(uint256,uint256,uint256,address,bytes)", a.id, a.lot_wad, price, KEEPER,
            b"")))
        taken.append(_taken(a, steps, receipt))
    return taken


def _taken(a: Auction, steps: int, receipt: dict[str, Any]) -> Taken:
    (log,) = [lg for lg in receipt["logs"] if lg["topics"][0] == TAKE_TOPIC]
    _max, price, owe, tab_left, lot_left = decode(["uint256"] * 5, bytes.fromhex(log["data"][2:]))
    assert lot_left == 0 or tab_left == 0, "a whole take ends the auction"
    # the event's lot is what the take left: sent back to the urn once the tab is raised
    return Taken(a, steps, int(price), int(owe), a.lot_wad - int(lot_left))


def exit_gem(rpc: DevnetRpc, ilk: MakerIlkDeployment, wad: int) -> int:
    """The keeper's gem out of the Vat as tokens (GemJoin.exit); returns the token units."""
    amount = wad // 10 ** (18 - ilk.decimals)
    rpc.send(Tx(KEEPER, ilk.join, calldata("exit(address,uint256)", KEEPER, amount)))
    return amount


def dirt_rad(rpc: DevnetRpc, maker: MakerDeployment) -> int:
    (value,) = decode(["uint256"], rpc.eth_call(maker.dog, calldata("Dirt()")))
    return int(value)

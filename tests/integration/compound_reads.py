"""Test-side reads of a devnet Comet into the rule's types, pinned to one block, batched.

The scanner's own Compound adapter (discovery + pinned reads) plugs into the protocol-neutral
core later; until then the truth tests read the contract here, with plain eth_calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from eth_abi.abi import decode

from scanner.devnet.rpc import DevnetRpc, RpcCallError, calldata
from scanner.protocols.compound_v3.rule import (
    CometAccount,
    CometAsset,
    CometPrices,
    CometRates,
    CometTotals,
)

ASSET_INFO = ["uint8", "address", "address", "uint64", "uint64", "uint64", "uint64", "uint128"]
TOTALS_BASIC = ["uint64", "uint64", "uint64", "uint64", "uint104", "uint104", "uint40", "uint8"]
RATE_GETTERS = (
    "supplyKink", "supplyPerSecondInterestRateSlopeLow", "supplyPerSecondInterestRateSlopeHigh",
    "supplyPerSecondInterestRateBase", "borrowKink", "borrowPerSecondInterestRateSlopeLow",
    "borrowPerSecondInterestRateSlopeHigh", "borrowPerSecondInterestRateBase",
)
NOT_LIQUIDATABLE = "0xddeb79ba"  # NotLiquidatable()


@dataclass(frozen=True)
class CometState:
    """Everything the rule needs about one Comet at one block."""

    block: int
    timestamp: int
    rates: CometRates
    totals: CometTotals
    assets: tuple[CometAsset, ...]
    feeds: dict[str, str]  # asset -> price feed
    base_scale: int
    prices: CometPrices


def calls(rpc: DevnetRpc, to: str, data: Sequence[str], block: int) -> list[bytes]:
    answers = rpc.batch([("eth_call", [{"to": to, "data": d}, hex(block)]) for d in data])
    return [bytes.fromhex(str(a).removeprefix("0x")) for a in answers]


def _one(rpc: DevnetRpc, to: str, signature: str, types: list[str], block: int,
         *args: Any) -> tuple[Any, ...]:
    return tuple(decode(types, calls(rpc, to, [calldata(signature, *args)], block)[0]))


def block_timestamp(rpc: DevnetRpc, block: int) -> int:
    return int(rpc.call("eth_getBlockByNumber", [hex(block), False])["timestamp"], 16)


def read_comet(rpc: DevnetRpc, comet: str, block: int) -> CometState:
    rates = CometRates(*(decode(["uint256"], raw)[0] for raw in calls(
        rpc, comet, [calldata(f"{name}()") for name in RATE_GETTERS], block)))
    basic = _one(rpc, comet, "totalsBasic()", [f"({','.join(TOTALS_BASIC)})"], block)[0]
    totals = CometTotals(basic[0], basic[1], basic[4], basic[5], basic[6])
    (n_assets,) = _one(rpc, comet, "numAssets()", ["uint8"], block)
    infos = [decode([f"({','.join(ASSET_INFO)})"], raw)[0] for raw in calls(
        rpc, comet, [calldata("getAssetInfo(uint8)", i) for i in range(n_assets)], block)]
    assets = tuple(CometAsset(i[0], i[1].lower(), i[3], i[4], i[5], i[6]) for i in infos)
    feeds = {i[1].lower(): i[2] for i in infos}
    (base_scale,) = _one(rpc, comet, "baseScale()", ["uint256"], block)
    (base_feed,) = _one(rpc, comet, "baseTokenPriceFeed()", ["address"], block)
    prices = read_prices(rpc, comet, base_feed, feeds, block)
    return CometState(block, block_timestamp(rpc, block), rates, totals, assets, feeds,
                      base_scale, prices)


def read_prices(rpc: DevnetRpc, comet: str, base_feed: str, feeds: dict[str, str],
                block: int) -> CometPrices:
    """Every price through the Comet's own getPrice."""
    order = list(feeds)
    answers = calls(rpc, comet, [calldata("getPrice(address)", f)
                                 for f in [base_feed, *(feeds[a] for a in order)]], block)
    values = [decode(["uint256"], raw)[0] for raw in answers]
    return CometPrices(values[0], dict(zip(order, values[1:], strict=True)))


def read_accounts(rpc: DevnetRpc, comet: str, assets: Sequence[CometAsset],
                  accounts: Sequence[str], block: int) -> list[CometAccount]:
    data = []
    for account in accounts:
        data.append(calldata("userBasic(address)", account))
        data += [calldata("userCollateral(address,address)", account, a.asset) for a in assets]
    raw = calls(rpc, comet, data, block)
    stride = 1 + len(assets)
    result = []
    for index in range(len(accounts)):
        chunk = raw[index * stride:(index + 1) * stride]
        principal, _, _, assets_in, _ = decode(["int104", "uint64", "uint64", "uint16", "uint8"],
                                               chunk[0])
        balances = {a.asset: decode(["uint128", "uint128"], r)[0]
                    for a, r in zip(assets, chunk[1:], strict=True)}
        result.append(CometAccount(principal, assets_in, balances))
    return result


def views(rpc: DevnetRpc, comet: str, signature: str, accounts: Sequence[str],
          block: int) -> list[Any]:
    """One single-output view per account, e.g. isLiquidatable(address)."""
    out_type = "bool" if signature.startswith("is") else "uint256"
    return [decode([out_type], raw)[0] for raw in calls(
        rpc, comet, [calldata(signature, a) for a in accounts], block)]


def absorb_outcomes(rpc: DevnetRpc, comet: str, absorber: str, accounts: Sequence[str],
                    block: int) -> list[str]:
    """eth_call absorb(absorber, [account]) per account: "ok" or the revert data (hex)."""
    body = [{"jsonrpc": "2.0", "id": i, "method": "eth_call",
             "params": [{"from": absorber, "to": comet,
                         "data": calldata("absorb(address,address[])", absorber, [account])},
                        hex(block)]}
            for i, account in enumerate(accounts)]
    answers = {item["id"]: item for item in requests.post(rpc.url, json=body, timeout=120).json()}
    outcomes = []
    for i in range(len(accounts)):
        item = answers[i]
        if "error" not in item:
            outcomes.append("ok")
        elif isinstance(item["error"].get("data"), str):
            outcomes.append(str(item["error"]["data"]))
        else:
            raise RpcCallError(f"absorb eth_call failed without revert data: {item['error']}")
    return outcomes

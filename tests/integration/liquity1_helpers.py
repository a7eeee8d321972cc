"""Shared by the Liquity v1 tests: the devnet's Liquity as a [[markets]] entry, moving its
price, and the TroveManager's own verdict: `liquidate(borrower)` run by eth_call with the
PriceFeed's lastGoodPrice overridden -- the devnet TroveManager judges, unmodified."""

from __future__ import annotations

from collections.abc import Sequence

import requests

from scanner.config import AxisConfig, ChainConfig, MarketConfig
from scanner.devnet.liquity1 import Liquity1Deployment, price_of, set_price
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc, RpcCallError, calldata
from tests.integration.adapter_contract import AdapterEnv

LIQUITY1_AXES = {"ETH": AxisConfig("ETH", ("WETH", "ETH"), "WETH")}
LIQUIDATOR = "0x00000000000000000000000000000000000a11CE"
# DevnetLiquityPriceFeed storage: slot 0 is lastGoodPrice (what fetchPrice returns)
PRICE_SLOT = "0x" + "00" * 32


def liquity_of(devnet: Devnet) -> Liquity1Deployment:
    assert devnet.liquity1 is not None
    return devnet.liquity1


def liquity1_market(devnet: Devnet) -> MarketConfig:
    liquity = liquity_of(devnet)
    return MarketConfig(key="liquity-v1-devnet", chain="devnet", protocol="liquity-v1",
                        start_block=liquity.deploy_block,
                        addresses={"trove_manager": liquity.trove_manager})


def liquity1_env(devnet: Devnet) -> AdapterEnv:
    chain = ChainConfig(name="devnet", rpc_url=devnet.rpc_url, chain_id=31337, confirmations=0)
    return AdapterEnv(devnet.rpc_url, chain, liquity1_market(devnet),
                      frozenset(liquity_of(devnet).borrowers), devnet.head_block, LIQUITY1_AXES)


def move_price(rpc: DevnetRpc, liquity: Liquity1Deployment, factor_bps: int) -> int:
    set_price(rpc, liquity, price_of(rpc, liquity) * factor_bps // 10_000)
    return rpc.block_number()


def liquidate_outcomes(rpc: DevnetRpc, liquity: Liquity1Deployment,
                       cases: Sequence[tuple[str, int]], block: int) -> list[str]:
    """eth_call liquidate(borrower) at `block` with the feed at `price_wad`, per
    (borrower, price_wad): "ok" or the revert message's data (hex)."""
    out: list[str] = []
    for start in range(0, len(cases), 200):
        chunk = cases[start:start + 200]
        body = [{"jsonrpc": "2.0", "id": i, "method": "eth_call", "params": [
            {"from": LIQUIDATOR, "to": liquity.trove_manager, "gas": hex(30_000_000),
             "data": calldata("liquidate(address)", borrower)},
            hex(block),
            {liquity.price_feed: {"stateDiff": {PRICE_SLOT: _word(price)}}}]}
            for i, (borrower, price) in enumerate(chunk)]
        answers = {item["id"]: item for item in requests.post(rpc.url, json=body,
                                                               timeout=120).json()}
        for i in range(len(chunk)):
            item = answers[i]
            if "error" not in item:
                out.append("ok")
            elif isinstance(item["error"].get("data"), str):
                out.append(str(item["error"]["data"]))
            else:
                raise RpcCallError(f"liquidate eth_call failed without revert data: {item}")
    return out


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def revert_reason(data: str) -> str:
    """The string of an Error(string) revert."""
    raw = bytes.fromhex(data.removeprefix("0x"))
    if raw[:4] != bytes.fromhex("08c379a0"):
        return data
    length = int.from_bytes(raw[36:68], "big")
    return raw[68:68 + length].decode()

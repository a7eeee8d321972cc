"""Shared by the Liquity v2 tests: the devnet deployment as a [[markets]] entry, its troves,
moving its feeds, and the TroveManager's own verdict on a liquidation (an eth_call of
`batchLiquidateTroves([id])` at the scan block, the feed's lastGoodPrice overridden)."""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils.crypto import keccak

from scanner.config import AxisConfig, ChainConfig, MarketConfig
from scanner.devnet.liquity2 import Liquity2Deployment, trove_account
from scanner.devnet.liquity2_population import LIVE_BRANCHES
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from tests.integration.adapter_contract import AdapterEnv
from tests.integration.maker_helpers import uint

LIQUITY2_AXES = {"ETH": AxisConfig("ETH", ("WETH", "wstETH", "rETH"), "WETH")}
# DevnetBoldPriceFeed storage: priceSource (slot 0), lastGoodPrice (slot 1)
LAST_GOOD_PRICE_SLOT = "0x" + "00" * 31 + "01"
NOTHING_TO_LIQUIDATE = keccak(text="NothingToLiquidate()")[:4].hex()


def liquity2_of(devnet: Devnet) -> Liquity2Deployment:
    assert devnet.liquity2 is not None
    return devnet.liquity2


def liquity2_market(devnet: Devnet) -> MarketConfig:
    net = liquity2_of(devnet)
    return MarketConfig(key="liquity2-devnet", chain="devnet", protocol="liquity-v2",
                        start_block=net.deploy_block,
                        addresses={"collateral_registry": net.collateral_registry})


def liquity2_env(devnet: Devnet) -> AdapterEnv:
    chain = ChainConfig(name="devnet", rpc_url=devnet.rpc_url, chain_id=31337, confirmations=0)
    borrowers = frozenset(trove_account(t) for _, t in liquity2_of(devnet).borrowers)
    return AdapterEnv(devnet.rpc_url, chain, liquity2_market(devnet), borrowers,
                      devnet.head_block, LIQUITY2_AXES)


def move_feeds(rpc: DevnetRpc, net: Liquity2Deployment, factor_bps: int) -> int:
    """Scale every live branch's lastGoodPrice by factor_bps / 1e4; return that block."""
    rpc.send_many([Tx(net.deployer, net.branch(s).price_feed, calldata(
        "setPrice(uint256)", uint(rpc, net.branch(s).price_feed, "lastGoodPrice()")
        * factor_bps // 10_000)) for s in LIVE_BRANCHES])
    return rpc.block_number()


def liquidates(rpc: DevnetRpc, net: Liquity2Deployment,
               cases: Sequence[tuple[str, int, int | None]], block: int) -> list[bool]:
    """For each (branch symbol, trove id, price or None to keep the feed's): does
    `batchLiquidateTroves([id])`, called at `block`, liquidate it? Reverting with
    NothingToLiquidate is "no"; any other revert fails the test."""
    out = []
    for symbol, trove_id, price in cases:
        branch = net.branch(symbol)
        overrides = ({} if price is None else {branch.price_feed: {"stateDiff": {
            LAST_GOOD_PRICE_SLOT: "0x" + price.to_bytes(32, "big").hex()}}})
        call = {"from": net.deployer, "to": branch.trove_manager, "gas": hex(5_000_000),
                "data": calldata("batchLiquidateTroves(uint256[])", [trove_id])}
        try:
            rpc.call("eth_call", [call, hex(block), overrides])
            out.append(True)
        except RpcCallError as exc:
            if NOTHING_TO_LIQUIDATE not in str(exc):
                raise
            out.append(False)
    return out

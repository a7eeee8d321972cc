"""The Comet store front's buyer on the node, for the executed cascades: after each real
`absorb` it buys by real `buyCollateral` calls what the model's buyer takes -- every asset the
Comet holds (`getCollateralReserves`, the collateral held before included) while the store is
open (`getReserves` < `targetReserves`); of each of the cascade's axis assets only what its
resale, on top of what it already resold of that asset at this round's price, leaves the pools
at or above the store's price (the rule of scanner/protocols/compound_v3/store_buyer.py asked
of the pools' model, which test_uniswap_depth checks against the router). Every input is read
from the node: prices (`getPrice`), factors (`getAssetInfoByAddress`,
`storeFrontPriceFactor`), the reserves; what it bought is what reaches the market."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address

from scanner.cascade.depth import DepthModel
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.protocols.compound_v3.liquidation_sale import (
    buy_base_raw,
    discounted_price_8dec,
    quote_collateral_raw,
)
from scanner.protocols.compound_v3.rule import CometAsset, CometPrices
from scanner.protocols.compound_v3.state import CometStoreFront
from scanner.protocols.compound_v3.store_buyer import buyer_stop_raw

STORE_BUYER = "0x00000000000000000000000000000000005b0b0b"
ASSET_INFO = ["uint8", "address", "address", "uint64", "uint64", "uint64", "uint64", "uint128"]


def _uint(rpc: DevnetRpc, to: str, signature: str, *args: object) -> int:
    (value,) = decode(["int256"], rpc.eth_call(to, calldata(signature, *args)))
    return int(value)


@dataclass
class StoreBuyer:
    comet: str
    depth: DepthModel
    axis_assets: tuple[str, ...]  # the assets whose resale the pools price
    resold_raw: dict[str, int] = field(default_factory=dict)  # of each, at `resold_at`
    resold_at: int = -1  # the round (its index) the resales were made in
    funded: bool = False

    def buy_after_absorb(self, rpc: DevnetRpc, round_index: int) -> list[tuple[str, int]]:
        """Every (asset, amount) bought, in the Comet's asset order."""
        if self.resold_at != round_index:
            self.resold_raw, self.resold_at = {}, round_index
        self._fund(rpc)
        store = CometStoreFront(_uint(rpc, self.comet, "storeFrontPriceFactor()"),
                                _uint(rpc, self.comet, "targetReserves()"), 0)
        base_scale = _uint(rpc, self.comet, "baseScale()")
        (base_feed,) = decode(["address"], rpc.eth_call(self.comet, calldata(
            "baseTokenPriceFeed()")))
        base_8dec = _uint(rpc, self.comet, "getPrice(address)", base_feed)
        bought = []
        for offset in range(_uint(rpc, self.comet, "numAssets()")):
            if not store.is_open(_uint(rpc, self.comet, "getReserves()")):
                break
            info = decode(ASSET_INFO, rpc.eth_call(self.comet, calldata(
                "getAssetInfo(uint8)", offset)))
            asset = CometAsset(offset, to_checksum_address(info[1]), *info[3:7])
            amount_raw = self._buy(rpc, store, asset, CometPrices(base_8dec, {
                asset.asset: _uint(rpc, self.comet, "getPrice(address)", info[2])}), base_scale)
            if amount_raw:
                bought.append((asset.asset, amount_raw))
        return bought

    def _buy(self, rpc: DevnetRpc, store: CometStoreFront, asset: CometAsset,
             prices: CometPrices, base_scale: int) -> int:
        offered_raw = _uint(rpc, self.comet, "getCollateralReserves(address)", asset.asset)
        wanted_raw = offered_raw
        resold_raw = self.resold_raw.get(asset.asset, 0)
        if asset.asset in self.axis_assets:
            price_8dec = prices.collateral_8dec[asset.asset]
            total_raw = buyer_stop_raw(self.depth, asset.asset, resold_raw + offered_raw,
                                       price_8dec / 1e8,
                                       discounted_price_8dec(store, asset, price_8dec) / 1e8)
            wanted_raw = max(total_raw - resold_raw, 0)
        base_raw = buy_base_raw(store, asset, prices, base_scale, wanted_raw) if wanted_raw else 0
        amount_raw = quote_collateral_raw(store, asset, prices, base_scale, base_raw)
        if not amount_raw:
            return 0
        rpc.send(Tx(STORE_BUYER, self.comet, calldata(
            "buyCollateral(address,uint256,uint256,address)", asset.asset, amount_raw,
            base_raw, STORE_BUYER)))
        if asset.asset in self.axis_assets:
            self.resold_raw[asset.asset] = resold_raw + amount_raw
        return amount_raw

    def _fund(self, rpc: DevnetRpc) -> None:
        if self.funded:
            return
        (base,) = decode(["address"], rpc.eth_call(self.comet, calldata("baseToken()")))
        rpc.send_many([Tx(STORE_BUYER, base, calldata("mint(uint256)", 10**30)),
                       Tx(STORE_BUYER, base, calldata("approve(address,uint256)", self.comet,
                                                      2**256 - 1))])
        self.funded = True

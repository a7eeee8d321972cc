"""Compound III on the devnet: two DevnetComets (our own Solidity Comet, see its header) over
the Aave devnet's tokens, with price feeds derived from the Aave aggregators.

    compound = deploy_compound(rpc, aave)
    plans = generate_compound_population(seed, n_per_comet)
    seed_compound(rpc, aave, compound, plans)

All state comes from real transactions; the feeds read the Aave aggregators, so
`scanner.devnet.prices.set_prices` moves every Comet with Aave and Morpho.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.compound_spec import USD_QUOTE, CometSpec, CompoundSpec, load_compound_spec
from scanner.devnet.rpc import DevnetRpc, Tx
from scanner.devnet.solc import CompiledContract, compile_sources
from scanner.devnet.toolchain import project_root
from scanner.errors import ConfigError

_OUR_SOURCES = ("DevnetComet.sol", "DevnetCometPriceFeed.sol")
ZERO_ADDRESS = "0x" + "00" * 20
ASSET_CONFIG = "(address,address,uint8,uint64,uint64,uint64,uint128)"
CONFIGURATION = ("(address,address,address,address,address,"
                 + ",".join(["uint64"] * 12) + ",uint104,uint104,uint104," + ASSET_CONFIG + "[])")
STORE_FRONT_PRICE_FACTOR_WAD = 5 * 10**17  # buyCollateral's discount: half the absorb's
TRACKING_INDEX_SCALE = 10**15  # accepted like the real Comet, unused (no reward tracking)
_RATE_ORDER = (
    "supplyKink", "supplyPerYearInterestRateSlopeLow", "supplyPerYearInterestRateSlopeHigh",
    "supplyPerYearInterestRateBase", "borrowKink", "borrowPerYearInterestRateSlopeLow",
    "borrowPerYearInterestRateSlopeHigh", "borrowPerYearInterestRateBase",
)


@dataclass(frozen=True)
class CometMarket:
    """One deployed Comet (checksummed addresses)."""

    key: str
    comet: str
    base_symbol: str
    base_token: str
    base_decimals: int
    quote: str  # unit of its prices: "USD" or a symbol
    base_feed: str
    collateral_tokens: Mapping[str, str]  # symbol -> token
    feeds: Mapping[str, str]  # collateral symbol -> DevnetCometPriceFeed
    deploy_block: int


@dataclass(frozen=True)
class CompoundDeployment:
    deployer: str
    comets: tuple[CometMarket, ...]

    def comet(self, key: str) -> CometMarket:
        for market in self.comets:
            if market.key == key:
                return market
        raise ConfigError(f"no devnet Comet {key!r} (known: {[c.key for c in self.comets]})")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompoundDeployment:
        return cls(data["deployer"], tuple(CometMarket(**c) for c in data["comets"]))


def compile_compound_contracts() -> dict[str, CompiledContract]:
    src = project_root() / "contracts" / "src"
    return compile_sources({name: src / name for name in _OUR_SOURCES})


def _deploy_feed(rpc: DevnetRpc, deployer: str, feed: CompiledContract, aave: AaveDeployment,
                 symbol: str, quote: str) -> str:
    quote_aggregator = ZERO_ADDRESS if quote == USD_QUOTE else aave.aggregators[quote]
    args = encode(["address", "address", "string"],
                  [aave.aggregators[symbol], quote_aggregator, f"{symbol} / {quote}"])
    return rpc.deploy(deployer, feed.bytecode, args)


def _configuration(spec: CometSpec, deployer: str, aave: AaveDeployment, base_feed: str,
                   feeds: Mapping[str, str]) -> tuple[Any, ...]:
    base_decimals = aave.decimals[spec.base]
    assets = [
        (aave.tokens[a.symbol], feeds[a.symbol], aave.decimals[a.symbol],
         a.borrow_collateral_factor_wad, a.liquidate_collateral_factor_wad,
         a.liquidation_factor_wad, a.supply_cap_whole * 10 ** aave.decimals[a.symbol])
        for a in spec.assets
    ]
    # governor, pauseGuardian, baseToken, baseTokenPriceFeed, extensionDelegate (none: the
    # ext getters live in DevnetComet), the rate model, storeFrontPriceFactor,
    # trackingIndexScale, tracking speeds 0/0, baseMinForRewards 1 (the real one refuses 0),
    # baseBorrowMin, targetReserves (above the seeded reserves: the store front is open),
    # assetConfigs -- the real Configuration's order.
    return (deployer, deployer, aave.tokens[spec.base], base_feed, ZERO_ADDRESS,
            *(spec.rates_per_year_wad[name] for name in _RATE_ORDER),
            STORE_FRONT_PRICE_FACTOR_WAD, TRACKING_INDEX_SCALE, 0, 0, 1,
            int(spec.base_borrow_min * 10**base_decimals),
            int(spec.target_reserves * 10**base_decimals), assets)


def _deploy_comet(rpc: DevnetRpc, contracts: Mapping[str, CompiledContract], deployer: str,
                  aave: AaveDeployment, spec: CometSpec) -> CometMarket:
    for symbol in (spec.base, *(a.symbol for a in spec.assets)):
        if symbol not in aave.tokens:
            raise ConfigError(f"Comet {spec.key}: {symbol} is not a devnet Aave token: "
                              "fix compound_markets.toml")
    feed = contracts["DevnetCometPriceFeed"]
    base_feed = _deploy_feed(rpc, deployer, feed, aave, spec.base, spec.quote)
    feeds = {a.symbol: _deploy_feed(rpc, deployer, feed, aave, a.symbol, spec.quote)
             for a in spec.assets}
    config = _configuration(spec, deployer, aave, base_feed, feeds)
    receipt = rpc.send(Tx(deployer, None, contracts["DevnetComet"].bytecode
                          + encode([CONFIGURATION], [config]).hex(), gas=30_000_000))
    return CometMarket(
        key=spec.key, comet=str(to_checksum_address(receipt["contractAddress"])),
        base_symbol=spec.base, base_token=aave.tokens[spec.base],
        base_decimals=aave.decimals[spec.base], quote=spec.quote, base_feed=base_feed,
        collateral_tokens={a.symbol: aave.tokens[a.symbol] for a in spec.assets}, feeds=feeds,
        deploy_block=int(receipt["blockNumber"], 16))


def deploy_compound(rpc: DevnetRpc, aave: AaveDeployment,
                    spec: CompoundSpec | None = None) -> CompoundDeployment:
    """Deploy every Comet of the spec (feeds first), owned by the Aave deployer."""
    spec = spec or load_compound_spec()
    contracts = compile_compound_contracts()
    comets = tuple(_deploy_comet(rpc, contracts, aave.deployer, aave, c) for c in spec.comets)
    return CompoundDeployment(aave.deployer, comets)

"""A genuine Aave v2 market on the devnet, deployed from the npm @aave/protocol-v2 artifacts.

It lists tokens of the devnet's Aave v3 market; each asset's AaveOracle source is a
DevnetEthPriceFeed (contracts/src, see its header) over the shared USD feeds, so
`scanner.devnet.prices.set_prices` moves this market with every other. The sequence is the
v2 deployment's: provider, libraries (ValidationLogic linked to GenericLogic, the pool to
ReserveLogic and ValidationLogic), pool / configurator proxies, collateral manager, oracles,
then one `initReserve` per asset and its risk parameters.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address

from scanner.devnet.aave import DEPLOYER, AaveDeployment, admin_calls, read_address
from scanner.devnet.rpc import DevnetRpc, calldata
from scanner.devnet.solc import compile_sources
from scanner.devnet.toolchain import link_bytecode, load_artifact, project_root

V2 = "@aave/protocol-v2"
SPEC_PATH = Path(__file__).with_name("aave2_market.toml")
BPS_TO_RAY = 10**23
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class V2ReserveSpec:
    symbol: str
    ltv_bps: int
    lt_bps: int
    bonus_bps: int
    reserve_factor_bps: int
    borrowable: bool
    stable: bool
    strategy: str


@dataclass(frozen=True)
class V2MarketSpec:
    market_id: str
    treasury: str
    wave_gap_days: int
    final_gap_days: int
    strategies: Mapping[str, Mapping[str, int]]
    reserves: tuple[V2ReserveSpec, ...]

    def reserve(self, symbol: str) -> V2ReserveSpec:
        (reserve,) = [r for r in self.reserves if r.symbol == symbol]
        return reserve


def load_v2_spec(path: Path = SPEC_PATH) -> V2MarketSpec:
    data = tomllib.loads(path.read_text())
    return V2MarketSpec(
        market_id=data["market_id"], treasury=data["treasury"],
        wave_gap_days=data["wave_gap_days"], final_gap_days=data["final_gap_days"],
        strategies=data["strategies"],
        reserves=tuple(V2ReserveSpec(**r) for r in data["reserves"]))


@dataclass(frozen=True)
class AaveV2Deployment:
    """Every address of the deployed v2 market (checksummed), by role and token symbol."""

    provider: str
    pool: str
    configurator: str
    oracle: str
    lending_rate_oracle: str
    eth_usd_feed: str  # the shared WETH/USD MockAggregator: the scanner's ETH/USD source
    deployer: str
    tokens: Mapping[str, str]
    decimals: Mapping[str, int]
    a_tokens: Mapping[str, str]
    stable_debt_tokens: Mapping[str, str]
    variable_debt_tokens: Mapping[str, str]
    eth_feeds: Mapping[str, str]  # symbol -> DevnetEthPriceFeed (WETH: none, priced at 1 ETH)
    deploy_block: int

    def to_dict(self) -> dict[str, Any]:
        return {key: dict(value) if isinstance(value, Mapping) else value
                for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AaveV2Deployment:
        return cls(**{f.name: data[f.name] for f in fields(cls)})


def _deploy(rpc: DevnetRpc, name: str, types: list[str] | None = None,
            args: list[Any] | None = None, libraries: dict[str, str] | None = None) -> str:
    code = link_bytecode(load_artifact(V2, name), libraries or {})
    return rpc.deploy(DEPLOYER, code, encode(types or [], args or []))


def _deploy_core(rpc: DevnetRpc, spec: V2MarketSpec) -> dict[str, str]:
    provider = _deploy(rpc, "LendingPoolAddressesProvider", ["string"], [spec.market_id])
    admin_calls(rpc, [(provider, "setPoolAdmin(address)", (DEPLOYER,)),
                      (provider, "setEmergencyAdmin(address)", (DEPLOYER,))])
    libraries = {"ReserveLogic": _deploy(rpc, "ReserveLogic"),
                 "GenericLogic": _deploy(rpc, "GenericLogic")}
    libraries["ValidationLogic"] = _deploy(rpc, "ValidationLogic", libraries=libraries)
    pool_impl = _deploy(rpc, "LendingPool", libraries=libraries)
    configurator_impl = _deploy(rpc, "LendingPoolConfigurator")
    collateral_manager = _deploy(rpc, "LendingPoolCollateralManager")
    admin_calls(rpc, [
        (provider, "setLendingPoolImpl(address)", (pool_impl,)),
        (provider, "setLendingPoolConfiguratorImpl(address)", (configurator_impl,)),
        (provider, "setLendingPoolCollateralManager(address)", (collateral_manager,)),
    ])
    return {"provider": provider,
            "pool": read_address(rpc, provider, "getLendingPool()"),
            "configurator": read_address(rpc, provider, "getLendingPoolConfigurator()")}


def _deploy_oracles(rpc: DevnetRpc, spec: V2MarketSpec, aave: AaveDeployment,
                    provider: str) -> tuple[str, str, dict[str, str]]:
    """DevnetEthPriceFeeds, the AaveOracle (WETH at 1 ETH) and the LendingRateOracle."""
    src = project_root() / "contracts" / "src" / "DevnetEthPriceFeed.sol"
    feed_code = compile_sources({"DevnetEthPriceFeed.sol": src})["DevnetEthPriceFeed"].bytecode
    eth_usd = aave.aggregators["WETH"]
    feeds = {r.symbol: rpc.deploy(DEPLOYER, feed_code, encode(
        ["address", "address"], [aave.aggregators[r.symbol], eth_usd]))
        for r in spec.reserves if r.symbol != "WETH"}
    oracle = _deploy(rpc, "AaveOracle", ["address[]", "address[]", "address", "address"],
                     [[aave.tokens[s] for s in feeds], list(feeds.values()), ZERO_ADDRESS,
                      aave.tokens["WETH"]])
    rate_oracle = _deploy(rpc, "LendingRateOracle")
    admin_calls(rpc, [(rate_oracle, "setMarketBorrowRate(address,uint256)",
                       (aave.tokens[r.symbol],
                        spec.strategies[r.strategy]["stable_base_bps"] * BPS_TO_RAY))
                      for r in spec.reserves]
                + [(provider, "setPriceOracle(address)", (oracle,)),
                   (provider, "setLendingRateOracle(address)", (rate_oracle,))])
    return oracle, rate_oracle, feeds


def _deploy_strategy(rpc: DevnetRpc, provider: str, s: Mapping[str, int]) -> str:
    keys = ("optimal_usage_bps", "base_rate_bps", "slope1_bps", "slope2_bps",
            "stable_slope1_bps", "stable_slope2_bps")
    return _deploy(rpc, "DefaultReserveInterestRateStrategy", ["address"] + ["uint256"] * 6,
                   [provider, *(s[k] * BPS_TO_RAY for k in keys)])


def _init_reserves(rpc: DevnetRpc, spec: V2MarketSpec, aave: AaveDeployment,
                   core: Mapping[str, str]) -> None:
    pool, configurator = core["pool"], core["configurator"]
    strategies = {name: _deploy_strategy(rpc, core["provider"], s)
                  for name, s in spec.strategies.items()}
    calls: list[tuple[str, str, tuple[Any, ...]]] = []
    for r in spec.reserves:
        asset, sym = aave.tokens[r.symbol], r.symbol
        a_impl = _deploy(rpc, "AToken", ["address", "address", "address", "string", "string",
                                         "address"],
                         [pool, asset, spec.treasury, f"Aave v2 Devnet {sym}", f"a{sym}",
                          ZERO_ADDRESS])
        debt_impls = [_deploy(rpc, name, ["address", "address", "string", "string", "address"],
                              [pool, asset, f"Aave v2 Devnet {kind} Debt {sym}",
                               f"{kind.lower()}Debt{sym}", ZERO_ADDRESS])
                      for name, kind in (("StableDebtToken", "Stable"),
                                         ("VariableDebtToken", "Variable"))]
        calls.append((configurator, "initReserve(address,address,address,uint8,address)",
                      (a_impl, *debt_impls, aave.decimals[sym], strategies[r.strategy])))
        if r.borrowable:
            calls.append((configurator, "enableBorrowingOnReserve(address,bool)",
                          (asset, r.stable)))
        if r.lt_bps:
            calls.append((configurator,
                          "configureReserveAsCollateral(address,uint256,uint256,uint256)",
                          (asset, r.ltv_bps, r.lt_bps, r.bonus_bps)))
        calls.append((configurator, "setReserveFactor(address,uint256)",
                       (asset, r.reserve_factor_bps)))
    admin_calls(rpc, calls)


def _reserve_tokens(rpc: DevnetRpc, pool: str, tokens: Mapping[str, str]
                    ) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    a_tokens, stable, variable = {}, {}, {}
    for symbol, asset in tokens.items():
        raw = rpc.eth_call(pool, calldata("getReserveData(address)", asset))
        words = decode(["uint256"] * 12, raw)
        a_tokens[symbol], stable[symbol], variable[symbol] = (
            str(to_checksum_address(w.to_bytes(32, "big")[-20:])) for w in words[7:10])
    return a_tokens, stable, variable


def deploy_aave2(rpc: DevnetRpc, aave: AaveDeployment,
                 spec: V2MarketSpec | None = None) -> AaveV2Deployment:
    """Deploy the v2 market over the v3 market's tokens and USD feeds."""
    spec = spec or load_v2_spec()
    deploy_block = rpc.block_number() + 1
    core = _deploy_core(rpc, spec)
    oracle, rate_oracle, feeds = _deploy_oracles(rpc, spec, aave, core["provider"])
    _init_reserves(rpc, spec, aave, core)
    tokens = {r.symbol: aave.tokens[r.symbol] for r in spec.reserves}
    a_tokens, stable, variable = _reserve_tokens(rpc, core["pool"], tokens)
    return AaveV2Deployment(
        provider=core["provider"], pool=core["pool"], configurator=core["configurator"],
        oracle=oracle, lending_rate_oracle=rate_oracle, eth_usd_feed=aave.aggregators["WETH"],
        deployer=DEPLOYER, tokens=tokens, decimals={s: aave.decimals[s] for s in tokens},
        a_tokens=a_tokens, stable_debt_tokens=stable, variable_debt_tokens=variable,
        eth_feeds=feeds, deploy_block=deploy_block)

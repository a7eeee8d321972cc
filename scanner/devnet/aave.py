"""A genuine Aave V3 (v3.0.x) market on the devnet, deployed from the npm artifacts.

The market's parameters are data (aave_market.toml, read by aave_spec.load_market_spec);
`deploy_aave`
runs the deployment sequence of /work/shared/reference/local-devnet.md and returns every
address in an `AaveDeployment`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address

from scanner.devnet.aave_spec import (
    PRICE_UNIT_8DEC,
    MarketSpec,
    ReserveSpec,
    StrategySpec,
    load_market_spec,
)
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.toolchain import link_bytecode, load_artifact
from scanner.errors import ConfigError

CORE = "@aave/core-v3"
PERIPHERY = "@aave/periphery-v3"
DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil account 0: every admin role
BPS_TO_RAY = 10**23  # 1 bps = 1e-4 = 1e23 / 1e27
INIT_RESERVES_PER_TX = 4  # ~2.3M gas each: stays under a 16.7M per-transaction cap
POOL_LIBRARIES = (
    "BorrowLogic", "BridgeLogic", "EModeLogic", "LiquidationLogic", "PoolLogic", "SupplyLogic",
)


# --- the deployed market ----------------------------------------------------------------


@dataclass(frozen=True)
class AaveDeployment:
    """Every address of the deployed market (checksummed), by role and by token symbol."""

    provider: str
    pool: str
    configurator: str
    oracle: str
    data_provider: str
    ui_data_provider: str
    acl_manager: str
    deployer: str
    usd_aggregator: str  # 1 USD, the UiPoolDataProvider's reference-currency feed
    tokens: Mapping[str, str]
    aggregators: Mapping[str, str]
    a_tokens: Mapping[str, str]
    variable_debt_tokens: Mapping[str, str]
    decimals: Mapping[str, int]
    deploy_block: int

    def to_dict(self) -> dict[str, Any]:
        return {key: dict(value) if isinstance(value, Mapping) else value
                for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AaveDeployment:
        return cls(**{f.name: data[f.name] for f in fields(cls)})

    def symbol_of(self, asset: str) -> str:
        for symbol, address in self.tokens.items():
            if address.lower() == asset.lower():
                return symbol
        raise ConfigError(f"{asset} is not a token of the devnet Aave market")


def _deploy(rpc: DevnetRpc, package: str, name: str, types: list[str] | None = None,
            args: list[Any] | None = None, libraries: dict[str, str] | None = None) -> str:
    artifact = load_artifact(package, name)
    code = link_bytecode(artifact, libraries or {})
    return rpc.deploy(DEPLOYER, code, encode(types or [], args or []))


def read_address(rpc: DevnetRpc, to: str, signature: str, *args: Any) -> str:
    (address,) = decode(["address"], rpc.eth_call(to, calldata(signature, *args)))
    return str(to_checksum_address(address))


def admin_calls(rpc: DevnetRpc, calls: list[tuple[str, str, tuple[Any, ...]]]) -> None:
    """Send (target, signature, args) calls from the deployer, in order."""
    rpc.send_many([Tx(DEPLOYER, to, calldata(sig, *args)) for to, sig, args in calls])


def _deploy_core(rpc: DevnetRpc, spec: MarketSpec) -> dict[str, str]:
    """Provider, ACL, linked Pool and PoolConfigurator behind their proxies."""
    provider = _deploy(rpc, CORE, "PoolAddressesProvider", ["string", "address"],
                       [spec.market_id, DEPLOYER])
    admin_calls(rpc, [(provider, "setACLAdmin(address)", (DEPLOYER,))])
    acl = _deploy(rpc, CORE, "ACLManager", ["address"], [provider])
    roles = ("addPoolAdmin", "addRiskAdmin", "addAssetListingAdmin", "addEmergencyAdmin")
    admin_calls(rpc, [(provider, "setACLManager(address)", (acl,))]
                 + [(acl, f"{role}(address)", (DEPLOYER,)) for role in roles])
    libraries = {name: _deploy(rpc, CORE, name) for name in (*POOL_LIBRARIES, "ConfiguratorLogic")}
    libraries["FlashLoanLogic"] = _deploy(rpc, CORE, "FlashLoanLogic", libraries=libraries)
    pool_impl = _deploy(rpc, CORE, "Pool", ["address"], [provider], libraries)
    admin_calls(rpc, [(provider, "setPoolImpl(address)", (pool_impl,))])
    configurator_impl = _deploy(rpc, CORE, "PoolConfigurator", libraries=libraries)
    admin_calls(rpc, [(provider, "setPoolConfiguratorImpl(address)", (configurator_impl,))])
    return {
        "provider": provider,
        "acl_manager": acl,
        "pool": read_address(rpc, provider, "getPool()"),
        "configurator": read_address(rpc, provider, "getPoolConfigurator()"),
    }


def _deploy_tokens(rpc: DevnetRpc, spec: MarketSpec) -> tuple[dict[str, str], dict[str, str]]:
    """One mintable token and one MockAggregator (at the seed price) per reserve."""
    tokens: dict[str, str] = {}
    aggregators: dict[str, str] = {}
    for reserve in spec.reserves:
        if reserve.symbol == "WETH":
            tokens["WETH"] = _deploy(rpc, CORE, "WETH9Mocked")
        else:
            tokens[reserve.symbol] = _deploy(
                rpc, CORE, "MintableERC20", ["string", "string", "uint8"],
                [reserve.name, reserve.symbol, reserve.decimals])
        aggregators[reserve.symbol] = _deploy(
            rpc, CORE, "MockAggregator", ["int256"], [reserve.seed_price_8dec])
    return tokens, aggregators


def _init_reserve_input(spec: MarketSpec, reserve: ReserveSpec, asset: str,
                        impls: Mapping[str, str], strategies: Mapping[str, str]) -> tuple[Any, ...]:
    sym = reserve.symbol
    return (impls["AToken"], impls["StableDebtToken"], impls["VariableDebtToken"],
            reserve.decimals, strategies[reserve.strategy], asset, spec.treasury,
            "0x" + "00" * 20, f"Aave Devnet {sym}", f"aDev{sym}",
            f"Aave Devnet Variable Debt {sym}", f"variableDebtDev{sym}",
            f"Aave Devnet Stable Debt {sym}", f"stableDebtDev{sym}", b"")


def _list_reserves(rpc: DevnetRpc, spec: MarketSpec, core: Mapping[str, str],
                   tokens: Mapping[str, str]) -> None:
    """Token implementations, rate strategies, then initReserves in chunks."""
    impls = {name: _deploy(rpc, CORE, name, ["address"], [core["pool"]])
             for name in ("AToken", "StableDebtToken", "VariableDebtToken")}
    strategies = {name: _deploy_strategy(rpc, core["provider"], s)
                  for name, s in spec.strategies.items()}
    inputs = [_init_reserve_input(spec, r, tokens[r.symbol], impls, strategies)
              for r in spec.reserves]
    signature = ("initReserves((address,address,address,uint8,address,address,address,address,"
                 "string,string,string,string,string,string,bytes)[])")
    rpc.send_many([
        Tx(DEPLOYER, core["configurator"], calldata(signature, inputs[i:i + INIT_RESERVES_PER_TX]),
           gas=16_000_000)
        for i in range(0, len(inputs), INIT_RESERVES_PER_TX)
    ])


def _deploy_strategy(rpc: DevnetRpc, provider: str, s: StrategySpec) -> str:
    # stable slopes mirror the variable ones; stable borrowing itself stays disabled
    rates_bps = [s.optimal_usage_bps, s.base_rate_bps, s.slope1_bps, s.slope2_bps,
                 s.slope1_bps, s.slope2_bps, 0, 0, 2000]
    return _deploy(rpc, CORE, "DefaultReserveInterestRateStrategy", ["address"] + ["uint256"] * 9,
                   [provider, *(bps * BPS_TO_RAY for bps in rates_bps)])


def _configure_reserves(rpc: DevnetRpc, spec: MarketSpec, configurator: str,
                        tokens: Mapping[str, str]) -> None:
    calls: list[tuple[str, str, tuple[Any, ...]]] = []
    for r in spec.reserves:
        asset = tokens[r.symbol]
        calls += [
            (configurator, "setReserveBorrowing(address,bool)", (asset, r.borrowable)),
            (configurator, "configureReserveAsCollateral(address,uint256,uint256,uint256)",
             (asset, r.ltv_bps, r.lt_bps, r.bonus_bps)),
            (configurator, "setReserveFactor(address,uint256)", (asset, r.reserve_factor_bps)),
        ]
        if r.debt_ceiling_usd:  # Aave keeps the ceiling with 2 decimals
            calls.append((configurator, "setDebtCeiling(address,uint256)",
                          (asset, r.debt_ceiling_usd * 100)))
        if r.borrowable_in_isolation:
            calls.append((configurator, "setBorrowableInIsolation(address,bool)", (asset, True)))
    for e in spec.emodes:
        calls.append((configurator, "setEModeCategory(uint8,uint16,uint16,uint16,address,string)",
                      (e.category_id, e.ltv_bps, e.lt_bps, e.bonus_bps, "0x" + "00" * 20,
                       e.label)))
    calls += [(configurator, "setAssetEModeCategory(address,uint8)",
               (tokens[r.symbol], r.emode_category)) for r in spec.reserves if r.emode_category]
    admin_calls(rpc, calls)


def deploy_aave(rpc: DevnetRpc, spec: MarketSpec | None = None) -> AaveDeployment:
    """Deploy the whole market (core, oracle, data providers, reserves, eMode) on `rpc`."""
    spec = spec or load_market_spec()
    # 1. provider, ACL, pool and configurator proxies
    deploy_block = rpc.block_number() + 1
    core = _deploy_core(rpc, spec)
    # 2. tokens and price feeds; the oracle and the data providers
    tokens, aggregators = _deploy_tokens(rpc, spec)
    symbols = [r.symbol for r in spec.reserves]
    oracle = _deploy(rpc, CORE, "AaveOracle",
                     ["address", "address[]", "address[]", "address", "address", "uint256"],
                     [core["provider"], [tokens[s] for s in symbols],
                      [aggregators[s] for s in symbols], "0x" + "00" * 20, "0x" + "00" * 20,
                      PRICE_UNIT_8DEC])
    data_provider = _deploy(rpc, CORE, "AaveProtocolDataProvider", ["address"], [core["provider"]])
    admin_calls(rpc, [(core["provider"], "setPriceOracle(address)", (oracle,)),
                       (core["provider"], "setPoolDataProvider(address)", (data_provider,))])
    usd_aggregator = _deploy(rpc, CORE, "MockAggregator", ["int256"], [PRICE_UNIT_8DEC])
    ui_data_provider = _deploy(rpc, PERIPHERY, "UiPoolDataProviderV3", ["address", "address"],
                               [aggregators["WETH"], usd_aggregator])
    # 3. reserves, their risk parameters, eMode
    _list_reserves(rpc, spec, core, tokens)
    _configure_reserves(rpc, spec, core["configurator"], tokens)
    a_tokens, debt_tokens = reserve_tokens(rpc, data_provider, tokens)
    return AaveDeployment(
        provider=core["provider"], pool=core["pool"], configurator=core["configurator"],
        oracle=oracle, data_provider=data_provider, ui_data_provider=ui_data_provider,
        acl_manager=core["acl_manager"], deployer=DEPLOYER, usd_aggregator=usd_aggregator,
        tokens=tokens, aggregators=aggregators, a_tokens=a_tokens,
        variable_debt_tokens=debt_tokens,
        decimals={r.symbol: r.decimals for r in spec.reserves}, deploy_block=deploy_block,
    )


def reserve_tokens(rpc: DevnetRpc, data_provider: str,
                    tokens: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    a_tokens: dict[str, str] = {}
    debt_tokens: dict[str, str] = {}
    for symbol, asset in tokens.items():
        raw = rpc.eth_call(data_provider, calldata("getReserveTokensAddresses(address)", asset))
        a_token, _stable, variable = decode(["address", "address", "address"], raw)
        a_tokens[symbol] = str(to_checksum_address(a_token))
        debt_tokens[symbol] = str(to_checksum_address(variable))
    return a_tokens, debt_tokens

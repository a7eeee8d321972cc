"""A second Aave market on the devnet running the real Aave v3.6 bytecode (POOL_REVISION 10).

`deploy_aave36` follows the order of aave-v3-origin's own deployment procedures
(src/deployments/contracts/procedures): PoolAddressesProvider, the single
DefaultReserveInterestRateStrategyV2 and the PoolAddressesProviderRegistry (SetupProcedure's
initial deployment); the external logic libraries (LibrariesBatch1/2); PoolInstance and
PoolConfiguratorInstance (PoolProcedure); AaveOracle (OracleProcedure); the provider's pool,
configurator and oracle slots, then the ACL (SetupProcedure); AaveProtocolDataProvider
(GettersProcedureTwo); ATokenInstance / VariableDebtTokenInstance (TokensProcedure); reserves
through the configurator. The tokens and price feeds are the v3.0 market's (see prices.py):
one price move reaches both markets. No rewards controller (address 0, as the tokens allow).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi.abi import encode

from scanner.devnet.aave import DEPLOYER, AaveDeployment, admin_calls, read_address, reserve_tokens
from scanner.devnet.aave36_build import compile_aave36, link
from scanner.devnet.aave36_spec import Market36Spec, load_market36_spec
from scanner.devnet.aave_spec import PRICE_UNIT_8DEC
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.solc import CompiledContract

ZERO = "0x" + "00" * 20
REGISTRY_PROVIDER_ID = 36
LIBRARIES = ("BorrowLogic", "ConfiguratorLogic", "LiquidationLogic", "PoolLogic", "SupplyLogic",
             "FlashLoanLogic")  # FlashLoanLogic links BorrowLogic, so it comes last
INIT_RESERVES_PER_TX = 4
_INIT_RESERVES = ("initReserves((address,address,address,string,string,string,string,bytes,"
                  "bytes)[])")
_ROLES = ("addPoolAdmin", "addRiskAdmin", "addAssetListingAdmin", "addEmergencyAdmin")


class _Deployer:
    """Deploys compiled v3.6 contracts from the devnet deployer, libraries linked."""

    def __init__(self, rpc: DevnetRpc) -> None:
        self.rpc = rpc
        self.contracts = compile_aave36()
        self.libraries: list[tuple[CompiledContract, str]] = []

    def deploy(self, name: str, types: Sequence[str] = (), args: Sequence[Any] = ()) -> str:
        code = link(self.contracts[name], self.libraries)
        return self.rpc.deploy(DEPLOYER, code, encode(list(types), list(args)))

    def deploy_libraries(self) -> None:
        for name in LIBRARIES:
            self.libraries.append((self.contracts[name], self.deploy(name)))


def _deploy_core(d: _Deployer, spec: Market36Spec, tokens: Mapping[str, str],
                 aggregators: Mapping[str, str]) -> dict[str, str]:
    # 1. initial deployment: provider, the one rate strategy, the registry
    provider = d.deploy("PoolAddressesProvider", ["string", "address"], [spec.market_id, DEPLOYER])
    strategy = d.deploy("DefaultReserveInterestRateStrategyV2", ["address"], [provider])
    registry = d.deploy("PoolAddressesProviderRegistry", ["address"], [DEPLOYER])
    admin_calls(d.rpc, [(registry, "registerAddressesProvider(address,uint256)",
                          (provider, REGISTRY_PROVIDER_ID))])
    # 2. libraries, pool and configurator implementations, oracle
    d.deploy_libraries()
    pool_impl = d.deploy("PoolInstance", ["address", "address"], [provider, strategy])
    configurator_impl = d.deploy("PoolConfiguratorInstance")
    symbols = [r.symbol for r in spec.reserves]
    oracle = d.deploy("AaveOracle",
                      ["address", "address[]", "address[]", "address", "address", "uint256"],
                      [provider, [tokens[s] for s in symbols], [aggregators[s] for s in symbols],
                       ZERO, ZERO, PRICE_UNIT_8DEC])
    # 3. setup: provider slots (proxies are created here), then the ACL
    admin_calls(d.rpc, [(provider, "setPriceOracle(address)", (oracle,)),
                         (provider, "setPoolImpl(address)", (pool_impl,)),
                         (provider, "setPoolConfiguratorImpl(address)", (configurator_impl,)),
                         (provider, "setACLAdmin(address)", (DEPLOYER,))])
    acl = d.deploy("ACLManager", ["address"], [provider])
    admin_calls(d.rpc, [(provider, "setACLManager(address)", (acl,))]
                 + [(acl, f"{role}(address)", (DEPLOYER,)) for role in _ROLES])
    data_provider = d.deploy("AaveProtocolDataProvider", ["address"], [provider])
    admin_calls(d.rpc, [(provider, "setPoolDataProvider(address)", (data_provider,))])
    return {"provider": provider, "strategy": strategy, "oracle": oracle, "acl_manager": acl,
            "data_provider": data_provider, "pool": read_address(d.rpc, provider, "getPool()"),
            "configurator": read_address(d.rpc, provider, "getPoolConfigurator()")}


def _rate_data(spec: Market36Spec, strategy: str) -> bytes:
    s = spec.strategies[strategy]  # InterestRateData: uint16 + 3x uint32, all in bps
    return encode(["(uint16,uint32,uint32,uint32)"],
                  [(s.optimal_usage_bps, s.base_rate_bps, s.slope1_bps, s.slope2_bps)])


def _list_reserves(d: _Deployer, spec: Market36Spec, core: Mapping[str, str],
                   tokens: Mapping[str, str]) -> None:
    a_token_impl = d.deploy("ATokenInstance", ["address", "address", "address"],
                            [core["pool"], ZERO, spec.treasury])
    debt_impl = d.deploy("VariableDebtTokenInstance", ["address", "address"], [core["pool"], ZERO])
    inputs = [(a_token_impl, debt_impl, tokens[r.symbol], f"Aave v3.6 Devnet {r.symbol}",
               f"a36Dev{r.symbol}", f"Aave v3.6 Devnet Variable Debt {r.symbol}",
               f"variableDebt36Dev{r.symbol}", b"", _rate_data(spec, r.strategy))
              for r in spec.reserves]
    d.rpc.send_many([
        Tx(DEPLOYER, core["configurator"],
           calldata(_INIT_RESERVES, inputs[i:i + INIT_RESERVES_PER_TX]), gas=16_000_000)
        for i in range(0, len(inputs), INIT_RESERVES_PER_TX)
    ])


def _configure(rpc: DevnetRpc, spec: Market36Spec, configurator: str,
               tokens: Mapping[str, str]) -> None:
    calls: list[tuple[str, str, tuple[Any, ...]]] = []
    for r in spec.reserves:
        asset = tokens[r.symbol]
        calls.append((configurator, "setReserveBorrowing(address,bool)", (asset, r.borrowable)))
        if r.lt_bps:  # a fresh reserve already has LT 0: collateral nowhere but in eModes
            calls.append((configurator,
                          "configureReserveAsCollateral(address,uint256,uint256,uint256)",
                          (asset, r.ltv_bps, r.lt_bps, r.bonus_bps)))
        calls.append((configurator, "setReserveFactor(address,uint256)",
                      (asset, r.reserve_factor_bps)))
    for e in spec.emodes:
        calls.append((configurator, "setEModeCategory(uint8,uint16,uint16,uint16,string)",
                      (e.category_id, e.ltv_bps, e.lt_bps, e.bonus_bps, e.label)))
        calls += [(configurator, "setAssetCollateralInEMode(address,uint8,bool)",
                   (tokens[s], e.category_id, True)) for s in e.collateral]
        calls += [(configurator, "setAssetBorrowableInEMode(address,uint8,bool)",
                   (tokens[s], e.category_id, True)) for s in e.borrowable]
    admin_calls(rpc, calls)


def set_ltv_zero_after_seed(rpc: DevnetRpc, aave: AaveDeployment, spec: Market36Spec) -> None:
    """Put the spec's (asset, eMode) pairs on the eMode ltvzero bitmaps (positions stay open)."""
    admin_calls(rpc, [(aave.configurator, "setAssetLtvzeroInEMode(address,uint8,bool)",
                        (aave.tokens[symbol], category_id, True))
                       for symbol, category_id in spec.ltv_zero_after_seed])


def deploy_aave36(rpc: DevnetRpc, v30: AaveDeployment,
                  spec: Market36Spec | None = None) -> AaveDeployment:
    """Deploy the v3.6 market on `rpc`, listing `v30`'s tokens priced by `v30`'s feeds."""
    spec = spec or load_market36_spec()
    deploy_block = rpc.block_number() + 1
    deployer = _Deployer(rpc)
    symbols = [r.symbol for r in spec.reserves]
    tokens = {s: v30.tokens[s] for s in symbols}
    aggregators = {s: v30.aggregators[s] for s in symbols}
    core = _deploy_core(deployer, spec, tokens, aggregators)
    _list_reserves(deployer, spec, core, tokens)
    _configure(rpc, spec, core["configurator"], tokens)
    a_tokens, debt_tokens = reserve_tokens(rpc, core["data_provider"], tokens)
    return AaveDeployment(
        provider=core["provider"], pool=core["pool"], configurator=core["configurator"],
        oracle=core["oracle"], data_provider=core["data_provider"],
        ui_data_provider=ZERO,  # no UiPoolDataProvider: liqscan does not read one
        acl_manager=core["acl_manager"], deployer=DEPLOYER, usd_aggregator=v30.usd_aggregator,
        tokens=tokens, aggregators=aggregators, a_tokens=a_tokens,
        variable_debt_tokens=debt_tokens, decimals={r.symbol: r.decimals for r in spec.reserves},
        deploy_block=deploy_block,
    )

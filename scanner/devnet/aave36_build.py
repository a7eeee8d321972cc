"""Compile the real Aave v3.6 contracts from npm `@aave-dao/aave-v3-origin` with solc-js 0.8.27.

    contracts = compile_aave36()                 # cached under .cache/solc after the first run
    pool_code = link(contracts["PoolInstance"], {"BorrowLogic": "0x...", ...})

The settings are the package's own foundry profile (solc 0.8.27, optimizer on, 200 runs, evm
shanghai, no via-IR, bytecode_hash "none"), and the imports resolve through the remappings its
sources are written against: `openzeppelin-contracts/contracts/` and
`openzeppelin-contracts-upgradeable/contracts/` are the npm OpenZeppelin 5.x packages,
`solidity-utils/contracts/` is npm `@bgd-labs/solidity-utils`. Only the contracts the devnet
deploys get code generated (the external libraries the Pool and configurator link are among them).
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils.crypto import keccak

from scanner.devnet.solc import CompiledContract, CompilerSettings, compile_sources
from scanner.devnet.toolchain import npm_package_dir
from scanner.errors import ToolchainError

ORIGIN_PACKAGE = "@aave-dao/aave-v3-origin"
SRC = f"{ORIGIN_PACKAGE}/src/contracts"
SETTINGS = CompilerSettings(
    solc_package="solc-0827",
    optimizer_runs=200,
    via_ir=False,
    evm_version="shanghai",
    bytecode_hash="none",
    remappings=(
        ("openzeppelin-contracts/contracts/", "@openzeppelin/contracts/"),
        ("openzeppelin-contracts-upgradeable/contracts/", "@openzeppelin/contracts-upgradeable/"),
        ("solidity-utils/contracts/", "@bgd-labs/solidity-utils/src/contracts/"),
    ),
)
# source unit (under src/contracts) -> the contracts deployed from it, in deployment order
DEPLOYED: dict[str, tuple[str, ...]] = {
    "protocol/configuration/PoolAddressesProvider.sol": ("PoolAddressesProvider",),
    "protocol/configuration/PoolAddressesProviderRegistry.sol": ("PoolAddressesProviderRegistry",),
    "protocol/configuration/ACLManager.sol": ("ACLManager",),
    "misc/DefaultReserveInterestRateStrategyV2.sol": ("DefaultReserveInterestRateStrategyV2",),
    "protocol/libraries/logic/BorrowLogic.sol": ("BorrowLogic",),
    "protocol/libraries/logic/ConfiguratorLogic.sol": ("ConfiguratorLogic",),
    "protocol/libraries/logic/FlashLoanLogic.sol": ("FlashLoanLogic",),
    "protocol/libraries/logic/LiquidationLogic.sol": ("LiquidationLogic",),
    "protocol/libraries/logic/PoolLogic.sol": ("PoolLogic",),
    "protocol/libraries/logic/SupplyLogic.sol": ("SupplyLogic",),
    "instances/PoolInstance.sol": ("PoolInstance",),
    "instances/PoolConfiguratorInstance.sol": ("PoolConfiguratorInstance",),
    "misc/AaveOracle.sol": ("AaveOracle",),
    "helpers/AaveProtocolDataProvider.sol": ("AaveProtocolDataProvider",),
    "instances/ATokenInstance.sol": ("ATokenInstance",),
    "instances/VariableDebtTokenInstance.sol": ("VariableDebtTokenInstance",),
}


def compile_aave36() -> dict[str, CompiledContract]:
    """Every deployed v3.6 contract by name (cached; the first compile takes minutes)."""
    root = npm_package_dir(ORIGIN_PACKAGE) / "src" / "contracts"
    sources = {f"{SRC}/{unit}": root / unit for unit in DEPLOYED}
    select = {f"{SRC}/{unit}": names for unit, names in DEPLOYED.items()}
    compiled = compile_sources(sources, settings=SETTINGS, select=select)
    return {name: compiled[f"{SRC}/{unit}:{name}"]
            for unit, names in DEPLOYED.items() for name in names}


def library_placeholder(contract: CompiledContract) -> str:
    """solc's link placeholder for a library: `__$` + 34 hex of keccak(unit:Name) + `$__`."""
    return "__$" + keccak(f"{contract.source}:{contract.name}".encode()).hex()[:34] + "$__"


def link(contract: CompiledContract, libraries: Sequence[tuple[CompiledContract, str]]) -> str:
    """Creation bytecode of `contract` with each (library, address) placeholder patched."""
    code = contract.bytecode
    for library, address in libraries:
        code = code.replace(library_placeholder(library), address.lower().removeprefix("0x"))
    if "__$" in code:
        raise ToolchainError(f"{contract.name} needs a library that was not deployed")
    return code

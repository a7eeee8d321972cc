"""Regenerate contracts/abi/{aave-v3,aave-v2,erc20,uniswap-v3}/*.json from the pinned npm artifacts.

    .venv/bin/python scripts/extract_abis.py           # write the files
    .venv/bin/python scripts/extract_abis.py --check   # exit 1 if any file differs

The ABI list is written exactly as in the hardhat artifact, so the committed files stay
identical to what the real contracts were compiled into.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scanner.devnet.toolchain import load_artifact, project_root

CORE = "@aave/core-v3"
PERIPHERY = "@aave/periphery-v3"
V2 = "@aave/protocol-v2"
# (npm package, artifact name, output protocol dir, output contract name)
ABIS = (
    (CORE, "Pool", "aave-v3", "Pool"),
    (CORE, "PoolAddressesProvider", "aave-v3", "PoolAddressesProvider"),
    (CORE, "AaveOracle", "aave-v3", "AaveOracle"),
    (CORE, "AaveProtocolDataProvider", "aave-v3", "AaveProtocolDataProvider"),
    (PERIPHERY, "UiPoolDataProviderV3", "aave-v3", "UiPoolDataProviderV3"),
    (CORE, "AToken", "aave-v3", "AToken"),
    (CORE, "VariableDebtToken", "aave-v3", "VariableDebtToken"),
    (CORE, "StableDebtToken", "aave-v3", "StableDebtToken"),
    (CORE, "PoolConfigurator", "aave-v3", "PoolConfigurator"),
    (CORE, "IERC20Detailed", "erc20", "ERC20"),
    # Aave v2: the contracts scanner/protocols/aave_v2 reads, as npm @aave/protocol-v2 built them
    (V2, "LendingPool", "aave-v2", "LendingPool"),
    (V2, "LendingPoolAddressesProvider", "aave-v2", "LendingPoolAddressesProvider"),
    (V2, "AaveOracle", "aave-v2", "AaveOracle"),
    (V2, "AToken", "aave-v2", "AToken"),
    (V2, "StableDebtToken", "aave-v2", "StableDebtToken"),
    (V2, "VariableDebtToken", "aave-v2", "VariableDebtToken"),
    (V2, "IChainlinkAggregator", "aave-v2", "IChainlinkAggregator"),
    # Uniswap v3: the pool scanner/cascade/uniswap_v3 reads for market depth
    ("@uniswap/v3-core", "UniswapV3Pool", "uniswap-v3", "UniswapV3Pool"),
)


def render(package: str, artifact: str) -> str:
    return json.dumps(load_artifact(package, artifact).abi, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    stale: list[Path] = []
    for package, artifact, protocol, contract in ABIS:
        path = project_root() / "contracts" / "abi" / protocol / f"{contract}.json"
        text = render(package, artifact)
        if path.is_file() and path.read_text() == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(f"{'differs' if args.check else 'wrote'}: {path.relative_to(project_root())}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Put an aggregate3 multicall at Multicall3's canonical address on the devnet.

anvil ships without Multicall3. Our own contract (contracts/src/LiqscanMulticall.sol, same
`aggregate3` ABI and semantics) is compiled and its runtime code written with `anvil_setCode`
at MULTICALL3_ADDRESS, so the scanner reads the devnet exactly as it reads mainnet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scanner.devnet.rpc import DevnetRpc
from scanner.devnet.solc import CompiledContract, compile_sources
from scanner.devnet.toolchain import project_root
from scanner.errors import InconsistentDataError

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
MULTICALL_SOURCE = "LiqscanMulticall.sol"
# The functions the scanner calls; contracts/abi/multicall3/Multicall3.json holds exactly these.
MULTICALL_ABI_FUNCTIONS = (
    "aggregate3", "getBlockNumber", "getCurrentBlockTimestamp", "getEthBalance",
)


def multicall_abi_path() -> Path:
    return project_root() / "contracts" / "abi" / "multicall3" / "Multicall3.json"


def compile_multicall() -> CompiledContract:
    """LiqscanMulticall compiled with the project's solc settings (cached)."""
    source = project_root() / "contracts" / "src" / MULTICALL_SOURCE
    return compile_sources({MULTICALL_SOURCE: source})["LiqscanMulticall"]


def multicall_abi(contract: CompiledContract) -> list[dict[str, Any]]:
    """The compiled ABI entries of the functions we use, in MULTICALL_ABI_FUNCTIONS order."""
    by_name = {entry.get("name"): entry for entry in contract.abi if entry["type"] == "function"}
    return [by_name[name] for name in MULTICALL_ABI_FUNCTIONS]


def write_multicall_abi() -> Path:
    """Regenerate contracts/abi/multicall3/Multicall3.json from the compiled contract."""
    path = multicall_abi_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(multicall_abi(compile_multicall()), indent=2) + "\n")
    return path


def install_multicall(rpc: DevnetRpc) -> None:
    """Write LiqscanMulticall's runtime code at MULTICALL3_ADDRESS and check it landed."""
    runtime_code = compile_multicall().deployed_bytecode
    rpc.call("anvil_setCode", [MULTICALL3_ADDRESS, runtime_code])
    installed = rpc.call("eth_getCode", [MULTICALL3_ADDRESS, "latest"])
    if str(installed).lower() != runtime_code.lower():
        raise InconsistentDataError(
            f"anvil_setCode at {MULTICALL3_ADDRESS} did not take: is the node an anvil?"
        )

"""Our own Solidity on the devnet (contracts/src/Devnet*.sol): compile, deploy, send, read.

Maker, Liquity v1 and Liquity v2 deploy contracts we wrote (see each source's header for
why); this is the one place that compiles them and talks to them, so the three devnet
builders share one way of doing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address

from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.solc import CompiledContract, compile_sources
from scanner.devnet.toolchain import project_root

Call = tuple[str, str, tuple[Any, ...]]  # (to, signature, args)


def compile_own(sources: Sequence[str]) -> dict[str, CompiledContract]:
    """Compile the named files of contracts/src together (contract name -> artifact)."""
    src = project_root() / "contracts" / "src"
    return compile_sources({name: src / name for name in sources})


def deploy(rpc: DevnetRpc, compiled: Mapping[str, CompiledContract], deployer: str, name: str,
           types: Sequence[str] = (), args: Sequence[Any] = ()) -> str:
    return rpc.deploy(deployer, compiled[name].bytecode, encode(list(types), list(args)))


def send(rpc: DevnetRpc, sender: str, calls: Sequence[Call]) -> None:
    rpc.send_many([Tx(sender, to, calldata(sig, *args)) for to, sig, args in calls])


def advance(rpc: DevnetRpc, seconds: int) -> None:
    """Move the node's clock `seconds` forward and mine a block at the new time."""
    rpc.call("evm_increaseTime", [seconds])
    rpc.mine()


def read_uint(rpc: DevnetRpc, to: str, signature: str, *args: Any) -> int:
    (value,) = decode(["uint256"], rpc.eth_call(to, calldata(signature, *args)))
    return int(value)


def read_address(rpc: DevnetRpc, to: str, signature: str, *args: Any) -> str:
    (value,) = decode(["address"], rpc.eth_call(to, calldata(signature, *args)))
    return str(to_checksum_address(value))

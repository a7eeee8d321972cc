"""LiqscanMulticall at the canonical Multicall3 address answers like individual eth_calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_abi.abi import decode, encode
from eth_utils.abi import function_signature_to_4byte_selector

from scanner.devnet.anvil import Anvil
from scanner.devnet.multicall import (
    MULTICALL3_ADDRESS,
    MULTICALL_SOURCE,
    compile_multicall,
    install_multicall,
    multicall_abi,
    multicall_abi_path,
)
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.solc import compile_sources
from scanner.devnet.toolchain import load_artifact, project_root
from scanner.errors import ToolchainError

pytestmark = pytest.mark.integration

DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil account 0
HOLDER = "0x00000000000000000000000000000000000a11ce"
OTHER = "0x0000000000000000000000000000000000000b0b"
NO_CODE = "0x000000000000000000000000000000000000dEaD"
AGGREGATE3 = "aggregate3((address,bool,bytes)[])"
ERROR_STRING_SELECTOR = function_signature_to_4byte_selector("Error(string)")


@dataclass(frozen=True)
class Chain:
    rpc: DevnetRpc
    token: str


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    with Anvil.start() as node:
        rpc = DevnetRpc(node.url)
        install_multicall(rpc)
        artifact = load_artifact("@aave/core-v3", "MintableERC20")
        token = rpc.deploy(DEPLOYER, artifact.bytecode, encode(["string", "string", "uint8"],
                                                                 ["Test USD", "TUSD", 6]))
        rpc.send(Tx(DEPLOYER, token, calldata("mint(address,uint256)", HOLDER, 1_234_567)))
        yield Chain(rpc, token)


def raw_eth_call(rpc: DevnetRpc, to: str, data: str, block: str = "latest") -> dict[str, Any]:
    """One eth_call whose error object is returned, not raised: we compare revert data."""
    body: Any = {"jsonrpc": "2.0", "id": 1, "method": "eth_call",
            "params": [{"from": MULTICALL3_ADDRESS, "to": to, "data": data}, block]}
    answer: dict[str, Any] = requests.post(rpc.url, json=body, timeout=30).json()
    return answer


def aggregate3(rpc: DevnetRpc, calls: list[tuple[str, bool, str]], block: str = "latest"
               ) -> list[tuple[bool, bytes]]:
    encoded = [(target, allow, bytes.fromhex(data[2:])) for target, allow, data in calls]
    raw = rpc.eth_call(MULTICALL3_ADDRESS, calldata(AGGREGATE3, encoded), block)
    (results,) = decode(["(bool,bytes)[]"], raw)
    return [(bool(ok), bytes(data)) for ok, data in results]


def test_installed_code_is_the_compiled_runtime(chain: Chain) -> None:
    code = chain.rpc.call("eth_getCode", [MULTICALL3_ADDRESS, "latest"])
    assert code == compile_multicall().deployed_bytecode
    assert len(code) > 2


def test_aggregate3_matches_individual_calls(chain: Chain) -> None:
    reverting = calldata("transferFrom(address,address,uint256)", HOLDER, OTHER, 1)
    calls = [
        (chain.token, False, calldata("balanceOf(address)", HOLDER)),
        (chain.token, False, calldata("balanceOf(address)", OTHER)),
        (chain.token, False, calldata("decimals()")),
        (chain.token, False, calldata("symbol()")),
        (chain.token, False, calldata("totalSupply()")),
        (NO_CODE, False, calldata("balanceOf(address)", HOLDER)),
        (chain.token, True, reverting),
    ]
    results = aggregate3(chain.rpc, calls)
    for (target, _allow, data), (success, return_data) in zip(calls, results, strict=True):
        single = raw_eth_call(chain.rpc, target, data)
        if "error" in single:
            assert not success
            assert "0x" + return_data.hex() == single["error"]["data"]
        else:
            assert success
            assert "0x" + return_data.hex() == single["result"]
    assert decode(["uint256"], results[0][1]) == (1_234_567,)
    assert results[5] == (True, b"")  # no code: success with empty data, as Multicall3 does
    assert results[6][0] is False and results[6][1][:4] == ERROR_STRING_SELECTOR


def test_failure_not_allowed_reverts_the_batch(chain: Chain) -> None:
    reverting = calldata("transferFrom(address,address,uint256)", HOLDER, OTHER, 1)
    ok_call = (chain.token, False, bytes.fromhex(calldata("decimals()")[2:]))
    bad_call = (chain.token, False, bytes.fromhex(reverting[2:]))
    answer = raw_eth_call(chain.rpc, MULTICALL3_ADDRESS, calldata(AGGREGATE3, [ok_call, bad_call]))
    assert "error" in answer
    revert_data = bytes.fromhex(answer["error"]["data"][2:])
    assert revert_data[:4] == ERROR_STRING_SELECTOR
    assert decode(["string"], revert_data[4:]) == ("Multicall3: call failed",)


def test_block_number_pins_the_batch(chain: Chain) -> None:
    rpc = chain.rpc
    pinned = rpc.block_number()
    rpc.send(Tx(DEPLOYER, chain.token, calldata("mint(address,uint256)", HOLDER, 1)))
    rpc.call("anvil_setBalance", [OTHER, hex(5 * 10**18)])
    rpc.mine()
    calls = [
        (MULTICALL3_ADDRESS, False, calldata("getBlockNumber()")),
        (MULTICALL3_ADDRESS, False, calldata("getCurrentBlockTimestamp()")),
        (MULTICALL3_ADDRESS, False, calldata("getEthBalance(address)", OTHER)),
        (chain.token, False, calldata("balanceOf(address)", HOLDER)),
    ]
    for block in (pinned, rpc.block_number()):
        tag = hex(block)
        values = [decode(["uint256"], data)[0] for _ok, data in aggregate3(rpc, calls, tag)]
        header = rpc.call("eth_getBlockByNumber", [tag, False])
        assert values[0] == block
        assert values[1] == int(header["timestamp"], 16)
        assert values[2] == int(rpc.call("eth_getBalance", [OTHER, tag]), 16)
        assert values[3] == decode(["uint256"], rpc.eth_call(chain.token, calls[3][2], tag))[0]
    balance_then = decode(["uint256"], aggregate3(rpc, calls, hex(pinned))[3][1])[0]
    assert balance_then + 1 == decode(["uint256"], aggregate3(rpc, calls)[3][1])[0]


def test_abi_file_matches_compiled_abi() -> None:
    on_disk = json.loads(multicall_abi_path().read_text())
    assert on_disk == multicall_abi(compile_multicall())
    selector = function_signature_to_4byte_selector(AGGREGATE3)
    assert selector.hex() == "82ad56cb"  # Multicall3's aggregate3 selector


def test_compile_cache_is_keyed_by_sources_and_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIQSCAN_CACHE_DIR", str(tmp_path))
    source = {MULTICALL_SOURCE: project_root() / "contracts" / "src" / MULTICALL_SOURCE}
    first = compile_sources(source, optimizer_runs=200)
    assert len(list((tmp_path / "solc").glob("*.json"))) == 1
    assert compile_sources(source, optimizer_runs=200) == first  # served from the cache
    assert len(list((tmp_path / "solc").glob("*.json"))) == 1
    other = compile_sources(source, optimizer_runs=1)
    assert len(list((tmp_path / "solc").glob("*.json"))) == 2
    assert other["LiqscanMulticall"].abi == first["LiqscanMulticall"].abi


def test_compile_errors_name_what_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIQSCAN_CACHE_DIR", str(tmp_path))
    with pytest.raises(ToolchainError, match=r"Nope\.sol"):
        compile_sources({"A.sol": 'import "./Nope.sol";\ncontract A {}'})
    with pytest.raises(ToolchainError, match=r"solc error in B\.sol"):
        compile_sources({"B.sol": "pragma solidity 0.8.19;\ncontract B { uint x = ; }"})
    monkeypatch.setenv("PATH", str(tmp_path))  # no node on PATH
    with pytest.raises(ToolchainError, match="make setup"):
        compile_sources({"C.sol": "pragma solidity 0.8.19;\ncontract C {}"})

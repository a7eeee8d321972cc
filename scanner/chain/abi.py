"""ABIs from contracts/abi/<protocol>/<Contract>.json, and call encoding/decoding with eth_abi.

    POOL = load_abi("aave-v3", "Pool")
    data = encode_call(POOL, "getUserAccountData", [user])
    collateral_8dec, debt_8dec, *_ = decode_output(POOL, "getUserAccountData", returned)

A function is named either by its name (when not overloaded) or by its full signature,
e.g. "mint(address,uint256)".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils.crypto import keccak

from scanner.chain.fastabi import decode_static, encode_static
from scanner.devnet.toolchain import project_root
from scanner.errors import InconsistentDataError, ToolchainError

AbiEntry = Mapping[str, Any]
Abi = Sequence[AbiEntry]


class AbiError(ToolchainError):
    """An ABI file is missing, or names no such function/event."""


@cache
def load_abi(protocol: str, contract: str) -> tuple[dict[str, Any], ...]:
    """The ABI of contracts/abi/<protocol>/<contract>.json (read once per process)."""
    path = project_root() / "contracts" / "abi" / protocol / f"{contract}.json"
    if not path.is_file():
        raise AbiError(f"ABI file {path} not found: run scripts/extract_abis.py")
    data = json.loads(path.read_text())
    if isinstance(data, dict):  # also accept a whole hardhat artifact
        data = data["abi"]
    return tuple(data)


def canonical_type(param: AbiEntry) -> str:
    """ABI type with tuples spelled out: `(address,bool,bytes)[]`."""
    type_ = str(param["type"])
    if type_.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param.get("components", []))
        return f"({inner}){type_[len('tuple'):]}"
    return type_


def signature(entry: AbiEntry) -> str:
    """`name(type1,type2)` as hashed for selectors and topics."""
    return f"{entry['name']}({','.join(canonical_type(p) for p in entry.get('inputs', []))})"


def _find(abi: Abi, kind: str, name: str) -> AbiEntry:
    entries = [e for e in abi if e.get("type") == kind]
    if "(" in name:
        matches = [e for e in entries if signature(e) == name]
    else:
        matches = [e for e in entries if e.get("name") == name]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AbiError(f"ABI has no {kind} {name}")
    overloads = ", ".join(signature(e) for e in matches)
    raise AbiError(f"{kind} {name} is overloaded ({overloads}): name it by full signature")


@dataclass(frozen=True)
class _Function:
    signature: str
    selector: bytes
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]


# A scan encodes and decodes tens of thousands of calls: look each function up and hash its
# signature once. Keyed by the ABI object's identity (ABIs are loaded once and never mutated).
_FUNCTIONS: dict[tuple[int, str], tuple[Abi, _Function]] = {}


def _function(abi: Abi, name: str) -> _Function:
    key = (id(abi), name)
    cached = _FUNCTIONS.get(key)
    if cached is not None and cached[0] is abi:
        return cached[1]
    entry = _find(abi, "function", name)
    text = signature(entry)
    function = _Function(
        signature=text,
        selector=keccak(text=text)[:4],
        input_types=tuple(canonical_type(p) for p in entry.get("inputs", [])),
        output_types=tuple(canonical_type(p) for p in entry.get("outputs", [])),
    )
    _FUNCTIONS[key] = (abi, function)  # keeps `abi` alive, so its id is not reused
    return function


def function_selector(abi: Abi, name: str) -> bytes:
    return _function(abi, name).selector


def encode_call(abi: Abi, name: str, args: Sequence[Any]) -> bytes:
    function = _function(abi, name)
    fast = encode_static(function.input_types, args)
    if fast is not None:  # the usual static arguments: built directly (fastabi.py)
        return function.selector + fast
    try:
        encoded = encode(function.input_types, list(args))
    except EncodingError as exc:
        raise AbiError(f"cannot encode arguments of {function.signature}: {exc}") from exc
    return function.selector + encoded


def decode_output(abi: Abi, name: str, data: bytes) -> tuple[Any, ...]:
    """Decode a function's return data; empty or short data raises InconsistentDataError."""
    function = _function(abi, name)
    types = function.output_types
    if types and not data:
        raise InconsistentDataError(
            f"{function.signature} returned no data: is there a contract at that address?"
        )
    fast = decode_static(types, data)
    if fast is not None:  # the usual word answers: sliced directly (fastabi.py)
        return fast
    try:
        return tuple(decode(types, data))
    except DecodingError as exc:
        raise InconsistentDataError(
            f"{function.signature} returned {len(data)} undecodable bytes: {exc}"
        ) from exc


def event_topic(abi: Abi, name: str) -> str:
    """topic0 of an event, 0x-hex."""
    return "0x" + keccak(text=signature(_find(abi, "event", name))).hex()


def decode_event(abi: Abi, name: str, log: Mapping[str, Any]) -> dict[str, Any]:
    """Indexed and data fields of a log by parameter name (indexed dynamic types stay hashes)."""
    entry = _find(abi, "event", name)
    topics = [bytes.fromhex(str(t)[2:]) for t in log["topics"]][1:]
    inputs = entry.get("inputs", [])
    indexed = [p for p in inputs if p.get("indexed")]
    plain = [p for p in inputs if not p.get("indexed")]
    values: dict[str, Any] = {}
    try:
        for param, topic in zip(indexed, topics, strict=True):
            kind = canonical_type(param)
            dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
            values[param["name"]] = topic if dynamic else decode([kind], topic)[0]
        data = bytes.fromhex(str(log["data"])[2:])
        decoded = decode([canonical_type(p) for p in plain], data)
    except (DecodingError, ValueError) as exc:
        raise InconsistentDataError(f"log does not match event {signature(entry)}: {exc}") from exc
    values.update({p["name"]: v for p, v in zip(plain, decoded, strict=True)})
    return values

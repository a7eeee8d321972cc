"""The direct codecs (scanner/chain/fastabi.py, and the Comet reader's own per-account
slicing) on real answers: a snapshot of every devnet market (Aave v3.0/v3.6/v2, Morpho, both
Comets, Maker) records each aggregate3 answer, each sub-call answer and each call it encoded;
each must be exactly what eth_abi makes of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import decode, encode

from scanner.chain import abi, multicall
from scanner.devnet.network import Devnet
from scanner.protocols.compound_v3 import read as comet_read
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan

Recorded = dict[str, list[Any]]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    found: Recorded = {"aggregate3": [], "words": [], "encoded": [], "items": [], "comet": []}
    fast_items, fast_words = multicall.decode_aggregate3_items, abi.decode_static
    fast_encode, fast_items_encode = abi.encode_static, multicall.encode_aggregate3_items

    def items(data: bytes) -> Any:
        out = fast_items(data)
        found["aggregate3"].append((data, out))
        return out

    def words(types: Any, data: bytes) -> Any:
        out = fast_words(types, data)
        found["words"].append((tuple(types), data, out))
        return out

    def encoded(types: Any, values: Any) -> Any:
        out = fast_encode(types, values)
        found["encoded"].append((tuple(types), list(values), out))
        return out

    def items_encoded(calls: Any) -> Any:
        out = fast_items_encode(calls)
        found["items"].append((list(calls), out))
        return out

    for name in COMET_ANSWERS:  # the Comet reader's answers, sliced in compound_v3/read.py
        monkeypatch.setattr(comet_read, name, _recording(found, name, getattr(comet_read, name)))
    monkeypatch.setattr(multicall, "decode_aggregate3_items", items)
    monkeypatch.setattr(multicall, "encode_aggregate3_items", items_encoded)
    monkeypatch.setattr(abi, "decode_static", words)
    monkeypatch.setattr(abi, "encode_static", encoded)
    yield found


# compound_v3/read.py's slicers -> what the codec makes of the same answer
COMET_ANSWERS: dict[str, Any] = {
    "_user_basic": lambda data: (lambda p, _i, _a, assets, reserved: (p, assets | reserved << 16))(
        *abi.decode_output(comet_read.COMET, "userBasic", data)),
    "_collateral_balance": lambda data: abi.decode_output(
        comet_read.COMET, "userCollateral", data)[0],
    "_borrow_balance": lambda data: abi.decode_output(
        comet_read.COMET, "borrowBalanceOf", data)[0],
    "_liquidatable": lambda data: abi.decode_output(comet_read.COMET, "isLiquidatable", data)[0],
}


def _recording(found: Recorded, name: str, slicer: Any) -> Any:
    def record(data: bytes) -> Any:
        out = slicer(data)
        found["comet"].append((name, data, out))
        return out
    return record


def test_direct_codecs_equal_eth_abi_on_a_real_snapshot(
    devnet: Devnet, tmp_path: Path, recorded: Recorded
) -> None:
    config = devnet_config(devnet, tmp_path, f"sqlite:///{tmp_path / 'fast.db'}")
    outcome = scan(config, fresh_repo(config))
    assert outcome.accounts_with_debt > 1_000  # every market was read
    answers = recorded["aggregate3"]
    assert answers and all(out is not None for _, out in answers)  # all took the fast path
    for data, out in answers:
        assert out == list(decode(["(bool,bytes)[]"], data)[0])
    sliced = [(t, d, o) for t, d, o in recorded["words"] if o is not None]
    assert len(sliced) > 5_000  # the Comets' per-account answers are sliced by their reader
    comet = recorded["comet"]
    assert {name for name, _, _ in comet} == set(COMET_ANSWERS) and len(comet) > 1_000
    for name, data, out in comet:
        assert out == COMET_ANSWERS[name](data), name
    for types, data, out in sliced:
        assert out == decode(list(types), data)
    built = [(t, v, o) for t, v, o in recorded["encoded"] if o is not None]
    assert len(built) > 10_000
    for types, values, out in built:
        assert out == encode(list(types), values)
    assert recorded["items"] and all(out is not None for _, out in recorded["items"])
    for calls, out in recorded["items"]:
        assert out == encode(["(address,bool,bytes)[]"], [calls])

"""Our devnet Liquity v1 contracts implement exactly the ABI subset the adapter and the tests
use (contracts/abi/liquity-v1/*.json, whose signatures tests/unit/test_liquity_v1_rule.py
checks against the real ones): every committed entry is an entry of the compiled
DevnetLiquity* contract."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.chain.abi import load_abi
from scanner.devnet.liquity1 import compile_liquity1_contracts

pytestmark = pytest.mark.integration

OURS = {"TroveManager": "DevnetLiquityTroveManager",
        "SortedTroves": "DevnetLiquitySortedTroves", "PriceFeed": "DevnetLiquityPriceFeed",
        "StabilityPool": "DevnetLiquityStabilityPool", "ActivePool": "DevnetLiquityActivePool",
        "DefaultPool": "DevnetLiquityDefaultPool"}


def _strip(entry: Any) -> Any:
    if isinstance(entry, dict):
        return {k: _strip(v) for k, v in entry.items() if k != "internalType"}
    if isinstance(entry, list):
        return [_strip(v) for v in entry]
    return entry


@pytest.mark.parametrize("contract", sorted(OURS))
def test_devnet_contract_implements_the_committed_abi(contract: str) -> None:
    compiled = [_strip(e) for e in compile_liquity1_contracts()[OURS[contract]].abi]
    committed = load_abi("liquity-v1", contract)
    assert committed
    for entry in committed:
        assert entry in compiled, (contract, entry.get("name"))

"""Our devnet Liquity v2 contracts implement exactly the ABI subset the adapter reads
(contracts/abi/liquity-v2/*.json, written from liquity/bold's sources): every committed entry
is an entry of the compiled DevnetBold* contract."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.chain.abi import load_abi
from scanner.devnet.liquity2 import compile_liquity2_contracts

pytestmark = pytest.mark.integration

OURS = {"CollateralRegistry": "DevnetBoldCollateralRegistry",
        "TroveManager": "DevnetBoldTroveManager",
        "BorrowerOperations": "DevnetBoldBorrowerOperations",
        "PriceFeed": "DevnetBoldPriceFeed", "TroveNFT": "DevnetBoldTroveNFT",
        "StabilityPool": "DevnetBoldStabilityPool"}


def _strip(entry: Any) -> Any:
    if isinstance(entry, dict):
        return {k: _strip(v) for k, v in entry.items() if k != "internalType"}
    if isinstance(entry, list):
        return [_strip(v) for v in entry]
    return entry


@pytest.mark.parametrize("contract", sorted(OURS))
def test_devnet_contract_implements_the_committed_abi(contract: str) -> None:
    compiled = [_strip(e) for e in compile_liquity2_contracts()[OURS[contract]].abi]
    for entry in load_abi("liquity-v2", contract):
        assert entry in compiled, (contract, entry.get("name"))

"""Our devnet Maker contracts implement exactly the ABI subset the adapter reads
(contracts/abi/maker/*.json, whose signatures tests/unit/test_maker_presets.py checks against
the real sources): every committed entry is an entry of the compiled DevnetMaker* contract."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.chain.abi import load_abi
from scanner.devnet.maker import compile_maker_contracts

pytestmark = pytest.mark.integration

OURS = {"Vat": "DevnetMakerVat", "Jug": "DevnetMakerJug", "Spotter": "DevnetMakerSpotter",
        "Dog": "DevnetMakerDog", "CdpManager": "DevnetMakerCdpManager", "OSM": "DevnetMakerOsm",
        "Chainlog": "DevnetMakerChainlog", "IlkRegistry": "DevnetMakerIlkRegistry",
        "Clipper": "DevnetMakerClipper", "StairstepExponentialDecrease": "DevnetMakerClipper"}


def _strip(entry: Any) -> Any:
    if isinstance(entry, dict):
        return {k: _strip(v) for k, v in entry.items() if k != "internalType"}
    if isinstance(entry, list):
        return [_strip(v) for v in entry]
    return entry


@pytest.mark.parametrize("contract", sorted(OURS))
def test_devnet_contract_implements_the_committed_abi(contract: str) -> None:
    compiled = [_strip(e) for e in compile_maker_contracts()[OURS[contract]].abi]
    for entry in load_abi("maker", contract):
        assert entry in compiled, (contract, entry.get("name"))

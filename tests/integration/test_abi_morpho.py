"""contracts/abi/morpho-blue/ is exactly the ABI of the Morpho Blue liqscan reads.

Compiled from npm @morpho-org/morpho-blue (solc 0.8.19 emits no library events in the
contract's ABI, so EventsLib's events are part of the committed Morpho.json), and checked
against the topics and selectors liqscan relies on, computed from their signatures.
"""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from scanner.chain.abi import event_topic, load_abi
from scanner.devnet.morpho import compile_morpho_contracts

pytestmark = pytest.mark.integration

SOURCE = "@morpho-org/morpho-blue/src/"


def _by_signature(abi: object) -> dict[tuple[str, str], dict[str, object]]:
    assert isinstance(abi, (list, tuple))
    return {(entry["type"], entry.get("name", "")): entry for entry in abi}


def test_committed_abis_equal_the_compiled_ones() -> None:
    compiled = compile_morpho_contracts()
    morpho = list(compiled[SOURCE + "Morpho.sol:Morpho"].abi)
    events = list(compiled[SOURCE + "libraries/EventsLib.sol:EventsLib"].abi)
    expected = _by_signature(morpho) | _by_signature(events)
    assert _by_signature(load_abi("morpho-blue", "Morpho")) == expected
    for name in ("IIrm", "IOracle"):
        compiled_abi = compiled[f"{SOURCE}interfaces/{name}.sol:{name}"].abi
        assert _by_signature(load_abi("morpho-blue", name)) == _by_signature(compiled_abi)


@pytest.mark.parametrize("signature", [
    "CreateMarket(bytes32,(address,address,address,address,uint256))",
    "Borrow(bytes32,address,address,address,uint256,uint256)",
    "SupplyCollateral(bytes32,address,address,uint256)",
    "Liquidate(bytes32,address,address,uint256,uint256,uint256,uint256,uint256)",
    "AccrueInterest(bytes32,uint256,uint256,uint256)",
])
def test_event_topics_match_their_signatures(signature: str) -> None:
    name = signature.split("(")[0]
    assert event_topic(load_abi("morpho-blue", "Morpho"), name) == "0x" + keccak(
        text=signature).hex()

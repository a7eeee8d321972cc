"""The Compound v3 mainnet presets: every address, and every event topic and selector the
adapter uses, checked against the real Comet's ABI (tests/unit/data/compound_v3_reference_abi.json,
compiled from compound-finance/comet) and our committed contracts/abi/compound-v3/Comet.json."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from eth_utils.abi import event_signature_to_log_topic, function_signature_to_4byte_selector
from eth_utils.address import is_checksum_address

from scanner.chain.abi import encode_call, event_topic, load_abi, signature
from scanner.config import load_config
from scanner.protocols.compound_v3 import discover, read

REFERENCE = json.loads((Path(__file__).parent / "data" / "compound_v3_reference_abi.json")
                       .read_text())
COMET = load_abi("compound-v3", "Comet")
# what the adapter calls, by name (all views of the real Comet + CometExt)
ADAPTER_CALLS = (*read.RATE_GETTERS, "totalsBasic", "baseToken", "baseScale",
                 "baseTokenPriceFeed", "numAssets", "getAssetInfo", "getPrice", "userBasic",
                 "userCollateral", "borrowBalanceOf", "isLiquidatable")
# the real mainnet Comets (compound-finance/comet deployments/mainnet/*/roots.json)
MAINNET_COMETS = {
    "compound-v3-usdc-ethereum": "0xc3d688B66703497DAA19211EEdff47f25384cdc3",
    "compound-v3-weth-ethereum": "0xA17581A9E3356d9A858b789D68B4d866e593aE94",
    "compound-v3-usdt-ethereum": "0x3Afdc9BCA9213A35503b077a6072F3D0d5AB0840",
    "compound-v3-usds-ethereum": "0x5D409e56D886231aDAf00c8775665AD0f9897b56",
}
ENV = {"LIQSCAN_RPC_URL": "http://127.0.0.1:1"}


def _entries(abi: Any, kind: str, name: str) -> list[dict[str, Any]]:
    return [e for e in abi if e.get("type") == kind and e.get("name") == name]


def _preset() -> dict[str, Any]:
    text = resources.files("scanner.presets").joinpath("compound-v3-ethereum.toml").read_text()
    return tomllib.loads(text)


def test_preset_addresses_are_the_mainnet_comets() -> None:
    markets = _preset()["markets"]
    assert {m["key"]: m["comet"] for m in markets} == MAINNET_COMETS
    for market in markets:
        for key in ("comet", "quote_usd_feed"):
            if key in market:
                assert is_checksum_address(market[key]), (market["key"], key)
    weth = next(m for m in markets if m["key"] == "compound-v3-weth-ethereum")
    assert weth["quote_usd_feed"] == "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419"  # ETH / USD


def test_presets_load_with_every_comet(tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml here: the presets are used
    config = load_config(None, ENV)
    comets = {m.key: m.address("comet") for m in config.markets if m.protocol == "compound-v3"}
    assert comets == MAINNET_COMETS


def test_discovery_topics_are_the_real_events() -> None:
    for name, topic in (("SupplyCollateral", discover.SUPPLY_COLLATERAL_TOPIC),
                        ("TransferCollateral", discover.TRANSFER_COLLATERAL_TOPIC),
                        ("Withdraw", discover.WITHDRAW_TOPIC)):
        [real] = _entries(REFERENCE, "event", name)
        assert topic == "0x" + event_signature_to_log_topic(signature(real)).hex()
        assert topic == event_topic(COMET, name)
        # the account sits in the topic discovery reads: the indexed argument at that slot
        indexed = [i["name"] for i in real["inputs"] if i["indexed"]]
        assert indexed[discover.ACCOUNT_TOPIC[topic] - 1] in ("dst", "to", "src"), name


def test_every_adapter_call_has_the_real_selector_and_outputs() -> None:
    for name in ADAPTER_CALLS:
        [ours] = _entries(COMET, "function", name)
        real = [e for e in _entries(REFERENCE, "function", name)
                if signature(e) == signature(ours)]
        assert real, f"{signature(ours)} is not a function of the real Comet"
        selector = function_signature_to_4byte_selector(signature(ours))
        args = ["0x" + "00" * 20 if i["type"] == "address" else 0 for i in ours["inputs"]]
        assert encode_call(COMET, name, args)[:4] == selector
        assert [o["type"] for o in real[0]["outputs"]] == [o["type"] for o in ours["outputs"]]
        assert [c["type"] for o in real[0]["outputs"] for c in o.get("components", [])] == [
            c["type"] for o in ours["outputs"] for c in o.get("components", [])], name

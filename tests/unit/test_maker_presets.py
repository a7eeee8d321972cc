"""The Maker mainnet preset and the ABIs the adapter uses: the ChainLog address, the
anonymous LogNote topics of the deployed Vat (selector left-aligned), and every selector and
event topic checked against signatures written from the real sources (makerdao/dss vat.sol,
jug.sol, spot.sol, dog.sol, clip.sol, abaci.sol; dss-cdp-manager; osm; dss-chain-log;
ilk-registry)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest
from eth_utils.abi import event_signature_to_log_topic, function_signature_to_4byte_selector
from eth_utils.address import is_checksum_address

from scanner.chain.abi import load_abi, signature
from scanner.config import load_config
from scanner.protocols.maker import discover

ENV = {"LIQSCAN_RPC_URL": "http://127.0.0.1:1"}
CHAINLOG = "0xdA0Ab1e0017DEbCd72Be8599041a2aa3bA7e740F"
# contract -> the real signature -> its output types (from the real sources)
REAL_FUNCTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "Vat": {
        "ilks(bytes32)": ("uint256",) * 5,
        "urns(bytes32,address)": ("uint256", "uint256"),
        "frob(bytes32,address,address,address,int256,int256)": (),
        "fork(bytes32,address,address,int256,int256)": (),
        "grab(bytes32,address,address,address,int256,int256)": (),
        "fold(bytes32,address,int256)": (),
        "live()": ("uint256",),
    },
    "Jug": {"ilks(bytes32)": ("uint256", "uint256"), "base()": ("uint256",),
            "drip(bytes32)": ("uint256",)},
    "Spotter": {"ilks(bytes32)": ("address", "uint256"), "par()": ("uint256",),
                "poke(bytes32)": ()},
    "Dog": {"ilks(bytes32)": ("address", "uint256", "uint256", "uint256"),
            "Hole()": ("uint256",), "Dirt()": ("uint256",), "chop(bytes32)": ("uint256",),
            "bark(bytes32,address,address)": ("uint256",), "digs(bytes32,uint256)": ()},
    "Clipper": {"kick(uint256,uint256,address,address)": ("uint256",),
                "take(uint256,uint256,uint256,address,bytes)": (),
                "sales(uint256)": ("uint256", "uint256", "uint256", "address", "uint96",
                                   "uint256"),
                "getStatus(uint256)": ("bool", "uint256", "uint256", "uint256"),
                "count()": ("uint256",), "list()": ("uint256[]",), "kicks()": ("uint256",),
                "buf()": ("uint256",), "tail()": ("uint256",), "cusp()": ("uint256",),
                "chost()": ("uint256",), "upchost()": (), "calc()": ("address",),
                "ilk()": ("bytes32",), "vat()": ("address",), "dog()": ("address",),
                "vow()": ("address",), "spotter()": ("address",)},
    "StairstepExponentialDecrease": {"price(uint256,uint256)": ("uint256",),
                                     "step()": ("uint256",), "cut()": ("uint256",)},
    "CdpManager": {"cdpi()": ("uint256",), "urns(uint256)": ("address",),
                   "owns(uint256)": ("address",), "ilks(uint256)": ("bytes32",),
                   "open(bytes32,address)": ("uint256",), "give(uint256,address)": ()},
    "OSM": {"peek()": ("bytes32", "bool"), "peep()": ("bytes32", "bool"),
            "zzz()": ("uint64",), "hop()": ("uint16",), "pass()": ("bool",), "poke()": ()},
    "Chainlog": {"getAddress(bytes32)": ("address",)},
    "IlkRegistry": {"list()": ("bytes32[]",), "gem(bytes32)": ("address",),
                    "dec(bytes32)": ("uint256",)},
}
REAL_EVENTS = {
    "Vat": {"LogNote(bytes4,bytes32,bytes32,bytes32,bytes)"},
    "Spotter": {"Poke(bytes32,bytes32,uint256)"},
    "Dog": {"Bark(bytes32,address,uint256,uint256,uint256,address,uint256)"},
    "CdpManager": {"NewCdp(address,address,uint256)"},
    "Clipper": {"Kick(uint256,uint256,uint256,uint256,address,address,uint256)",
                "Take(uint256,uint256,uint256,uint256,uint256,uint256,address)"},
}


def _preset() -> dict[str, object]:
    text = resources.files("scanner.presets").joinpath("maker-ethereum.toml").read_text()
    return tomllib.loads(text)


def test_preset_resolves_through_the_mainnet_chainlog(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    markets = _preset()["markets"]
    assert isinstance(markets, list)
    (market,) = markets
    assert market["chainlog"] == CHAINLOG and is_checksum_address(market["chainlog"])
    assert market["start_block"] == 8928152
    monkeypatch.chdir(tmp_path)  # no ./config.toml: the presets are used
    config = load_config(None, ENV)
    (maker,) = [m for m in config.markets if m.protocol == "maker"]
    assert maker.addresses == {"chainlog": CHAINLOG}
    assert "WBTC-A" in maker.texts["ilks"] and "ETH-A" in maker.texts["ilks"]


@pytest.mark.parametrize("contract", sorted(REAL_FUNCTIONS))
def test_abis_are_the_real_signatures(contract: str) -> None:
    abi = load_abi("maker", contract)
    functions = {signature(e): tuple(o["type"] for o in e["outputs"])
                 for e in abi if e["type"] == "function"}
    assert functions == REAL_FUNCTIONS[contract]
    events = {signature(e) for e in abi if e["type"] == "event"}
    assert events == REAL_EVENTS.get(contract, set())


def test_vat_note_topics_are_the_selectors_left_aligned() -> None:
    # the values in /work/shared/reference/protocols.md (keccak of the signatures)
    assert discover.FROB_TOPIC == "0x76088703" + "00" * 28
    assert discover.FORK_TOPIC == "0x870c616d" + "00" * 28
    frob = function_signature_to_4byte_selector(
        "frob(bytes32,address,address,address,int256,int256)")
    assert discover.FROB_TOPIC.startswith("0x" + frob.hex())
    assert "0x" + event_signature_to_log_topic(
        "NewCdp(address,address,uint256)").hex() == discover.NEW_CDP_TOPIC
    assert discover.NEW_CDP_TOPIC == (
        "0xd6be0bc178658a382ff4f91c8c68b542aa6b71685b8fe427966b87745c3ea7a2")
    (note,) = [e for e in load_abi("maker", "Vat") if e["type"] == "event"]
    assert note["anonymous"] is True and [i["indexed"] for i in note["inputs"]] == [
        True, True, True, True, False]


def test_ilk_names_are_the_bytes32_the_vat_notes() -> None:
    assert discover.ilk_topic("ETH-A") == "0x" + b"ETH-A".hex() + "00" * 27


MAKER_CONFIG = """
[chains.ethereum]
rpc_url = "http://127.0.0.1:1"
chain_id = 1

[[markets]]
key = "maker"
chain = "ethereum"
protocol = "maker"
chainlog = "0xdA0Ab1e0017DEbCd72Be8599041a2aa3bA7e740F"
start_block = 1
"""


@pytest.mark.parametrize("ilks, message", [
    ('["ETH-A", 7]', "ilks must be a non-empty list of names of at most 32 bytes"),
    ("[]", "ilks must be a non-empty list"),
    ('["' + "X" * 33 + '"]', "at most 32 bytes"),
    ('["ETH-A", "ETH-A"]', "ilks lists a name twice"),
])
def test_bad_ilks_are_refused_naming_the_key(tmp_path: Path, ilks: str, message: str) -> None:
    from scanner.errors import ConfigError

    path = tmp_path / "config.toml"
    path.write_text(MAKER_CONFIG.replace("start_block = 1", f"ilks = {ilks}\nstart_block = 1"))
    with pytest.raises(ConfigError, match=r"markets\[0\]\.ilks") as info:
        load_config(path, {})
    assert message in str(info.value)


def test_ilk_names_are_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MAKER_CONFIG.replace("start_block = 1", 'ilks = ["ETH-A", "WBTC-C"]\n'
                                         "start_block = 1"))
    (market,) = load_config(path, {}).markets
    assert market.texts == {"ilks": ("ETH-A", "WBTC-C")}


def test_the_market_identity_is_the_chainlog_or_the_vat(tmp_path: Path) -> None:
    """A Maker market has no required address: its identity (stored, checked on every scan) is
    the ChainLog when set, else the Vat."""
    from dataclasses import replace

    from scanner.pipeline.discovery import identity_key

    path = tmp_path / "config.toml"
    path.write_text(MAKER_CONFIG)
    (market,) = load_config(path, {}).markets
    assert identity_key(market) == "chainlog"
    vat = "0x35D1b3F3D7966A1DFe207aa4514C12a259A0492B"
    assert identity_key(replace(market, addresses={"vat": vat})) == "vat"

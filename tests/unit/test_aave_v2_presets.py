"""The Aave v2 mainnet preset and the committed ABIs the adapter reads.

contracts/abi/aave-v2/*.json must be byte-identical to the ABIs in the pinned npm
@aave/protocol-v2 artifacts (scripts/extract_abis.py writes them), and every event topic and
selector the adapter uses must be the real one (written here from the v2 sources'
declarations, so a wrong ABI file cannot vouch for itself).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import is_checksum_address

from scanner.chain.abi import encode_call, signature
from scanner.config import load_config
from scanner.devnet.toolchain import project_root
from scanner.errors import ConfigError
from scanner.protocols.aave_v2 import discover, read
from scripts.extract_abis import ABIS, render

ENV = {"LIQSCAN_RPC_URL": "http://127.0.0.1:1"}
# keccak of the v2 ILendingPool declaration (also quoted in the shared protocol reference)
BORROW_TOPIC = "0xc6a898309e823ee50bac64e45ca8adba6690e99e7841c45d754e2a38e9019d9b"
# every call of read.py, as declared in the v2 sources
CALLS = (
    (read.PROVIDER, ("getLendingPool()", "getPriceOracle()")),
    (read.LENDING_POOL, ("LENDINGPOOL_REVISION()", "getReservesList()",
                        "getReserveData(address)", "getUserAccountData(address)",
                        "getUserConfiguration(address)")),
    (read.ORACLE, ("WETH()", "getAssetsPrices(address[])")),
    (read.A_TOKEN, ("scaledBalanceOf(address)", "balanceOf(address)")),
    (read.VARIABLE_DEBT, ("scaledBalanceOf(address)", "balanceOf(address)")),
    (read.STABLE_DEBT, ("principalBalanceOf(address)", "getUserStableRate(address)",
                       "getUserLastUpdated(address)", "balanceOf(address)")),
    (read.AGGREGATOR, ("latestAnswer()",)),
)


def _preset() -> dict[str, object]:
    text = resources.files("scanner.presets").joinpath("aave-v2-ethereum.toml").read_text()
    return tomllib.loads(text)


def test_preset_is_the_mainnet_market() -> None:
    (market,) = _preset()["markets"]  # type: ignore[misc]
    assert market["protocol"] == "aave-v2"
    assert market["lending_pool_addresses_provider"] == (
        "0xB53C1a33016B2DC2fF3653530bfF1848a515c8c5")
    assert market["eth_usd_feed"] == "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419"
    assert market["start_block"] == 11362579
    assert all(is_checksum_address(market[k])
               for k in ("lending_pool_addresses_provider", "eth_usd_feed"))


def test_presets_load_with_the_v2_market(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml: the packaged presets are used
    config = load_config(None, ENV)
    (market,) = [m for m in config.markets if m.protocol == "aave-v2"]
    assert market.address("eth_usd_feed") == "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419"


@pytest.mark.integration  # reads node_modules
def test_committed_abis_are_the_npm_artifacts() -> None:
    for package, artifact, protocol, contract in ABIS:
        if protocol != "aave-v2":
            continue
        path = project_root() / "contracts" / "abi" / protocol / f"{contract}.json"
        assert path.read_text() == render(package, artifact), path


def test_topics_and_selectors_are_the_real_ones() -> None:
    assert discover.BORROW_TOPIC == BORROW_TOPIC
    for abi, signatures in CALLS:
        for wanted in signatures:
            name = wanted.split("(")[0]
            (entry,) = [e for e in abi if e.get("type") == "function" and e["name"] == name]
            assert signature(entry) == wanted
            args = [["0x" + "00" * 20] if "[]" in i["type"] else
                    "0x" + "00" * 20 for i in entry["inputs"]]
            assert encode_call(abi, name, args)[:4] == function_signature_to_4byte_selector(wanted)


V2_MARKET = """
[database]
url = "sqlite:///x.db"

[chains.ethereum]
rpc_url = "http://127.0.0.1:1"
chain_id = 1

[[markets]]
key = "aave-v2-ethereum"
chain = "ethereum"
protocol = "aave-v2"
lending_pool_addresses_provider = "0xB53C1a33016B2DC2fF3653530bfF1848a515c8c5"
start_block = 11362579

[axes.ETH]
members = ["WETH"]
reference = "WETH"
"""


def test_eth_usd_feed_is_required(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(V2_MARKET)
    with pytest.raises(ConfigError, match=r"markets\[0\]\.eth_usd_feed"):
        load_config(path, ENV)
    feed = '"0x5f4ec3df9cbd43714fe2740f5e3616155c5b8419"'  # lowercase: checksummed on load
    path.write_text(V2_MARKET.replace("start_block =", f"eth_usd_feed = {feed}\nstart_block ="))
    (market,) = load_config(path, ENV).markets
    assert market.address("eth_usd_feed") == "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419"


def test_reserve_configuration_bitmap() -> None:
    """ReserveConfiguration.sol: LTV 0-15, LT 16-31, bonus 32-47, decimals 48-55, active 56,
    frozen 57, borrowing 58, stable 59."""
    config = 8_000 | 8_250 << 16 | 10_500 << 32 | 6 << 48 | 1 << 56 | 1 << 58 | 1 << 59
    zero = "0x" + "00" * 20
    data = ((config,), 2 * 10**27, 3 * 10**27, 4, 5, 6, 1_700_000_000,
            "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20, zero, 7)
    r = read.reserve_from(zero, data, "USDC", 123)
    assert (r.ltv_bps, r.lt_bps, r.bonus_bps, r.decimals, r.reserve_id) == (
        8_000, 8_250, 10_500, 6, 7)
    assert (r.active, r.frozen, r.borrowing_enabled, r.stable_borrowing_enabled) == (
        True, False, True, True)
    assert (r.liquidity_index_ray, r.variable_borrow_index_ray, r.liquidity_rate_ray,
            r.variable_borrow_rate_ray, r.last_update_timestamp) == (
        2 * 10**27, 3 * 10**27, 4, 5, 1_700_000_000)
    assert (r.a_token.lower(), r.stable_debt_token.lower(), r.variable_debt_token.lower()) == (
        "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20)

"""Every mainnet preset (scanner/presets/*.toml): its addresses are the known mainnet contracts,
and every event topic and selector its adapter uses is the real contract's.

- addresses: each preset market's every address key equals the table below (public sources,
  named per entry); a preset without an entry here fails, so a new preset must add one.
- Morpho market ids: each is keccak256(abi.encode(MarketParams)) of its published parameters.
- Aave v3 and Spark (an Aave v3 fork read with the same ABIs): our committed ABIs in
  contracts/abi/aave-v3 against the @aave/core-v3 build artifacts (npm), and v3.2+ getters
  against the @aave-dao/aave-v3-origin IPool source.
- Morpho Blue: topics and selectors against their signatures (contracts/abi/morpho-blue equals
  the compiled npm sources: tests/integration/test_abi_morpho.py), and the topic each account is
  read from is the indexed argument discovery expects.
- Compound v3: tests/unit/test_compound_presets.py (against the real Comet ABI).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from scanner.chain.abi import encode_call, event_topic, load_abi, signature
from scanner.config import Config, load_config
from scanner.devnet.toolchain import project_root
from scanner.protocols.aave_v3 import discover as aave_discover
from scanner.protocols.morpho_blue import read as morpho_read
from tests.unit.test_compound_presets import MAINNET_COMETS

ENV = {"LIQSCAN_RPC_URL": "http://127.0.0.1:1"}
AAVE_ORACLE = "0x54586bE62E3c3580375aE3723C145253060Ca0C2"  # aave-address-book AaveV3Ethereum
MAINNET: dict[str, dict[str, str]] = {
    # bgd-labs/aave-address-book AaveV3Ethereum.POOL_ADDRESSES_PROVIDER
    "aave-v3-ethereum": {"pool_addresses_provider": "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"},
    # marsfoundation/spark-address-registry Ethereum.POOL_ADDRESSES_PROVIDER
    "spark-ethereum": {"pool_addresses_provider": "0x02C3eA4e34C0cBd694D2adFa2c690EECbC1793eE"},
    # Morpho Blue on Ethereum (morpho-org deployments: this address, fromBlock 18883124);
    # USD values through the Aave v3 AaveOracle
    "morpho-blue-ethereum": {"morpho": "0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb",
                             "usd_price_oracle": AAVE_ORACLE},
    **{key: {"comet": comet} for key, comet in MAINNET_COMETS.items()},
    # bgd-labs/aave-address-book AaveV2Ethereum.POOL_ADDRESSES_PROVIDER; Chainlink ETH / USD
    "aave-v2-ethereum": {
        "lending_pool_addresses_provider": "0xB53C1a33016B2DC2fF3653530bfF1848a515c8c5",
        "eth_usd_feed": "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419"},
    # Maker's ChainLog (chainlog.makerdao.com): every other address is resolved through it
    "maker-ethereum": {"chainlog": "0xdA0Ab1e0017DEbCd72Be8599041a2aa3bA7e740F"},
    # liquity/dev packages/lib-ethers/deployments/default/mainnet.json troveManager
    "liquity-v1-ethereum": {"trove_manager": "0xA39739EF8b0231DbFA0DcdA07d7e29faAbCf4bb2"},
    # liquity/bold frontend/app/.env: the CollateralRegistry lists every branch
    "liquity-v2-ethereum": {"collateral_registry": "0xf949982B91C8c61e952B3bA942cbbfaef5386684"},
}
MAINNET["compound-v3-weth-ethereum"]["quote_usd_feed"] = (
    "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419")  # Chainlink ETH / USD
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
WSTETH = "0x7f39C581F595B53c5cb19bD0b3f8dA6c935E2Ca0"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WBTC = "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"
ADAPTIVE_CURVE_IRM = "0x870aC11D48B15DB9a138Cf899d20F13F79Ba00BC"
# (loan, collateral, oracle, irm, lltv) -> id, as published by DeFi Saver's Morpho Blue list
MORPHO_MARKETS = {
    "0xc54d7acf14de29e0e5527cabd7a576506870346a78a11a6762e2cca66322ec41": (
        WETH, WSTETH, "0x2a01eb9496094da03c4e364def50f5ad1280ad72", ADAPTIVE_CURVE_IRM,
        945 * 10**15),
    "0xb323495f7e4148be5643a4ea4a8221eef163e4bccfdedc2a6f4696baacbc86cc": (
        USDC, WSTETH, "0x48F7E36EB6B826B2dF4B2E630B62Cd25e89E40e2", ADAPTIVE_CURVE_IRM,
        86 * 10**16),
    "0xf9acc677910cc17f650416a22e2a14d5da7ccb9626db18f1bf94efe64f92b372": (
        USDC, WETH, "0xdC6fd5831277c693b1054e19E94047cB37c77615", ADAPTIVE_CURVE_IRM,
        915 * 10**15),
    "0x3a85e619751152991742810df6ec69ce473daef99e28a64ab2340d7b7ccfee49": (
        USDC, WBTC, "0xDddd770BADd886dF3864029e4B377B5F6a2B6b83", ADAPTIVE_CURVE_IRM,
        86 * 10**16),
}
AAVE_ARTIFACTS = Path("node_modules/@aave/core-v3/artifacts/contracts")
AAVE_REAL = {
    "Pool": "protocol/pool/Pool.sol/Pool.json",
    "AaveOracle": "misc/AaveOracle.sol/AaveOracle.json",
    "PoolAddressesProvider":
        "protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json",
}
# every function the Aave v3 adapter (and Morpho's USD pricing) calls, by committed ABI
AAVE_CALLS = {
    "Pool": ("POOL_REVISION", "getReservesList", "getReserveData", "getUserAccountData",
             "getUserConfiguration", "getUserEMode", "getEModeCategoryData"),
    "AaveOracle": ("BASE_CURRENCY_UNIT", "getAssetPrice", "getAssetsPrices"),
    "PoolAddressesProvider": ("getPool", "getPriceOracle"),
}
AAVE_ORIGIN_IPOOL = Path("node_modules/@aave-dao/aave-v3-origin/src/contracts/interfaces/IPool.sol")
LIQUID_EMODE_CALLS = ("getEModeCategoryCollateralConfig", "getEModeCategoryCollateralBitmap")


@pytest.fixture(scope="module")
def presets(tmp_path_factory: pytest.TempPathFactory) -> Config:
    folder = tmp_path_factory.mktemp("presets")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(folder)  # no ./config.toml here: the packaged presets are loaded
    try:
        return load_config(None, ENV)
    finally:
        monkeypatch.undo()


def _real_abi(name: str) -> list[dict[str, Any]]:
    path = project_root() / AAVE_ARTIFACTS / AAVE_REAL[name]
    assert path.is_file(), f"{path} missing: run `make setup` (npm @aave/core-v3)"
    abi: list[dict[str, Any]] = json.loads(path.read_text())["abi"]
    return abi


def _entries(abi: Any, kind: str, name: str) -> list[dict[str, Any]]:
    return [e for e in abi if e.get("type") == kind and e.get("name") == name]


def _selector(text: str) -> bytes:
    return keccak(text=text)[:4]


def test_every_preset_address_is_the_known_mainnet_contract(presets: Config) -> None:
    assert {m.key for m in presets.markets} == set(MAINNET)
    for market in presets.markets:
        assert dict(market.addresses) == MAINNET[market.key], market.key
        assert presets.chains[market.chain].chain_id == 1


def test_morpho_market_ids_are_the_hash_of_their_parameters(presets: Config) -> None:
    (morpho,) = [m for m in presets.markets if m.protocol == "morpho-blue"]
    assert set(morpho.lists["market_ids"]) == set(MORPHO_MARKETS)
    for market_id, params in MORPHO_MARKETS.items():
        encoded = encode(["address", "address", "address", "address", "uint256"], list(params))
        assert "0x" + keccak(encoded).hex() == market_id
    assert morpho.start_block == 18883124


@pytest.mark.parametrize("contract", sorted(AAVE_CALLS))
def test_aave_selectors_and_outputs_are_the_real_ones(contract: str) -> None:
    ours, real = load_abi("aave-v3", contract), _real_abi(contract)
    for name in AAVE_CALLS[contract]:
        (entry,) = _entries(ours, "function", name)
        matching = [e for e in _entries(real, "function", name) if signature(e) == signature(entry)]
        assert matching, f"{signature(entry)} is not a function of @aave/core-v3 {contract}"
        args = [_dummy(i) for i in entry["inputs"]]
        assert encode_call(ours, name, args)[:4] == _selector(signature(entry))
        assert _types(matching[0]["outputs"]) == _types(entry["outputs"]), name


def _dummy(param: dict[str, Any]) -> Any:
    """A zero value of an ABI parameter, to encode a call and read its selector."""
    kind = param["type"]
    if kind.endswith("[]"):
        return []
    if kind == "tuple":
        return tuple(_dummy(c) for c in param["components"])
    if kind == "address":
        return "0x" + "00" * 20
    return b"\0" * 32 if kind == "bytes32" else 0


def _types(params: list[dict[str, Any]]) -> list[Any]:
    return [(p["type"], _types(p.get("components", []))) for p in params]


def test_aave_borrow_topic_is_the_real_event_with_the_debtor_in_topic_2() -> None:
    (real,) = _entries(_real_abi("Pool"), "event", "Borrow")
    assert "0x" + keccak(text=signature(real)).hex() == aave_discover.BORROW_TOPIC
    assert signature(real) == "Borrow(address,address,address,uint256,uint8,uint256,uint16)"
    indexed = [i["name"] for i in real["inputs"] if i["indexed"]]
    assert indexed[2 - 1] == "onBehalfOf"  # discover.py reads topics[2]


def test_aave_v32_emode_getters_are_in_the_real_ipool() -> None:
    path = project_root() / AAVE_ORIGIN_IPOOL
    assert path.is_file(), f"{path} missing: run `make setup` (npm @aave-dao/aave-v3-origin)"
    source = re.sub(r"\s+", " ", path.read_text())
    ours = load_abi("aave-v3", "PoolLiquidEMode")
    for name in LIQUID_EMODE_CALLS:
        (entry,) = _entries(ours, "function", name)
        assert signature(entry) == f"{name}(uint8)"
        assert re.search(rf"function {name}\( ?uint8 id ?\) external view", source), name


@pytest.mark.parametrize(("event", "text", "account_topic", "indexed_name"), [
    ("Borrow", "Borrow(bytes32,address,address,address,uint256,uint256)", 2, "onBehalf"),
    ("SupplyCollateral", "SupplyCollateral(bytes32,address,address,uint256)", 3, "onBehalf"),
    ("CreateMarket", "CreateMarket(bytes32,(address,address,address,address,uint256))", 1,
     "id"),
])
def test_morpho_topics_are_the_real_events(event: str, text: str, account_topic: int,
                                           indexed_name: str) -> None:
    morpho = load_abi("morpho-blue", "Morpho")
    topic = {"Borrow": morpho_read.BORROW_TOPIC,
             "SupplyCollateral": morpho_read.SUPPLY_COLLATERAL_TOPIC,
             "CreateMarket": morpho_read.CREATE_MARKET_TOPIC}[event]
    assert topic == event_topic(morpho, event) == "0x" + keccak(text=text).hex()
    (entry,) = _entries(morpho, "event", event)
    indexed = [i["name"] for i in entry["inputs"] if i["indexed"]]
    assert indexed[account_topic - 1] == indexed_name  # what read.py takes from that topic


@pytest.mark.parametrize(("folder", "contract", "name", "text"), [
    ("morpho-blue", "Morpho", "idToMarketParams", "idToMarketParams(bytes32)"),
    ("morpho-blue", "Morpho", "market", "market(bytes32)"),
    ("morpho-blue", "Morpho", "position", "position(bytes32,address)"),
    ("morpho-blue", "IIrm", "borrowRateView",
     "borrowRateView((address,address,address,address,uint256),"
     "(uint128,uint128,uint128,uint128,uint128,uint128))"),
    ("morpho-blue", "IOracle", "price", "price()"),
    ("aave-v3", "AaveOracle", "getAssetPrice", "getAssetPrice(address)"),
    ("erc20", "ERC20", "symbol", "symbol()"),
    ("erc20", "ERC20", "decimals", "decimals()"),
])
def test_morpho_selectors_are_the_real_ones(folder: str, contract: str, name: str,
                                            text: str) -> None:
    abi = load_abi(folder, contract)
    (entry,) = _entries(abi, "function", name)
    assert signature(entry) == text
    args = [_dummy(i) for i in entry["inputs"]]
    assert encode_call(abi, name, args)[:4] == _selector(text)

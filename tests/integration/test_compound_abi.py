"""DevnetComet's ABI: what contracts/abi/compound-v3/Comet.json holds, and a subset of the real
Comet's (Comet.sol + CometExt.sol, compound-finance/comet at d5a30b0a) with identical signatures.

The reference data is taken from the real sources: `REAL_SELECTORS` / `REAL_EVENT_TOPICS` were
written from their declarations, and tests/unit/data/compound_v3_reference_abi.json is the
real contracts' compiled ABI (internalType dropped: it names the declaring contract).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils.abi import event_signature_to_log_topic, function_signature_to_4byte_selector

from scanner.devnet.compound import compile_compound_contracts
from scanner.devnet.toolchain import project_root

pytestmark = pytest.mark.integration

ABI_PATH = project_root() / "contracts" / "abi" / "compound-v3" / "Comet.json"
REFERENCE_PATH = Path(__file__).parents[1] / "unit" / "data" / "compound_v3_reference_abi.json"

# Every function and error DevnetComet implements, with its selector in the real Comet.
REAL_SELECTORS = {
    "BadAsset()": "0x36405305",
    "BadDecimals()": "0x8ad8cb20",
    "BadDiscount()": "0x49b9231e",
    "BadPrice()": "0xfd1ee349",
    "BorrowCFTooLarge()": "0xc9f5d8e4",
    "BorrowTooSmall()": "0xe273b446",
    "InsufficientReserves()": "0x945e9268",
    "InvalidInt104()": "0x9369ae35",
    "InvalidInt256()": "0xe7e828ad",
    "InvalidUInt104()": "0x1b8f24aa",
    "InvalidUInt128()": "0xec5d4e22",
    "InvalidUInt64()": "0xe54396a2",
    "LiquidateCFTooLarge()": "0x4d6b3250",
    "NegativeNumber()": "0x6c76c96e",
    "NoSelfTransfer()": "0xe397a99b",
    "NotCollateralized()": "0x14c5f7b6",
    "NotForSale()": "0x1d99ddbf",
    "NotLiquidatable()": "0xddeb79ba",
    "SupplyCapExceeded()": "0xf58f733a",
    "TimestampTooLarge()": "0x3d32ffdb",
    "TooManyAssets()": "0xdf8153c7",
    "TooMuchSlippage()": "0xfa6ad355",
    "TransferInFailed()": "0xe7a3dfa0",
    "TransferOutFailed()": "0xcefaffeb",
    "absorb(address,address[])": "0xc3cecfd2",
    "accrueAccount(address)": "0xbfe69c8d",
    "balanceOf(address)": "0x70a08231",
    "baseBorrowMin()": "0x300e6beb",
    "baseIndexScale()": "0x96e7a9c1",
    "baseScale()": "0x44c1e5eb",
    "baseToken()": "0xc55dae63",
    "baseTokenPriceFeed()": "0xe7dad6bd",
    "borrowBalanceOf(address)": "0x374c49b4",
    "borrowKink()": "0x9241a561",
    "borrowPerSecondInterestRateBase()": "0x7914acc7",
    "borrowPerSecondInterestRateSlopeHigh()": "0x2a48cf12",
    "borrowPerSecondInterestRateSlopeLow()": "0x2d05670b",
    "buyCollateral(address,uint256,uint256,address)": "0xe4e6e779",
    "collateralBalanceOf(address,address)": "0x5c2549ee",
    "decimals()": "0x313ce567",
    "factorScale()": "0x0f21d96b",
    "getAssetInfo(uint8)": "0xc8c7fe6b",
    "getAssetInfoByAddress(address)": "0x3b3bec2e",
    "getBorrowRate(uint256)": "0x9fa83b5a",
    "getCollateralReserves(address)": "0x9ff567f8",
    "getPrice(address)": "0x41976e09",
    "getReserves()": "0x0902f1ac",
    "getSupplyRate(uint256)": "0xd955759d",
    "getUtilization()": "0x7eb71131",
    "governor()": "0x0c340a24",
    "isBorrowCollateralized(address)": "0x38aa813f",
    "isLiquidatable(address)": "0x042e02cf",
    "numAssets()": "0xa46fe83b",
    "priceScale()": "0xa0fbddaf",
    "quoteCollateral(address,uint256)": "0x7ac88ed1",
    "storeFrontPriceFactor()": "0x1f5954bd",
    "supply(address,uint256)": "0xf2b9fdb8",
    "supplyKink()": "0xa5b4ff79",
    "supplyPerSecondInterestRateBase()": "0x94920cca",
    "supplyPerSecondInterestRateSlopeHigh()": "0x804de71f",
    "supplyPerSecondInterestRateSlopeLow()": "0x5a94b8d1",
    "supplyTo(address,address,uint256)": "0x4232cd63",
    "targetReserves()": "0x32176c49",
    "totalBorrow()": "0x8285ef40",
    "totalSupply()": "0x18160ddd",
    "totalsBasic()": "0xb9f0baf7",
    "totalsCollateral(address)": "0x59e017bd",
    "transfer(address,uint256)": "0xa9059cbb",
    "transferAsset(address,address,uint256)": "0x439e2e45",
    "userBasic(address)": "0xdc4abafd",
    "userCollateral(address,address)": "0x2b92a07d",
    "withdraw(address,uint256)": "0xf3fef3a3",
    "withdrawTo(address,address,uint256)": "0xc3b35a7e",
}
REAL_EVENT_TOPICS = {
    "AbsorbCollateral(address,address,address,uint256,uint256)":
        "0x9850ab1af75177e4a9201c65a2cf7976d5d28e40ef63494b44366f86b2f9412e",
    "AbsorbDebt(address,address,uint256,uint256)":
        "0x1547a878dc89ad3c367b6338b4be6a65a5dd74fb77ae044da1e8747ef1f4f62f",
    "BuyCollateral(address,address,uint256,uint256)":
        "0xf891b2a411b0e66a5f0a6ff1368670fefa287a13f541eb633a386a1a9cc7046b",
    "Supply(address,address,uint256)":
        "0xd1cf3d156d5f8f0d50f6c122ed609cec09d35c9b9fb3fff6ea0959134dae424e",
    "SupplyCollateral(address,address,address,uint256)":
        "0xfa56f7b24f17183d81894d3ac2ee654e3c26388d17a28dbd9549b8114304e1f4",
    "Transfer(address,address,uint256)":
        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
    "TransferCollateral(address,address,address,uint256)":
        "0x29db89d45e1a802b4d55e202984fce9faf1d30aedf86503ff1ea0ed9ebb64201",
    "Withdraw(address,address,uint256)":
        "0x9b1bfa7fa9ee420a16e124f794c35ac9f90472acc99140eb2f6447c714cad8eb",
    "WithdrawCollateral(address,address,address,uint256)":
        "0xd6d480d5b3068db003533b170d67561494d72e3bf9fa40a266471351ebba9e16",
}
# What liqscan's Compound adapter and its tests need (discovery logs, pinned reads, absorb,
# the store front).
REQUIRED = (
    "SupplyCollateral", "TransferCollateral", "Withdraw", "WithdrawCollateral", "Supply",
    "Transfer", "AbsorbCollateral", "AbsorbDebt", "userBasic", "userCollateral", "totalsBasic",
    "getAssetInfo", "getAssetInfoByAddress", "numAssets", "baseToken", "baseTokenPriceFeed",
    "getPrice", "borrowBalanceOf", "isLiquidatable", "absorb", "accrueAccount", "baseScale",
    "getSupplyRate", "getBorrowRate", "getUtilization", "supplyKink", "borrowKink",
    "borrowPerSecondInterestRateBase", "borrowPerSecondInterestRateSlopeLow",
    "borrowPerSecondInterestRateSlopeHigh", "NotLiquidatable",
    # the store front (the cascade's Comet sale)
    "storeFrontPriceFactor", "targetReserves", "getReserves", "getCollateralReserves",
    "quoteCollateral", "buyCollateral", "NotForSale", "BuyCollateral",
)


def _type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_type(c) for c in param["components"])
        return f"({inner}){param['type'][len('tuple'):]}"
    return str(param["type"])


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(_type(p) for p in entry['inputs'])})"


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "internalType"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _load(path: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text())
    return entries


def test_shipped_abi_is_what_our_contract_compiles_to() -> None:
    compiled = compile_compound_contracts()["DevnetComet"].abi
    assert compiled == _load(ABI_PATH)


def test_every_entry_is_in_the_real_comet_abi_unchanged() -> None:
    reference = _load(REFERENCE_PATH)
    for entry in _load(ABI_PATH):
        # names, types, indexed flags, outputs and mutability all equal a real entry
        assert _strip(entry) in reference, f"{entry.get('name', entry['type'])} differs"


def test_selectors_and_topics_match_the_real_comet() -> None:
    ours = _load(ABI_PATH)
    functions = {_signature(e) for e in ours if e["type"] in ("function", "error")}
    events = {_signature(e) for e in ours if e["type"] == "event"}
    assert functions == set(REAL_SELECTORS)
    assert events == set(REAL_EVENT_TOPICS)
    for signature, selector in REAL_SELECTORS.items():
        assert "0x" + function_signature_to_4byte_selector(signature).hex() == selector
    for signature, topic in REAL_EVENT_TOPICS.items():
        assert "0x" + event_signature_to_log_topic(signature).hex() == topic


def test_reference_abi_agrees_with_the_real_selectors() -> None:
    reference = _load(REFERENCE_PATH)
    signatures = {_signature(e) for e in reference if e["type"] in ("function", "error", "event")}
    assert set(REAL_SELECTORS) | set(REAL_EVENT_TOPICS) <= signatures


def test_everything_the_adapter_needs_is_there() -> None:
    names = {e.get("name") for e in _load(ABI_PATH)}
    assert set(REQUIRED) <= names

"""A Morpho market whose loan token the USD source cannot price stays in its own terms.

On the devnet a new token (USDX) that the AaveOracle does not list is lent against wstETH in a
real Morpho market whose oracle reads a separate price source. The scan keeps its positions:
USDX gets the USD price the market's own oracle implies, the level of each position on the
ETH axis is judged by a real `liquidate` after 31 days of interest, and a market neither of
whose tokens is priced is a one-line config error.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from scanner.config import Config
from scanner.devnet.aave import CORE, DEPLOYER, _deploy
from scanner.devnet.morpho import (
    MARKET_PARAMS,
    MarketSpec,
    MorphoMarket,
    MorphoPositionPlan,
    _describe_market,
    _position_txs,
    _supply_txs,
    borrow_for_ltv,
    compile_morpho_contracts,
    oracle_price,
)
from scanner.devnet.network import MORPHO_MARKET_KEY, Devnet, seeded_devnet
from scanner.devnet.prices import get_price_usd_8dec
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.devnet.solc import compile_sources
from scanner.devnet.toolchain import project_root
from scanner.domain import Direction, PositionResult, PositionStatus
from scanner.errors import ConfigError
from scanner.pipeline.scan import SnapshotOutcome, scan_market
from tests.integration.scan_helpers import devnet_config, fresh_repo

pytestmark = pytest.mark.integration

DAYS_31 = 31 * 24 * 3600
LIQUIDATOR = "0x000000000000000000000000000000000000b10e"
HEALTHY = "position is healthy"
PPM = 100  # 1e-4
LLTV_WAD = 860_000_000_000_000_000
USDX_USD_8DEC = 99_800_000  # the market's own source: 0.998 USD, the AaveOracle: none
LTVS_PERCENT = (40, 55, 70, 80, 84)


@dataclasses.dataclass(frozen=True)
class OwnTermsMarket:
    devnet: Devnet
    market: MorphoMarket
    price_source: str
    borrowers: tuple[str, ...]


def _borrower(index: int) -> str:
    return "0x" + keccak(b"liqscan-own-terms" + bytes([index]))[-20:].hex()


def _deploy_price_source(rpc: DevnetRpc) -> str:
    source = project_root() / "contracts" / "src" / "DevnetPriceSource.sol"
    code = compile_sources({"DevnetPriceSource.sol": source})["DevnetPriceSource"]
    return rpc.deploy(DEPLOYER, code.bytecode, b"")


def _open_market(devnet: Devnet, rpc: DevnetRpc) -> OwnTermsMarket:
    """USDX lent against wstETH, priced by its own source; five borrowers; a funded liquidator."""
    assert devnet.morpho is not None
    morpho = devnet.morpho
    usdx = _deploy(rpc, CORE, "MintableERC20", ["string", "string", "uint8"],
                   ["Devnet USDX", "USDX", 6])
    wsteth = devnet.aave.tokens["wstETH"]
    source = _deploy_price_source(rpc)
    rpc.send_many([
        Tx(DEPLOYER, source, calldata("setAssetPrice(address,uint256)", wsteth,
                                      get_price_usd_8dec(rpc, devnet.aave, "wstETH"))),
        Tx(DEPLOYER, source, calldata("setAssetPrice(address,uint256)", usdx, USDX_USD_8DEC)),
    ])
    oracle = rpc.deploy(DEPLOYER, compile_morpho_contracts()["DevnetMorphoOracle"].bytecode,
                        encode(["address", "address", "address"], [source, wsteth, usdx]))
    spec = MarketSpec(collateral="wstETH", loan="USDX", lltv_wad=LLTV_WAD, initial_supply=0,
                      weight=1)
    market = _describe_market(rpc, spec, {"wstETH": wsteth, "USDX": usdx}, oracle, morpho.irm)
    rpc.send(Tx(DEPLOYER, morpho.morpho, calldata(f"createMarket({MARKET_PARAMS})",
                                                  market.params)))
    deployment = dataclasses.replace(morpho, markets=(market,))
    rpc.send_many(_supply_txs(deployment, {market.market_id: 10**7 * 10**6}, approve=True))
    price = oracle_price(rpc, market)
    borrowers, txs = [], []
    for index, ltv in enumerate(LTVS_PERCENT):
        plan = MorphoPositionPlan(_borrower(index), market.market_id, (index + 1) * 10**19,
                                  ltv * 10**16)
        borrowers.append(plan.borrower)
        txs += _position_txs(deployment, market, plan,
                             borrow_for_ltv(plan.collateral_raw, price, plan.ltv_wad))
    txs += [Tx(LIQUIDATOR, usdx, calldata("mint(address,uint256)", LIQUIDATOR, 10**30)),
            Tx(LIQUIDATOR, usdx, calldata("approve(address,uint256)", morpho.morpho,
                                          2**256 - 1))]
    rpc.send_many(txs)
    rpc.call("evm_increaseTime", [DAYS_31])
    rpc.mine()
    return OwnTermsMarket(devnet, market, source, tuple(borrowers))


@pytest.fixture(scope="module")
def own_terms() -> Iterator[OwnTermsMarket]:
    with seeded_devnet(seed=5, aave_positions=100, morpho_positions=240) as devnet:
        yield _open_market(devnet, DevnetRpc(devnet.rpc_url))


def _config(own: OwnTermsMarket, folder: Path, market_ids: tuple[str, ...]) -> Config:
    """The devnet's Morpho entry on `market_ids` plus its WETH/USDC market, which lists the
    ETH axis's reference asset."""
    assert own.devnet.morpho is not None
    weth = next(m.market_id.lower() for m in own.devnet.morpho.markets
                if (m.collateral_symbol, m.loan_symbol) == ("WETH", "USDC"))
    config = devnet_config(own.devnet, folder, f"sqlite:///{folder / 'own.db'}")
    morpho = dataclasses.replace(config.market(MORPHO_MARKET_KEY),
                                 lists={"market_ids": (*market_ids, weth)})
    return dataclasses.replace(config, markets=(morpho,), axes={"ETH": config.axes["ETH"]})


def _scan(config: Config) -> SnapshotOutcome:
    return asyncio.run(scan_market(config, config.market(MORPHO_MARKET_KEY), fresh_repo(config)))


def _liquidatable(own: OwnTermsMarket, rpc: DevnetRpc, result: PositionResult, axis_8dec: int,
                  block: int) -> bool:
    """A real liquidate with the source's wstETH price moved as the ETH axis moves."""
    wsteth = own.devnet.aave.tokens["wstETH"]
    now = get_price_usd_8dec(rpc, own.devnet.aave, "wstETH", block)
    moved = now * axis_8dec // result.axis_price_now_8dec
    slot = keccak(encode(["address", "uint256"], [wsteth, 0]))
    overrides = {own.price_source: {"stateDiff": {"0x" + slot.hex(): f"0x{moved:064x}"}}}
    call = {"from": LIQUIDATOR, "to": own.devnet.morpho.morpho if own.devnet.morpho else "",
            "gas": hex(2_000_000),
            "data": calldata(f"liquidate({MARKET_PARAMS},address,uint256,uint256,bytes)",
                             own.market.params, result.account, 1, 0, b"")}
    try:
        rpc.call("eth_call", [call, hex(block), overrides])
    except RpcCallError as exc:
        assert HEALTHY in str(exc), exc
        return False
    return True


def test_unpriced_loan_token_keeps_its_positions_with_their_true_level(
    own_terms: OwnTermsMarket, tmp_path: Path
) -> None:
    outcome = _scan(_config(own_terms, tmp_path, (own_terms.market.market_id.lower(),)))
    rows = [r for r in outcome.results
            if r.axis == "ETH" and r.submarket == own_terms.market.market_id.lower()]
    assert {r.account.lower() for r in rows} == {b.lower() for b in own_terms.borrowers}
    rpc, block = DevnetRpc(own_terms.devnet.rpc_url), outcome.record.block
    for r in rows:
        assert r.status is PositionStatus.AT_RISK and r.direction is Direction.DOWN, r
        assert r.liquidation_price_8dec is not None
        assert r.native_price_unit == "USDX/wstETH"
        # USDX is valued through the market's own oracle: ~0.998 USD a token
        assert r.debt_usd_8dec > 0 and r.collateral_usd_8dec > r.debt_usd_8dec
        safe = r.liquidation_price_8dec * (1_000_000 + PPM) // 1_000_000
        past = r.liquidation_price_8dec * (1_000_000 - PPM) // 1_000_000
        assert not _liquidatable(own_terms, rpc, r, safe, block), r.account
        assert _liquidatable(own_terms, rpc, r, past, block), r.account
    symbols = {asset.symbol for m in outcome.markets for asset in m.read.assets}
    assert "USDX" not in symbols and "wstETH" in symbols


def test_debt_in_an_unpriced_token_is_valued_at_the_markets_own_price(
    own_terms: OwnTermsMarket, tmp_path: Path
) -> None:
    outcome = _scan(_config(own_terms, tmp_path, (own_terms.market.market_id.lower(),)))
    state = next(p.state for p in outcome.markets[0].read.positions
                 if p.submarket == own_terms.market.market_id.lower())
    loan = state.loan  # type: ignore[attr-defined]
    # wstETH's AaveOracle price times the market oracle's USDX per wstETH: 0.998 USD, to 1e-8
    assert abs(loan.usd_8dec - USDX_USD_8DEC) <= 1, loan


def test_a_market_with_no_priced_token_is_a_one_line_config_error(
    own_terms: OwnTermsMarket, tmp_path: Path
) -> None:
    rpc = DevnetRpc(own_terms.devnet.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    try:
        # a second market of USDX lent against itself-priced USDY: the AaveOracle prices neither
        assert own_terms.devnet.morpho is not None
        usdy = _deploy(rpc, CORE, "MintableERC20", ["string", "string", "uint8"],
                       ["Devnet USDY", "USDY", 18])
        usdx = own_terms.market.loan_token
        rpc.send(Tx(DEPLOYER, own_terms.price_source,
                    calldata("setAssetPrice(address,uint256)", usdy, 10**8)))
        oracle = rpc.deploy(DEPLOYER,
                            compile_morpho_contracts()["DevnetMorphoOracle"].bytecode,
                            encode(["address", "address", "address"],
                                   [own_terms.price_source, usdy, usdx]))
        spec = MarketSpec("USDY", "USDX", LLTV_WAD, 0, 1)
        market = _describe_market(rpc, spec, {"USDY": usdy, "USDX": usdx}, oracle,
                                  own_terms.devnet.morpho.irm)
        rpc.send(Tx(DEPLOYER, own_terms.devnet.morpho.morpho,
                    calldata(f"createMarket({MARKET_PARAMS})", market.params)))
        config = _config(own_terms, tmp_path, (market.market_id.lower(),))
        with pytest.raises(ConfigError) as raised:
            _scan(config)
        message = str(raised.value)
        assert "\n" not in message and "usd_price_oracle" in message and "USDY" in message
    finally:
        rpc.call("evm_revert", [snapshot])

"""Morpho Blue from the npm sources on a real anvil: markets, seeded borrowers, a liquidation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.anvil import Anvil
from scanner.devnet.morpho import (
    MARKET_PARAMS,
    MAX_UINT256,
    ORACLE_PRICE_SCALE,
    WAD,
    MorphoDeployment,
    MorphoMarket,
    MorphoPositionPlan,
    compile_morpho_contracts,
    deploy_morpho,
    load_morpho_spec,
    oracle_price,
    plan_morpho_positions,
    seed_morpho,
    set_irm_rate,
)
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.devnet.solc import compile_sources
from scanner.devnet.toolchain import load_artifact, project_root

pytestmark = pytest.mark.integration

DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil account 0
LIQUIDATOR = to_checksum_address(keccak(b"liqscan-test-liquidator")[-20:])
PRICES_8DEC = {"USDC": 10**8, "WETH": 3_400 * 10**8, "wstETH": 4_000 * 10**8,
               "WBTC": 95_000 * 10**8}
TOKEN_DECIMALS = {"USDC": 6, "WBTC": 8, "wstETH": 18}
SEED, POSITIONS = 7, 120
VIRTUAL_SHARES, VIRTUAL_ASSETS = 10**6, 1


@dataclass(frozen=True)
class Devnet:
    rpc: DevnetRpc
    price_source: str
    tokens: dict[str, str]
    morpho: MorphoDeployment
    plans: list[MorphoPositionPlan]
    borrows_raw: list[int]


def deploy_tokens(rpc: DevnetRpc) -> dict[str, str]:
    """The tokens the Aave devnet uses: MintableERC20 mocks and WETH9Mocked."""
    mintable = load_artifact("@aave/core-v3", "MintableERC20")
    tokens = {symbol: rpc.deploy(DEPLOYER, mintable.bytecode,
                                 encode(["string", "string", "uint8"], [symbol, symbol, decimals]))
              for symbol, decimals in TOKEN_DECIMALS.items()}
    tokens["WETH"] = rpc.deploy(DEPLOYER, load_artifact("@aave/core-v3", "WETH9Mocked").bytecode)
    return tokens


def set_price(rpc: DevnetRpc, price_source: str, token: str, price_8dec: int) -> None:
    rpc.send(Tx(DEPLOYER, price_source, calldata("setAssetPrice(address,uint256)", token,
                                                 price_8dec)))


@pytest.fixture(scope="module")
def devnet() -> Iterator[Devnet]:
    with Anvil.start() as node:
        rpc = DevnetRpc(node.url)
        tokens = deploy_tokens(rpc)
        source = project_root() / "contracts" / "src" / "DevnetPriceSource.sol"
        price_code = compile_sources({"DevnetPriceSource.sol": source})["DevnetPriceSource"]
        price_source = rpc.deploy(DEPLOYER, price_code.bytecode)
        for symbol, price_8dec in PRICES_8DEC.items():
            set_price(rpc, price_source, tokens[symbol], price_8dec)
        morpho = deploy_morpho(rpc, DEPLOYER, tokens, price_source)
        plans = plan_morpho_positions(SEED, POSITIONS, morpho.markets)
        borrows_raw = seed_morpho(rpc, morpho, plans)
        yield Devnet(rpc, price_source, tokens, morpho, plans, borrows_raw)


def read_position(rpc: DevnetRpc, morpho: str, market_id: str, user: str) -> tuple[int, int, int]:
    raw = rpc.eth_call(morpho, calldata("position(bytes32,address)",
                                        bytes.fromhex(market_id[2:]), user))
    supply_shares, borrow_shares, collateral = decode(["uint256", "uint128", "uint128"], raw)
    return int(supply_shares), int(borrow_shares), int(collateral)


def read_market(rpc: DevnetRpc, morpho: str, market_id: str) -> tuple[int, ...]:
    """(totalSupply assets, shares, totalBorrow assets, shares, lastUpdate, fee)."""
    raw = rpc.eth_call(morpho, calldata("market(bytes32)", bytes.fromhex(market_id[2:])))
    return tuple(int(v) for v in decode(["uint128"] * 6, raw))


def test_morpho_runs_the_npm_sources(devnet: Devnet) -> None:
    rpc, morpho = devnet.rpc, devnet.morpho.morpho
    compiled = compile_morpho_contracts()["Morpho"]
    code = bytes.fromhex(rpc.call("eth_getCode", [morpho, "latest"])[2:])
    runtime = bytes.fromhex(compiled.deployed_bytecode[2:])
    # Only the immutable DOMAIN_SEPARATOR (32 bytes per use) differs from the compiled runtime.
    assert len(code) == len(runtime)
    assert sum(a != b for a, b in zip(code, runtime, strict=True)) <= 64
    (owner,) = decode(["address"], rpc.eth_call(morpho, calldata("owner()")))
    assert to_checksum_address(owner) == DEPLOYER
    assert len(devnet.morpho.markets) == 4
    restored = MorphoDeployment.from_dict(devnet.morpho.to_dict())
    assert restored == devnet.morpho


def test_oracle_reads_the_price_source(devnet: Devnet) -> None:
    for market in devnet.morpho.markets:
        expected = (PRICES_8DEC[market.collateral_symbol] * 10 ** (36 + market.loan_decimals)
                    // (PRICES_8DEC[market.loan_symbol] * 10**market.collateral_decimals))
        assert oracle_price(devnet.rpc, market) == expected


def test_plans_are_deterministic_and_below_lltv(devnet: Devnet) -> None:
    markets = devnet.morpho.markets
    assert plan_morpho_positions(SEED, POSITIONS, markets) == devnet.plans
    assert plan_morpho_positions(SEED + 1, POSITIONS, markets) != devnet.plans
    lltv = {m.market_id: m.lltv_wad for m in markets}
    assert all(0 < p.ltv_wad < lltv[p.market_id] for p in devnet.plans)
    near = [p for p in devnet.plans if p.ltv_wad * 100 >= lltv[p.market_id] * 97]
    assert 0 < len(near) < POSITIONS // 4
    assert {p.market_id for p in devnet.plans} == set(lltv)
    sizes = sorted(p.collateral_raw for p in devnet.plans if p.market_id == markets[0].market_id)
    assert sizes[-1] > 10 * sizes[len(sizes) // 2]  # heavy tail


def test_seeded_positions_exist(devnet: Devnet) -> None:
    rpc, morpho = devnet.rpc, devnet.morpho.morpho
    for plan, borrow_raw in zip(devnet.plans, devnet.borrows_raw, strict=True):
        _supply, borrow_shares, collateral = read_position(rpc, morpho, plan.market_id,
                                                           plan.borrower)
        assert collateral == plan.collateral_raw
        assert borrow_raw > 0 and borrow_shares > 0


def liquidatable(market: MorphoMarket, collateral_price_8dec: int, collateral_raw: int,
                 borrow_shares: int, totals: tuple[int, ...]) -> bool:
    """Morpho's rule with the DevnetMorphoOracle price for a given collateral USD price."""
    loan_price_8dec = PRICES_8DEC[market.loan_symbol]
    price = (collateral_price_8dec * 10 ** (36 + market.loan_decimals)
             // (loan_price_8dec * 10**market.collateral_decimals))
    total_borrow_assets, total_borrow_shares = totals[2], totals[3]
    numerator = borrow_shares * (total_borrow_assets + VIRTUAL_ASSETS)
    denominator = total_borrow_shares + VIRTUAL_SHARES
    borrowed = -(-numerator // denominator)  # rounded up, as SharesMathLib.toAssetsUp
    max_borrow = collateral_raw * price // ORACLE_PRICE_SCALE * market.lltv_wad // WAD
    return bool(borrowed > max_borrow)


def highest_liquidating_price(market: MorphoMarket, collateral_raw: int, borrow_shares: int,
                              totals: tuple[int, ...]) -> int:
    low, high = 1, PRICES_8DEC[market.collateral_symbol]  # liquidatable at low, healthy at high
    assert not liquidatable(market, high, collateral_raw, borrow_shares, totals)
    while high - low > 1:
        middle = (low + high) // 2
        if liquidatable(market, middle, collateral_raw, borrow_shares, totals):
            low = middle
        else:
            high = middle
    return low


def test_liquidation_after_price_move(devnet: Devnet) -> None:
    rpc, deployment = devnet.rpc, devnet.morpho
    usd_markets = {m.market_id: m for m in deployment.markets if m.loan_symbol == "USDC"}
    plan = max((p for p in devnet.plans if p.market_id in usd_markets), key=lambda p: p.ltv_wad)
    market = usd_markets[plan.market_id]
    liquidate_data = calldata(f"liquidate({MARKET_PARAMS},address,uint256,uint256,bytes)",
                              market.params, plan.borrower, plan.collateral_raw // 2, 0, b"")
    rpc.send_many([
        Tx(LIQUIDATOR, market.loan_token, calldata("mint(address,uint256)", LIQUIDATOR, 10**30)),
        Tx(LIQUIDATOR, market.loan_token, calldata("approve(address,uint256)",
                                                   deployment.morpho, MAX_UINT256)),
    ])
    # Freeze interest so the boundary computed from this block's totals stays exact.
    set_irm_rate(rpc, deployment, 0)
    rpc.send(Tx(LIQUIDATOR, deployment.morpho, calldata(f"accrueInterest({MARKET_PARAMS})",
                                                        market.params)))
    totals = read_market(rpc, deployment.morpho, market.market_id)
    _s, shares, collateral_raw = read_position(rpc, deployment.morpho, market.market_id,
                                               plan.borrower)
    boundary_8dec = highest_liquidating_price(market, collateral_raw, shares, totals)
    collateral_token = market.collateral_token
    try:
        set_price(rpc, devnet.price_source, collateral_token, boundary_8dec + 1)
        call = {"from": LIQUIDATOR, "to": deployment.morpho, "data": liquidate_data}
        with pytest.raises(RpcCallError, match="position is healthy"):
            rpc.call("eth_call", [call, "latest"])
        with pytest.raises(RpcCallError, match="reverted"):
            rpc.send(Tx(LIQUIDATOR, deployment.morpho, liquidate_data))
        set_price(rpc, devnet.price_source, collateral_token, boundary_8dec)
        rpc.send(Tx(LIQUIDATOR, deployment.morpho, liquidate_data))
    finally:
        set_price(rpc, devnet.price_source, collateral_token,
                  PRICES_8DEC[market.collateral_symbol])
    _s, shares_after, collateral_after = read_position(rpc, deployment.morpho, market.market_id,
                                                       plan.borrower)
    assert collateral_after == collateral_raw - plan.collateral_raw // 2
    assert 0 < shares_after < shares


def w_taylor_compounded(rate_wad: int, seconds: int) -> int:
    """MathLib.wTaylorCompounded: e^(rate*t) - 1, three Taylor terms, each rounded down."""
    first = rate_wad * seconds
    second = first * first // (2 * WAD)
    third = second * first // (3 * WAD)
    return first + second + third


def test_irm_rate_accrues_interest(devnet: Devnet) -> None:
    rpc, deployment = devnet.rpc, devnet.morpho
    market = deployment.markets[0]
    rate_wad = 3_170_979_198  # ~10% a year
    accrue = Tx(DEPLOYER, deployment.morpho, calldata(f"accrueInterest({MARKET_PARAMS})",
                                                      market.params))
    set_irm_rate(rpc, deployment, rate_wad)
    rpc.send(accrue)
    before = read_market(rpc, deployment.morpho, market.market_id)
    rpc.call("evm_increaseTime", [30 * 86_400])
    rpc.send(accrue)
    after = read_market(rpc, deployment.morpho, market.market_id)
    elapsed = after[4] - before[4]
    assert elapsed >= 30 * 86_400
    interest = before[2] * w_taylor_compounded(rate_wad, elapsed) // WAD
    assert after[2] == before[2] + interest
    assert after[0] == before[0] + interest  # no fee: all interest goes to suppliers


def test_markets_come_from_the_toml(devnet: Devnet) -> None:
    spec = load_morpho_spec()
    deployed = [(m.collateral_symbol, m.loan_symbol, m.lltv_wad) for m in devnet.morpho.markets]
    assert deployed == [(m.collateral, m.loan, m.lltv_wad) for m in spec.markets]
    assert ("wstETH", "WETH", 945 * 10**15) in deployed
    for market in devnet.morpho.markets:  # the lender's initial supply is there
        assert read_market(devnet.rpc, devnet.morpho.morpho, market.market_id)[0] > 0

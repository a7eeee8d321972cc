"""Real transactions that touch some accounts between two snapshots (test_incremental.py)."""

from __future__ import annotations

from eth_abi.abi import decode

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.compound import CompoundDeployment
from scanner.devnet.compound_population import CometPositionPlan
from scanner.devnet.morpho import MARKET_PARAMS, MorphoDeployment, MorphoPositionPlan
from scanner.devnet.population import AavePositionPlan, account_address
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.domain import Direction, PositionResult

LIQUIDATOR = "0x000000000000000000000000000000000000Bee5"
BIG_RAW = 10**30


def new_borrower(rpc: DevnetRpc, aave: AaveDeployment, seed: int) -> str:
    """A new account supplies 3 WETH and borrows 2,000 USDC."""
    account = account_address(seed, 0)
    pool, weth, usdc = aave.pool, aave.tokens["WETH"], aave.tokens["USDC"]
    rpc.send_many([
        Tx(account, weth, calldata("mint(uint256)", 3 * 10**18)),
        Tx(account, weth, calldata("approve(address,uint256)", pool, 3 * 10**18)),
        Tx(account, pool, calldata("supply(address,uint256,address,uint16)", weth, 3 * 10**18,
                                   account, 0)),
        Tx(account, pool, calldata("borrow(address,uint256,uint256,uint16,address)", usdc,
                                   2_000 * 10**6, 2, 0, account)),
    ])
    return account


def repay_half(rpc: DevnetRpc, aave: AaveDeployment, plan: AavePositionPlan) -> str:
    """The account repays half of its first borrow, from freshly minted tokens."""
    symbol, amount = plan.borrows[0]
    token = aave.tokens[symbol]
    rpc.send_many([
        Tx(plan.account, token, calldata("mint(uint256)", amount)),
        Tx(plan.account, token, calldata("approve(address,uint256)", aave.pool, amount)),
        Tx(plan.account, aave.pool, calldata("repay(address,uint256,uint256,address)", token,
                                             amount // 2, 2, plan.account)),
    ])
    return plan.account


def supply_more(rpc: DevnetRpc, aave: AaveDeployment, plan: AavePositionPlan) -> str:
    """The account supplies its first collateral again (the same amount)."""
    symbol, amount = plan.supplies[0]
    token = aave.tokens[symbol]
    rpc.send_many([
        Tx(plan.account, token, calldata("mint(uint256)", amount)),
        Tx(plan.account, token, calldata("approve(address,uint256)", aave.pool, amount)),
        Tx(plan.account, aave.pool, calldata("supply(address,uint256,address,uint16)", token,
                                             amount, plan.account, 0)),
    ])
    return plan.account


def liquidate(rpc: DevnetRpc, aave: AaveDeployment, plan: AavePositionPlan) -> str:
    """liquidationCall of the account's largest debt against its largest collateral."""
    debt = aave.tokens[max(plan.borrows, key=lambda b: b[1])[0]]
    collateral = aave.tokens[max(plan.supplies, key=lambda s: s[1])[0]]
    rpc.send_many([
        Tx(LIQUIDATOR, debt, calldata("mint(uint256)", BIG_RAW)),
        Tx(LIQUIDATOR, debt, calldata("approve(address,uint256)", aave.pool, BIG_RAW)),
        Tx(LIQUIDATOR, aave.pool, calldata(
            "liquidationCall(address,address,address,uint256,bool)", collateral, debt,
            plan.account, 2**256 - 1, False)),
    ])
    return plan.account


def liquidatable_after_drop(results: tuple[PositionResult, ...], market_key: str,
                            drop_bps: int) -> list[str]:
    """Accounts of `market_key` long ETH whose level lies inside a drop of `drop_bps` (with
    a margin of 2%), nearest the price first."""
    longs = [r for r in results if r.market_key == market_key and r.axis == "ETH"
             and r.direction == Direction.DOWN and r.liquidation_price_8dec is not None
             and r.liquidation_price_8dec
             > r.axis_price_now_8dec * (10_000 - drop_bps + 200) // 10_000
             and r.liquidation_price_8dec < r.axis_price_now_8dec]
    return [r.account for r in sorted(longs, key=lambda r: -(r.liquidation_price_8dec or 0))]


def morpho_repay_half(rpc: DevnetRpc, morpho: MorphoDeployment, plan: MorphoPositionPlan
                      ) -> str:
    """The borrower repays half of its borrow shares, from freshly minted loan tokens."""
    market = morpho.market(plan.market_id)
    raw_id = bytes.fromhex(plan.market_id[2:])
    (_supply, shares, _collateral) = decode(["uint256", "uint128", "uint128"], rpc.eth_call(
        morpho.morpho, calldata("position(bytes32,address)", raw_id, plan.borrower)))
    who = plan.borrower
    rpc.send_many([
        Tx(who, market.loan_token, calldata("mint(address,uint256)", who, BIG_RAW)),
        Tx(who, market.loan_token, calldata("approve(address,uint256)", morpho.morpho,
                                            BIG_RAW)),
        Tx(who, morpho.morpho, calldata(f"repay({MARKET_PARAMS},uint256,uint256,address,bytes)",
                                        market.params, 0, shares // 2, who, b"")),
    ])
    return who


def comet_repay_part(rpc: DevnetRpc, compound: CompoundDeployment, plan: CometPositionPlan
                     ) -> str:
    """The borrower supplies a third of its borrow in the base token (a partial repay)."""
    comet = compound.comet(plan.comet)
    amount = plan.borrow_raw // 3
    rpc.send_many([
        Tx(plan.account, comet.base_token, calldata("mint(uint256)", amount)),
        Tx(plan.account, comet.base_token, calldata("approve(address,uint256)", comet.comet,
                                                    amount)),
        Tx(plan.account, comet.comet, calldata("supply(address,uint256)", comet.base_token,
                                               amount)),
    ])
    return plan.account

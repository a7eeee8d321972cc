"""Open the planned Comet positions with real transactions (impersonated accounts, no ETH needed).

1. the lender supplies base liquidity (1.3x the planned borrows + a floor) to every Comet;
2. the normal plans open at today's prices;
3. per Comet, its collateral feeds move to `stress_boost` x their price (through the Aave
   aggregators they read), the stressed plans open, and the prices move back exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.compound import CometMarket, CompoundDeployment
from scanner.devnet.compound_population import CometPositionPlan
from scanner.devnet.compound_spec import CompoundSpec, load_compound_spec
from scanner.devnet.prices import set_prices
from scanner.devnet.rpc import DevnetRpc, Tx, calldata

MAX_UINT256 = 2**256 - 1
LENDER = to_checksum_address(keccak(b"liqscan-comet-lender")[-20:])
FUNDER = to_checksum_address(keccak(b"liqscan-comet-funder")[-20:])  # supplyTo/transferAsset
SINK = to_checksum_address(keccak(b"liqscan-comet-sink")[-20:])  # receives transfer-borrows
LIQUIDITY_HEADROOM = Decimal("1.3")
LIQUIDITY_FLOOR_WHOLE = {"USDC": 1_000_000, "WETH": 500}
TXS_PER_SEND = 5_000


def _mint_approve(account: str, token: str, spender: str, amount_raw: int) -> list[Tx]:
    return [Tx(account, token, calldata("mint(uint256)", amount_raw)),
            Tx(account, token, calldata("approve(address,uint256)", spender, MAX_UINT256))]


def _collateral_txs(market: CometMarket, plan: CometPositionPlan) -> list[Tx]:
    txs: list[Tx] = []
    for symbol, amount_raw in plan.collateral:
        token, comet, who = market.collateral_tokens[symbol], market.comet, plan.account
        if plan.collateral_route == "supply":
            txs += _mint_approve(who, token, comet, amount_raw)
            txs.append(Tx(who, comet, calldata("supply(address,uint256)", token, amount_raw)))
        elif plan.collateral_route == "supply_to":
            txs += _mint_approve(FUNDER, token, comet, amount_raw)
            txs.append(Tx(FUNDER, comet, calldata("supplyTo(address,address,uint256)",
                                                  who, token, amount_raw)))
        else:  # transfer_asset: only a TransferCollateral log names the borrower
            txs += _mint_approve(FUNDER, token, comet, amount_raw)
            txs.append(Tx(FUNDER, comet, calldata("supply(address,uint256)", token, amount_raw)))
            txs.append(Tx(FUNDER, comet, calldata("transferAsset(address,address,uint256)",
                                                  who, token, amount_raw)))
    return txs


def position_txs(market: CometMarket, plan: CometPositionPlan) -> list[Tx]:
    txs = _collateral_txs(market, plan)
    if plan.borrow_raw == 0:
        return txs
    if plan.borrow_route == "transfer":  # borrows with no Withdraw log
        txs.append(Tx(plan.account, market.comet,
                      calldata("transfer(address,uint256)", SINK, plan.borrow_raw)))
    else:
        txs.append(Tx(plan.account, market.comet, calldata(
            "withdraw(address,uint256)", market.base_token, plan.borrow_raw)))
    return txs


def _liquidity_txs(compound: CompoundDeployment, plans: Sequence[CometPositionPlan]) -> list[Tx]:
    borrowed: dict[str, int] = defaultdict(int)
    for plan in plans:
        borrowed[plan.comet] += plan.borrow_raw
    txs: list[Tx] = []
    for market in compound.comets:
        floor_raw = LIQUIDITY_FLOOR_WHOLE.get(market.base_symbol, 0) * 10**market.base_decimals
        amount_raw = int(borrowed[market.key] * LIQUIDITY_HEADROOM) + floor_raw
        txs += _mint_approve(LENDER, market.base_token, market.comet, amount_raw)
        txs.append(Tx(LENDER, market.comet,
                      calldata("supply(address,uint256)", market.base_token, amount_raw)))
    return txs


def _send(rpc: DevnetRpc, txs: Sequence[Tx]) -> None:
    for start in range(0, len(txs), TXS_PER_SEND):
        rpc.send_many(txs[start:start + TXS_PER_SEND])


def _aggregator_answer(rpc: DevnetRpc, aggregator: str) -> int:
    (answer,) = decode(["int256"], rpc.eth_call(aggregator, calldata("latestAnswer()")))
    return int(answer)


def _open_stressed(rpc: DevnetRpc, aave: AaveDeployment, market: CometMarket,
                   plans: Sequence[CometPositionPlan], boost: Decimal) -> None:
    """Open `plans` while `market`'s collateral prices read boost x today's, then restore."""
    if not plans:
        return
    today = {s: _aggregator_answer(rpc, aave.aggregators[s]) for s in market.collateral_tokens}
    set_prices(rpc, aave, {s: int(p * boost) for s, p in today.items()})
    _send(rpc, [tx for plan in plans for tx in position_txs(market, plan)])
    set_prices(rpc, aave, today)


def seed_compound(rpc: DevnetRpc, aave: AaveDeployment, compound: CompoundDeployment,
                  plans: Sequence[CometPositionPlan], spec: CompoundSpec | None = None) -> int:
    """Open every plan; return the head block once prices are back to today's."""
    spec = spec or load_compound_spec()
    _send(rpc, _liquidity_txs(compound, plans))
    normal = [p for p in plans if not p.stressed]
    _send(rpc, [tx for p in normal for tx in position_txs(compound.comet(p.comet), p)])
    for market in compound.comets:
        stressed = [p for p in plans if p.stressed and p.comet == market.key]
        _open_stressed(rpc, aave, market, stressed, spec.stress_boost)
    return rpc.block_number()

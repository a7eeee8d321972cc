"""Real Aave `liquidationCall`s on one account until the Pool says it is healthy: the loop the
cascade tests execute, shared by test_cascade.py (the first round) and
test_cascade_executed.py (whole cascades)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from scanner.config import Config
from scanner.devnet.aave import AaveDeployment
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.pipeline.axes import resolve_axes
from scanner.protocols.aave_v3.generic_logic import account_totals
from scanner.protocols.aave_v3.rule import liquidation_call_at
from scanner.protocols.aave_v3.state import AaveMarketState
from tests.integration.test_liquidation_call import LIQUIDATOR, _assets, _executed, _read

MAX_CALLS = 64


@dataclass(frozen=True)
class ExecutedCall:
    """One `liquidationCall` as the Pool executed it (amounts from its event)."""

    collateral_asset: str
    debt_asset: str
    collateral_raw: int  # to the liquidator (the protocol fee stays with the treasury)
    debt_raw: int
    state: AaveMarketState  # the market read just before the call (its oracle prices)


def liquidate_until_healthy(rpc: DevnetRpc, config: Config, key: str, aave: AaveDeployment,
                            account: str, axis: str = "ETH") -> list[ExecutedCall]:
    """`liquidationCall`s of the largest debt against the largest collateral (the rule's
    choice at the oracle's price) while the account has debt, HF < 1 and the rule allows one."""
    calls: list[ExecutedCall] = []
    for _ in range(MAX_CALLS):
        state, read = asyncio.run(_read(config, key, rpc.block_number(), [account]))
        if not read:  # no debt left: closed
            break
        (position,) = read
        if account_totals(position, state).health_factor_wad >= 10**18:
            break
        (moved,) = [a for a in resolve_axes(config.axes, _assets(state)) if a.name == axis]
        model = liquidation_call_at(position, state, moved, moved.reference_price_8dec)
        if model is None:
            break
        receipt = rpc.send(Tx(LIQUIDATOR, aave.pool, calldata(
            "liquidationCall(address,address,address,uint256,bool)",
            model.collateral_asset, model.debt_asset, account, 2**256 - 1, False)))
        debt_raw, collateral_raw, _ = _executed(receipt, aave, model, account)
        calls.append(ExecutedCall(model.collateral_asset, model.debt_asset, collateral_raw,
                                  debt_raw, state))
    return calls

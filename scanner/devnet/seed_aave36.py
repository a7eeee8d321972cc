"""Open the planned v3.6 positions with real transactions (impersonated accounts, ~100 a block).

Order per account: enter the eMode first (always allowed with nothing supplied), then supply --
so wstETH, whose reserve LTV is 0, is switched on as collateral by the supply itself because the
eMode gives it an LTV (v3.6 `validateAutomaticUseAsCollateral`) -- then borrow.
Prices are not moved here: the v3.0 seeding that follows moves the shared LINK feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.aave36 import set_ltv_zero_after_seed
from scanner.devnet.aave36_spec import Market36Spec, load_market36_spec
from scanner.devnet.population import AavePositionPlan
from scanner.devnet.population36 import account36_address
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.seed_aave import (
    borrow_txs,
    send_in_chunks,
    supply_txs,
    whale_liquidity_raw,
)

WHALE36 = account36_address(2**63 - 1, 0)


def position36_txs(aave: AaveDeployment, plan: AavePositionPlan) -> list[Tx]:
    txs: list[Tx] = []
    if plan.emode:
        txs.append(Tx(plan.account, aave.pool, calldata("setUserEMode(uint8)", plan.emode)))
    for symbol, amount_raw in plan.supplies:
        txs += supply_txs(aave.pool, aave.tokens[symbol], plan.account, amount_raw)
    return txs + borrow_txs(aave, plan)


def whale36_supplies_raw(spec: Market36Spec, plans: Iterable[AavePositionPlan]) -> dict[str, int]:
    """Liquidity for every asset some eMode (or the reserve) lets borrow."""
    borrowable = [r for r in spec.reserves if spec.borrowable_anywhere(r.symbol)]
    return whale_liquidity_raw(borrowable, plans)


def seed_aave36(rpc: DevnetRpc, aave: AaveDeployment, plans: Sequence[AavePositionPlan],
                spec: Market36Spec | None = None) -> None:
    """Whale liquidity, every position, then the spec's eMode ltvzero changes."""
    spec = spec or load_market36_spec()
    whale_txs: list[Tx] = []
    for symbol, amount_raw in whale36_supplies_raw(spec, plans).items():
        whale_txs += supply_txs(aave.pool, aave.tokens[symbol], WHALE36, amount_raw)
    send_in_chunks(rpc, whale_txs)
    send_in_chunks(rpc, [tx for plan in plans for tx in position36_txs(aave, plan)])
    set_ltv_zero_after_seed(rpc, aave, spec)

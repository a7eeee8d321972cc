"""Open the planned Aave positions with real protocol transactions.

Every account is impersonated (anvil --auto-impersonate; base fee 0, so no ETH is needed):
it mints its own tokens (the mock tokens' open `mint(uint256)`), approves the Pool, supplies,
enters eMode, then borrows at the variable rate. Transactions go out ~100 per block with
automine off; one account's transactions keep their order through its nonces, so the only
cross-account order that matters -- the liquidity whale before every borrower -- is a phase.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.aave_spec import MarketSpec, ReserveSpec, load_market_spec
from scanner.devnet.population import USD_8DEC, AavePositionPlan, account_address
from scanner.devnet.prices import set_prices
from scanner.devnet.rpc import DevnetRpc, Tx, calldata

VARIABLE_RATE = 2
TXS_PER_SEND = 5_000  # receipts are checked and dropped per chunk, keeping memory flat
WHALE_BASE_LIQUIDITY_USD = 50_000_000  # per borrowable asset, on top of twice the planned debt
WHALE = account_address(2**63 - 1, 0)  # an account no plan can collide with (seed < 2**63)


def supply_txs(pool: str, token: str, account: str, amount_raw: int) -> list[Tx]:
    return [
        Tx(account, token, calldata("mint(uint256)", amount_raw)),
        Tx(account, token, calldata("approve(address,uint256)", pool, amount_raw)),
        Tx(account, pool, calldata("supply(address,uint256,address,uint16)",
                                   token, amount_raw, account, 0)),
    ]


def position_txs(aave: AaveDeployment, plan: AavePositionPlan, spec: MarketSpec) -> list[Tx]:
    """Supply, (eMode), borrow -- in that order, all from the plan's account."""
    txs: list[Tx] = []
    for symbol, amount_raw in plan.supplies:
        token = aave.tokens[symbol]
        txs += supply_txs(aave.pool, token, plan.account, amount_raw)
        if spec.reserve(symbol).debt_ceiling_usd:
            # v3.0.2+ never turns an isolated asset on as collateral by itself on supply
            txs.append(Tx(plan.account, aave.pool, calldata(
                "setUserUseReserveAsCollateral(address,bool)", token, True)))
    if plan.emode:
        txs.append(Tx(plan.account, aave.pool, calldata("setUserEMode(uint8)", plan.emode)))
    return txs + borrow_txs(aave, plan)


def borrow_txs(aave: AaveDeployment, plan: AavePositionPlan) -> list[Tx]:
    """Every planned borrow, variable rate, on the plan's own behalf."""
    return [Tx(plan.account, aave.pool, calldata(
        "borrow(address,uint256,uint256,uint16,address)",
        aave.tokens[symbol], amount_raw, VARIABLE_RATE, 0, plan.account))
        for symbol, amount_raw in plan.borrows]


def whale_supplies_raw(spec: MarketSpec, plans: Iterable[AavePositionPlan]) -> dict[str, int]:
    """Liquidity for every borrowable asset: twice what the plans borrow plus a base amount."""
    return whale_liquidity_raw([r for r in spec.reserves if r.borrowable], plans)


def whale_liquidity_raw(borrowable: Iterable[ReserveSpec], plans: Iterable[AavePositionPlan]
                        ) -> dict[str, int]:
    """Per borrowable reserve: twice what the plans borrow plus a base amount in USD."""
    borrowed_raw: dict[str, int] = defaultdict(int)
    for plan in plans:
        for symbol, amount_raw in plan.borrows:
            borrowed_raw[symbol] += amount_raw
    supplies: dict[str, int] = {}
    for reserve in borrowable:
        base_raw = WHALE_BASE_LIQUIDITY_USD * USD_8DEC * 10**reserve.decimals \
            // reserve.seed_price_8dec
        supplies[reserve.symbol] = 2 * borrowed_raw[reserve.symbol] + base_raw
    return supplies


def send_in_chunks(rpc: DevnetRpc, txs: Sequence[Tx]) -> None:
    for start in range(0, len(txs), TXS_PER_SEND):
        rpc.send_many(txs[start:start + TXS_PER_SEND])


def seed_aave(rpc: DevnetRpc, aave: AaveDeployment, plans: Sequence[AavePositionPlan],
              spec: MarketSpec | None = None) -> int:
    """Open every plan on the deployed market; return the block after the final price moves."""
    spec = spec or load_market_spec()
    # 1. the liquidity whale (its first supply is WETH, so it never enters isolation mode)
    whale_txs: list[Tx] = []
    for symbol, amount_raw in whale_supplies_raw(spec, plans).items():
        whale_txs += supply_txs(aave.pool, aave.tokens[symbol], WHALE, amount_raw)
    send_in_chunks(rpc, whale_txs)
    # 2. every position, account by account
    send_in_chunks(rpc, [tx for plan in plans for tx in position_txs(aave, plan, spec)])
    # 3. feeds that opened at a different price (LINK) move to their final price
    moved = {r.symbol: r.price_8dec for r in spec.reserves if r.seed_price_8dec != r.price_8dec}
    return set_prices(rpc, aave, moved)

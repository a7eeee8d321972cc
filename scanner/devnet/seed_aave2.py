"""Open the planned Aave v2 positions with real LendingPool transactions, over 30+ days.

Every account is impersonated: it mints its tokens, approves the pool, deposits (the first
deposit of a reserve turns it on as collateral, even USDT's with LT 0), then borrows at the
planned rate mode. A liquidity whale deposits first. Wave 0 opens, the chain clock jumps
`wave_gap_days`, wave 1 opens, the clock jumps `final_gap_days`: every reserve's stored index
is then a month stale, and stable loans carry their own rates and timestamps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.aave2 import AaveV2Deployment, V2MarketSpec, load_v2_spec
from scanner.devnet.population2 import V2PositionPlan
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.seed_aave import send_in_chunks

WHALE = to_checksum_address(keccak(b"liqscan-aave2-whale")[-20:])
WHALE_FLOOR_RAW_WHOLE = 20_000_000  # whole tokens of each borrowable asset (~$20M of stables)
DAY_SECONDS = 86_400


def deposit_txs(v2: AaveV2Deployment, account: str, symbol: str, amount_raw: int) -> list[Tx]:
    token = v2.tokens[symbol]
    return [Tx(account, token, calldata("mint(uint256)", amount_raw)),
            Tx(account, token, calldata("approve(address,uint256)", v2.pool, amount_raw)),
            Tx(account, v2.pool, calldata("deposit(address,uint256,address,uint16)",
                                          token, amount_raw, account, 0))]


def position_txs(v2: AaveV2Deployment, plan: V2PositionPlan) -> list[Tx]:
    txs = [tx for symbol, raw in plan.supplies for tx in deposit_txs(v2, plan.account, symbol,
                                                                     raw)]
    return txs + [Tx(plan.account, v2.pool, calldata(
        "borrow(address,uint256,uint256,uint16,address)",
        v2.tokens[symbol], raw, mode, 0, plan.account)) for symbol, raw, mode in plan.borrows]


def _whale_txs(v2: AaveV2Deployment, spec: V2MarketSpec, plans: Sequence[V2PositionPlan]
               ) -> list[Tx]:
    """Four times the planned borrows (stable loans may take only 25% of the liquidity) plus
    a floor, of every borrowable reserve; WBTC's floor is scaled down to its price."""
    borrowed: dict[str, int] = defaultdict(int)
    for plan in plans:
        for symbol, raw, _mode in plan.borrows:
            borrowed[symbol] += raw
    txs = []
    for reserve in spec.reserves:
        if reserve.borrowable:
            whole = WHALE_FLOOR_RAW_WHOLE // {"WETH": 3_000, "WBTC": 60_000}.get(reserve.symbol, 1)
            amount = 4 * borrowed[reserve.symbol] + whole * 10**v2.decimals[reserve.symbol]
            txs += deposit_txs(v2, WHALE, reserve.symbol, amount)
    return txs


def _advance(rpc: DevnetRpc, days: int) -> None:
    rpc.call("evm_increaseTime", [days * DAY_SECONDS])
    rpc.mine()


def seed_aave2(rpc: DevnetRpc, v2: AaveV2Deployment, plans: Sequence[V2PositionPlan],
               spec: V2MarketSpec | None = None) -> int:
    """Open every plan in its wave; return the head block after the final clock jump."""
    spec = spec or load_v2_spec()
    send_in_chunks(rpc, _whale_txs(v2, spec, plans))
    send_in_chunks(rpc, [tx for p in plans if p.wave == 0 for tx in position_txs(v2, p)])
    _advance(rpc, spec.wave_gap_days)
    send_in_chunks(rpc, [tx for p in plans if p.wave == 1 for tx in position_txs(v2, p)])
    _advance(rpc, spec.final_gap_days)
    return rpc.block_number()

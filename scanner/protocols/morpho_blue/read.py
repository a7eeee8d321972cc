"""Morpho Blue on chain: discover markets and borrowers from logs, read them at one block.

No math beyond decoding (the rule is rule.py) and no SQL. Every read names its block; a read
that fails raises.

Discovery: `CreateMarket` gives every market id with its parameters; a position's owner is
the `onBehalf` of `Borrow` (debt) or `SupplyCollateral` (collateral that may back a later
borrow). Reads: `idToMarketParams`, `market` (stored totals, accrued by rule.accrue_interest
to the block's timestamp), the IRM's `borrowRateView` on those stored totals, the oracle's
`price()`, and `position` of every (market, account).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from scanner.chain.abi import decode_output, encode_call, event_topic, load_abi
from scanner.chain.checksum import topic_address
from scanner.chain.logs import fetch_logs
from scanner.chain.multicall import Call, CallResult, aggregate3, require_data
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig
from scanner.domain import Address
from scanner.errors import InconsistentDataError
from scanner.protocols.morpho_blue.rule import MarketTotals

MORPHO = load_abi("morpho-blue", "Morpho")
IRM = load_abi("morpho-blue", "IIrm")
ORACLE = load_abi("morpho-blue", "IOracle")
CREATE_MARKET_TOPIC = event_topic(MORPHO, "CreateMarket")
BORROW_TOPIC = event_topic(MORPHO, "Borrow")
SUPPLY_COLLATERAL_TOPIC = event_topic(MORPHO, "SupplyCollateral")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_GAS = 60_000
_IRM_GAS = 200_000  # adaptive IRMs do real work in borrowRateView

ProgressCallback = Callable[[int, int], None]
MarketId = str  # 0x-prefixed 32-byte hex, lowercase


@dataclass(frozen=True)
class MarketParams:
    loan_token: Address
    collateral_token: Address
    oracle: Address
    irm: Address
    lltv_wad: int

    def as_tuple(self) -> tuple[str, str, str, str, int]:
        return (self.loan_token, self.collateral_token, self.oracle, self.irm, self.lltv_wad)


@dataclass(frozen=True)
class MarketAtBlock:
    """One market as the scan block sees it; `stored` is not accrued (rule.accrue_interest)."""

    market_id: MarketId
    params: MarketParams
    stored: MarketTotals
    borrow_rate_wad: int  # per second, from borrowRateView on the stored totals; 0 without IRM
    oracle_price_1e36: int


@dataclass(frozen=True)
class PositionAtBlock:
    market_id: MarketId
    account: Address
    borrow_shares: int
    collateral_raw: int


def _id_topic(market_id: MarketId) -> str:
    return "0x" + bytes.fromhex(market_id[2:]).rjust(32, b"\0").hex()


def _account_of(topic: str) -> Address:
    return topic_address(topic)


async def discover_market_ids(rpc: RpcClient, chain: ChainConfig, morpho: Address,
                              from_block: int, to_block: int) -> list[MarketId]:
    """Every market created in [from_block, to_block], in creation order."""
    logs = await fetch_logs(rpc, [morpho], [[CREATE_MARKET_TOPIC]], from_block, to_block,
                            initial_window=chain.logs_initial_window,
                            max_window=chain.logs_max_window)
    return [str(log["topics"][1]).lower() for log in logs]


async def discover_positions(
    rpc: RpcClient, chain: ChainConfig, morpho: Address, market_ids: Sequence[MarketId] | None,
    from_block: int, to_block: int, on_progress: ProgressCallback | None = None,
) -> dict[tuple[MarketId, Address], int]:
    """(market id, onBehalf) of every Borrow / SupplyCollateral -> first block seen."""
    id_filter = None if market_ids is None else [_id_topic(i) for i in market_ids]
    logs = await fetch_logs(
        rpc, [morpho], [[BORROW_TOPIC, SUPPLY_COLLATERAL_TOPIC], id_filter], from_block, to_block,
        initial_window=chain.logs_initial_window, max_window=chain.logs_max_window,
        on_progress=on_progress,
    )
    first_seen: dict[tuple[MarketId, Address], int] = {}
    for log in logs:
        topics = log["topics"]
        if len(topics) < 4:
            raise InconsistentDataError(f"Morpho log without its indexed fields: {log}")
        # Borrow(id, caller, onBehalf indexed, receiver indexed): onBehalf is topic 2;
        # SupplyCollateral(id, caller indexed, onBehalf indexed): onBehalf is topic 3.
        owner = topics[2] if topics[0] == BORROW_TOPIC else topics[3]
        key = (str(topics[1]).lower(), _account_of(str(owner)))
        first_seen.setdefault(key, int(log["blockNumber"], 16))
    return first_seen


async def read_markets(rpc: RpcClient, chain: ChainConfig, morpho: Address,
                       market_ids: Sequence[MarketId], block: int) -> list[MarketAtBlock]:
    """Parameters, stored totals, IRM rate and oracle price of each market at `block`."""
    calls = []
    for market_id in market_ids:
        raw_id = bytes.fromhex(market_id[2:])
        calls.append(Call(morpho, encode_call(MORPHO, "idToMarketParams", [raw_id]), False, _GAS))
        calls.append(Call(morpho, encode_call(MORPHO, "market", [raw_id]), False, _GAS))
    first = await _calls(rpc, chain, calls, block)
    params_of: dict[MarketId, MarketParams] = {}
    stored_of: dict[MarketId, MarketTotals] = {}
    for n, market_id in enumerate(market_ids):
        params = MarketParams(*_decode_params(require_data(first[2 * n],
                                                           f"idToMarketParams({market_id})")))
        if params.loan_token == ZERO_ADDRESS:
            raise InconsistentDataError(f"Morpho market {market_id} does not exist at block "
                                        f"{block}: check market_ids")
        raw = decode_output(MORPHO, "market", require_data(first[2 * n + 1], "market"))
        params_of[market_id] = params
        stored_of[market_id] = MarketTotals(*(int(v) for v in raw))
    second = []
    for market_id in market_ids:
        params, stored = params_of[market_id], stored_of[market_id]
        second.append(Call(params.oracle, encode_call(ORACLE, "price", []), False, _GAS))
        if params.irm != ZERO_ADDRESS:
            totals = (stored.total_supply_assets, stored.total_supply_shares,
                      stored.total_borrow_assets, stored.total_borrow_shares,
                      stored.last_update, stored.fee_wad)
            second.append(Call(params.irm, encode_call(
                IRM, "borrowRateView", [params.as_tuple(), totals]), False, _IRM_GAS))
    results = iter(await _calls(rpc, chain, second, block))
    markets = []
    for market_id in market_ids:
        params = params_of[market_id]
        (price,) = decode_output(ORACLE, "price", require_data(next(results),
                                                               f"oracle price of {market_id}"))
        rate = 0
        if params.irm != ZERO_ADDRESS:
            (rate,) = decode_output(IRM, "borrowRateView", require_data(
                next(results), f"borrowRateView of {market_id}"))
        markets.append(MarketAtBlock(market_id, params, stored_of[market_id], int(rate),
                                     int(price)))
    return markets


async def read_positions(rpc: RpcClient, chain: ChainConfig, morpho: Address,
                         keys: Iterable[tuple[MarketId, Address]], block: int
                         ) -> list[PositionAtBlock]:
    """`position(id, account)` of each key at `block`; positions without debt are dropped."""
    keys = list(keys)
    calls = [Call(morpho, encode_call(MORPHO, "position", [bytes.fromhex(i[2:]), account]),
                  False, _GAS) for i, account in keys]
    results = await _calls(rpc, chain, calls, block)
    positions = []
    for (market_id, account), result in zip(keys, results, strict=True):
        _supply, borrow_shares, collateral = decode_output(
            MORPHO, "position", require_data(result, f"position({market_id}, {account})"))
        if borrow_shares:
            positions.append(PositionAtBlock(market_id, account, int(borrow_shares),
                                             int(collateral)))
    return positions


def _decode_params(data: bytes) -> tuple[Address, Address, Address, Address, int]:
    loan, collateral, oracle, irm, lltv = decode_output(MORPHO, "idToMarketParams", data)
    return (to_checksum_address(loan), to_checksum_address(collateral),
            to_checksum_address(oracle), to_checksum_address(irm), int(lltv))


async def _calls(rpc: RpcClient, chain: ChainConfig, calls: Sequence[Call], block: int
                 ) -> list[CallResult]:
    return await aggregate3(rpc, calls, block, gas_limit_per_batch=chain.gas_limit_per_batch,
                            multicall_address=chain.multicall_address)

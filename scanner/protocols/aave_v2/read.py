"""Aave v2: resolve the LendingPool, read reserves and positions at one block.

No math and no SQL here: every read names its block, and a failed read raises. Per account
the tokens' own `balanceOf` (what GenericLogic reads) is read beside the stored state it
derives from (scaled balances, stable principal/rate/timestamp), so the scan checks the
accrual mirror (interest.py) and the health mirror (generic_logic.py) against the chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from eth_utils.address import to_checksum_address

from scanner.chain.abi import decode_output, encode_call, load_abi
from scanner.chain.multicall import Call, CallResult, aggregate3, require_data
from scanner.chain.rpc import RpcClient
from scanner.chain.tasks import in_order
from scanner.config import ChainConfig, MarketConfig
from scanner.domain import WAD, Address, Asset, MarketRead, Position
from scanner.errors import InconsistentDataError
from scanner.protocols.aave_v2 import interest
from scanner.protocols.aave_v2.discover import ProgressCallback, discover_borrowers
from scanner.protocols.aave_v2.rule import V2Position, account_totals
from scanner.protocols.aave_v2.state import (
    V2Account,
    V2MarketState,
    V2Reserve,
    V2StableDebt,
    V2UserReserve,
)
from scanner.protocols.base import NotTheProtocolError

LENDING_POOL = load_abi("aave-v2", "LendingPool")
PROVIDER = load_abi("aave-v2", "LendingPoolAddressesProvider")
ORACLE = load_abi("aave-v2", "AaveOracle")
A_TOKEN = load_abi("aave-v2", "AToken")
STABLE_DEBT = load_abi("aave-v2", "StableDebtToken")
VARIABLE_DEBT = load_abi("aave-v2", "VariableDebtToken")
AGGREGATOR = load_abi("aave-v2", "IChainlinkAggregator")
ERC20 = load_abi("erc20", "ERC20")

_SIMPLE_GAS = 60_000
_ACCOUNT_DATA_GAS = 100_000 + 12 * 60_000  # grows with the reserves a user touches


@dataclass(frozen=True)
class V2Addresses:
    """Contracts resolved from the LendingPoolAddressesProvider at the scan block."""

    provider: Address
    pool: Address
    oracle: Address
    eth_usd_feed: Address


class AaveV2Adapter:
    """Reads one Aave v2 market. No math, no SQL; every read names its block."""

    key: ClassVar[str] = "aave-v2"

    def __init__(self, rpc: RpcClient, market: MarketConfig, chain: ChainConfig) -> None:
        self.rpc = rpc
        self.market = market
        self.chain = chain

    async def _calls(self, calls: Sequence[Call], block: int) -> list[CallResult]:
        return await aggregate3(self.rpc, calls, block,
                                gas_limit_per_batch=self.chain.gas_limit_per_batch,
                                multicall_address=self.chain.multicall_address)

    async def _read(self, target: Address, abi: Any, name: str, args: Sequence[Any], block: int
                    ) -> tuple[Any, ...]:
        data = await self.rpc.eth_call(target, encode_call(abi, name, args), block)
        return decode_output(abi, name, data)

    # --- 1. addresses --------------------------------------------------------------------

    async def resolve(self, block: int) -> V2Addresses:
        """Pool and oracle from the provider at `block`. A provider or feed address holding
        some other contract is refused naming its key (NotTheProtocolError)."""
        where = f"markets.{self.market.key}"
        provider = self.market.address("lending_pool_addresses_provider")
        feed = self.market.address("eth_usd_feed")
        # the code checks, the provider's answers and the feed's at once; their errors in
        # that order, as when each waited for the one before
        _, ((pool, oracle), _) = await in_order(
            self.rpc.require_code({f"{where}.lending_pool_addresses_provider": provider,
                                   f"{where}.eth_usd_feed": feed}, block),
            in_order(self._provider_answers(provider, block), self._feed_answers(feed, block)))
        addresses = V2Addresses(provider, to_checksum_address(pool),
                                to_checksum_address(oracle), feed)
        await self.rpc.require_code({"LendingPool (from the provider)": addresses.pool,
                                     "AaveOracle (from the provider)": addresses.oracle}, block)
        return addresses

    async def _provider_answers(self, provider: Address, block: int) -> tuple[str, str]:
        """The provider's LendingPool and AaveOracle; refused naming the key when not one."""
        try:
            (pool,), (oracle,) = await in_order(
                self._read(provider, PROVIDER, "getLendingPool", [], block),
                self._read(provider, PROVIDER, "getPriceOracle", [], block))
        except InconsistentDataError as exc:
            raise NotTheProtocolError("lending_pool_addresses_provider",
                                      "getLendingPool() failed") from exc
        return pool, oracle

    async def _feed_answers(self, feed: Address, block: int) -> None:
        try:
            await self._read(feed, AGGREGATOR, "latestAnswer", [], block)
        except InconsistentDataError as exc:
            raise NotTheProtocolError("eth_usd_feed", "latestAnswer() failed") from exc

    # --- 2. discovery --------------------------------------------------------------------

    async def discover_accounts(
        self, addresses: V2Addresses, from_block: int, to_block: int,
        on_progress: ProgressCallback | None = None,
    ) -> dict[Address, int]:
        return await discover_borrowers(self.rpc, self.chain, addresses.pool, from_block,
                                        to_block, on_progress)

    # --- 3. everything at one block --------------------------------------------------------

    async def read(self, addresses: V2Addresses, accounts: Sequence[Address], block: int
                   ) -> MarketRead:
        state = await self.read_market(addresses, block)
        return market_read(self.market.protocol, state,
                           await self.read_accounts(state, accounts, block))

    async def read_market(self, addresses: V2Addresses, block: int) -> V2MarketState:
        pool, oracle = addresses.pool, addresses.oracle
        (revision,) = await self._read(pool, LENDING_POOL, "LENDINGPOOL_REVISION", [], block)
        (assets,) = await self._read(pool, LENDING_POOL, "getReservesList", [], block)
        assets = [to_checksum_address(a) for a in assets]
        (weth,) = await self._read(oracle, ORACLE, "WETH", [], block)
        (prices,) = await self._read(oracle, ORACLE, "getAssetsPrices", [assets], block)
        if len(prices) != len(assets):
            raise InconsistentDataError("AaveOracle.getAssetsPrices returned a wrong count")
        (eth_usd,) = await self._read(addresses.eth_usd_feed, AGGREGATOR, "latestAnswer", [],
                                      block)
        if eth_usd <= 0:
            raise InconsistentDataError(
                f"markets.{self.market.key}.eth_usd_feed answered {eth_usd} at block {block}: "
                "a price must be > 0; check the feed")
        calls = []
        for asset in assets:
            calls.append(Call(pool, encode_call(LENDING_POOL, "getReserveData", [asset]), False,
                              _SIMPLE_GAS))
            calls.append(Call(asset, encode_call(ERC20, "symbol", []), True, _SIMPLE_GAS))
        results = await self._calls(calls, block)
        reserves = {}
        for i, asset in enumerate(assets):
            (data,) = decode_output(LENDING_POOL, "getReserveData",
                                    require_data(results[2 * i], f"getReserveData({asset})"))
            reserves[asset] = reserve_from(asset, data, _symbol(results[2 * i + 1], asset),
                                           int(prices[i]))
        timestamp = int((await self.rpc.get_block(block))["timestamp"])
        return V2MarketState(
            market_key=self.market.key, pool=pool, pool_revision=int(revision),
            weth=to_checksum_address(weth), eth_usd_8dec=int(eth_usd), block=block,
            block_timestamp=timestamp, reserves=reserves)

    # --- 4. accounts ---------------------------------------------------------------------

    async def read_accounts(self, market: V2MarketState, accounts: Sequence[Address],
                            block: int) -> list[V2Account]:
        """Positions of `accounts` at `block`; accounts without debt are dropped."""
        calls = []
        for account in accounts:
            calls.append(Call(market.pool, encode_call(LENDING_POOL, "getUserAccountData",
                                                       [account]), False, _ACCOUNT_DATA_GAS))
            calls.append(Call(market.pool, encode_call(LENDING_POOL, "getUserConfiguration",
                                                       [account]), False, _SIMPLE_GAS))
        results = await self._calls(calls, block)
        pending: list[tuple[Address, tuple[Any, ...], int]] = []
        for n, account in enumerate(accounts):
            data = decode_output(LENDING_POOL, "getUserAccountData",
                                 require_data(results[2 * n], f"getUserAccountData({account})"))
            if data[1] == 0:  # totalDebtETH: nothing to liquidate
                continue
            ((bitmap,),) = decode_output(LENDING_POOL, "getUserConfiguration",
                                         require_data(results[2 * n + 1], "getUserConfiguration"))
            pending.append((account, data, int(bitmap)))
        return await self._read_balances(market, pending, block)

    async def _read_balances(self, market: V2MarketState,
                             pending: list[tuple[Address, tuple[Any, ...], int]], block: int
                             ) -> list[V2Account]:
        by_id = sorted(market.reserves.values(), key=lambda r: r.reserve_id)
        calls: list[Call] = []
        layout: list[list[tuple[V2Reserve, bool, bool, int]]] = []
        for account, _data, bitmap in pending:
            entries = []
            for reserve in by_id:
                borrowing = bool(bitmap >> (2 * reserve.reserve_id) & 1)
                collateral = bool(bitmap >> (2 * reserve.reserve_id + 1) & 1)
                if borrowing or collateral:
                    entries.append((reserve, collateral, borrowing, len(calls)))
                    calls += _balance_calls(reserve, account)
            layout.append(entries)
        results = await self._calls(calls, block)
        accounts = []
        for (account, data, _bitmap), entries in zip(pending, layout, strict=True):
            reserves = tuple(
                _user_reserve(reserve, collateral, borrowing, results[start:start + _PER_RESERVE])
                for reserve, collateral, borrowing, start in entries)
            accounts.append(V2Account(
                account=account, reserves=reserves, reported_collateral_eth_wei=int(data[0]),
                reported_debt_eth_wei=int(data[1]), reported_lt_bps=int(data[3]),
                reported_health_factor_wad=int(data[5])))
        return accounts


# (token ABI, token field of V2Reserve, function) in the order _user_reserve decodes them
_BALANCE_READS = (
    (A_TOKEN, "a_token", "scaledBalanceOf"),
    (A_TOKEN, "a_token", "balanceOf"),
    (VARIABLE_DEBT, "variable_debt_token", "scaledBalanceOf"),
    (VARIABLE_DEBT, "variable_debt_token", "balanceOf"),
    (STABLE_DEBT, "stable_debt_token", "principalBalanceOf"),
    (STABLE_DEBT, "stable_debt_token", "getUserStableRate"),
    (STABLE_DEBT, "stable_debt_token", "getUserLastUpdated"),
    (STABLE_DEBT, "stable_debt_token", "balanceOf"),
)
_PER_RESERVE = len(_BALANCE_READS)


def _balance_calls(reserve: V2Reserve, account: Address) -> list[Call]:
    return [Call(getattr(reserve, field), encode_call(abi, name, [account]), False, _SIMPLE_GAS)
            for abi, field, name in _BALANCE_READS]


def _user_reserve(reserve: V2Reserve, collateral: bool, borrowing: bool,
                  results: Sequence[CallResult]) -> V2UserReserve:
    values = [int(decode_output(abi, name, require_data(r, f"{name} of {reserve.symbol}"))[0])
              for (abi, _field, name), r in zip(_BALANCE_READS, results, strict=True)]
    (scaled_supply, supplied, scaled_variable, variable, principal, rate, updated,
     stable) = values
    return V2UserReserve(
        asset=reserve.asset, used_as_collateral=collateral, borrowing=borrowing,
        scaled_supply_raw=scaled_supply, scaled_variable_debt_raw=scaled_variable,
        stable=V2StableDebt(principal, rate, updated),
        supplied_raw=supplied, variable_debt_raw=variable, stable_debt_raw=stable)


def reserve_from(asset: Address, data: tuple[Any, ...], symbol: str, price_eth_wei: int
                 ) -> V2Reserve:
    """Decode v2 ReserveData and its configuration bitmap (ReserveConfiguration.sol):
    LTV 0-15, LT 16-31, bonus 32-47, decimals 48-55, active 56, frozen 57, borrowing 58,
    stable borrowing 59."""
    ((config,), liquidity_index, variable_index, liquidity_rate, variable_rate, _stable_rate,
     last_update, a_token, stable_token, variable_token, _strategy, reserve_id) = data
    config = int(config)
    return V2Reserve(
        asset=asset, symbol=symbol, reserve_id=int(reserve_id),
        decimals=(config >> 48) & 0xFF, ltv_bps=config & 0xFFFF,
        lt_bps=(config >> 16) & 0xFFFF, bonus_bps=(config >> 32) & 0xFFFF,
        active=bool(config >> 56 & 1), frozen=bool(config >> 57 & 1),
        borrowing_enabled=bool(config >> 58 & 1), stable_borrowing_enabled=bool(config >> 59 & 1),
        price_eth_wei=price_eth_wei, liquidity_index_ray=int(liquidity_index),
        variable_borrow_index_ray=int(variable_index), liquidity_rate_ray=int(liquidity_rate),
        variable_borrow_rate_ray=int(variable_rate), last_update_timestamp=int(last_update),
        a_token=to_checksum_address(a_token), stable_debt_token=to_checksum_address(stable_token),
        variable_debt_token=to_checksum_address(variable_token))


def market_read(protocol: str, state: V2MarketState, accounts: Sequence[V2Account]
                ) -> MarketRead:
    """The neutral view: assets in USD (ETH price x the ETH/USD feed), one Position each."""
    assets = tuple(Asset(r.asset, r.symbol, r.price_eth_wei * state.eth_usd_8dec // WAD)
                   for r in state.reserves.values())
    positions = tuple(
        Position(market_key=state.market_key, protocol=protocol, submarket=state.pool,
                 account=a.account, state=V2Position(a, state))
        for a in accounts)
    return MarketRead(
        market_key=state.market_key, protocol=protocol, block=state.block,
        block_timestamp=state.block_timestamp, revision=state.pool_revision, assets=assets,
        positions=positions, mirror_mismatches=tuple(mirror_mismatches(accounts, state)))


def mirror_mismatches(accounts: Sequence[V2Account], state: V2MarketState) -> list[Address]:
    """Accounts whose accrual or health mirror disagrees with the chain at the block."""
    return [a.account for a in accounts
            if not (_balances_match(a, state) and _totals_match(a, state))]


def _balances_match(account: V2Account, state: V2MarketState) -> bool:
    t = state.block_timestamp
    for r in account.reserves:
        reserve = state.reserves[r.asset]
        if (interest.supplied_raw(r.scaled_supply_raw, reserve, t),
                interest.variable_debt_raw(r.scaled_variable_debt_raw, reserve, t),
                interest.stable_debt_raw(r.stable, t)) != (
                r.supplied_raw, r.variable_debt_raw, r.stable_debt_raw):
            return False
    return True


def _totals_match(account: V2Account, state: V2MarketState) -> bool:
    totals = account_totals(account, state)
    return (totals.collateral_eth_wei, totals.debt_eth_wei, totals.avg_lt_bps,
            totals.health_factor_wad) == (
        account.reported_collateral_eth_wei, account.reported_debt_eth_wei,
        account.reported_lt_bps, account.reported_health_factor_wad)


def _symbol(result: CallResult, asset: Address) -> str:
    """ERC-20 symbol; old tokens (MKR) return bytes32; fall back to the address."""
    if not result.success or not result.data:
        return asset
    try:
        (symbol,) = decode_output(ERC20, "symbol", result.data)
        return str(symbol)
    except InconsistentDataError:
        return result.data[:32].rstrip(b"\0").decode("utf-8", "replace") or asset

"""Aave v3 family (Aave v3, Spark, forks): resolve the pool, read positions at one block.

No math and no SQL here: every read names its block, and a failed read raises.
Reads: the pool's own view functions plus aToken / debt-token `balanceOf`, which accrue
interest to the block exactly as `GenericLogic.calculateUserAccountData` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import Any, ClassVar, NamedTuple

from eth_utils.address import to_checksum_address

from scanner.chain.abi import decode_output, encode_call, function_selector, load_abi
from scanner.chain.fastabi import WORD, address_bytes
from scanner.chain.multicall import Call, CallResult, aggregate3, require_data
from scanner.chain.rpc import RpcClient
from scanner.chain.tasks import both, gather_or_cancel, in_order
from scanner.config import ChainConfig, MarketConfig
from scanner.domain import Address, Asset, MarketRead, Position
from scanner.errors import InconsistentDataError
from scanner.protocols.aave_v3.discover import ProgressCallback, discover_borrowers
from scanner.protocols.aave_v3.generic_logic import account_totals, arithmetic_for_revision
from scanner.protocols.aave_v3.rule import AavePosition
from scanner.protocols.aave_v3.state import (
    AaveAccount,
    AaveEMode,
    AaveMarketState,
    AaveReserve,
    AaveUserReserve,
)
from scanner.protocols.base import ChunkSink

POOL = load_abi("aave-v3", "Pool")
POOL_LIQUID_EMODE = load_abi("aave-v3", "PoolLiquidEMode")
PROVIDER = load_abi("aave-v3", "PoolAddressesProvider")
ORACLE = load_abi("aave-v3", "AaveOracle")
ERC20 = load_abi("erc20", "ERC20")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

# Gas guesses per call, used only to size aggregate3 batches under the per-call gas cap.
_ACCOUNT_DATA_GAS = 60_000
_ACCOUNT_DATA_GAS_PER_RESERVE = 40_000
_SIMPLE_GAS = 30_000
# What the pool answers for an eMode category never configured (every field zero): its
# canonical ABI encoding, compared byte for byte so that the ~250 unused ids of each market
# state read skip eth_abi (~0.1 ms each): such a category has LT 0 and is left out, as the
# decoded answer would be. Any other answer, a longer zero one too, is decoded as before.
# getEModeCategoryData -> (uint16 ltv, uint16 lt, uint16 bonus, address source, string label):
# the tuple's offset, its five head words (the label's offset 0xa0), the label's length 0
UNSET_EMODE_DATA = (bytes(31) + b"\x20" + bytes(4 * WORD) + bytes(31) + b"\xa0"
                    + bytes(WORD))
# v3.2+: getEModeCategoryCollateralConfig -> (uint16, uint16, uint16); the bitmap -> uint128
UNSET_EMODE_CONFIG = bytes(3 * WORD)
UNSET_EMODE_BITMAP = bytes(WORD)
# Accounts read as one unit (their summaries, then their balances): chunks go out together,
# so the node answers later chunks while earlier ones are decoded and their math runs.
ACCOUNTS_PER_CHUNK = 500


@dataclass(frozen=True)
class AaveAddresses:
    """Contracts resolved from the PoolAddressesProvider at the scan block."""

    provider: Address
    pool: Address
    oracle: Address


@dataclass(frozen=True)
class _ReserveTokens:
    a_token: Address
    stable_debt_token: Address
    variable_debt_token: Address


class AaveV3Adapter:
    """Reads one Aave-v3-family market. No math, no SQL; every read names its block."""

    key: ClassVar[str] = "aave-v3"

    def __init__(self, rpc: RpcClient, market: MarketConfig, chain: ChainConfig) -> None:
        self.rpc = rpc
        self.market = market
        self.chain = chain
        self._tokens: dict[Address, _ReserveTokens] = {}
        # the market state read ahead (prefetch_market), for the addresses and block it is of
        self._ahead: tuple[AaveAddresses, int, asyncio.Task[AaveMarketState]] | None = None

    # --- plumbing ------------------------------------------------------------------------

    async def _calls(self, calls: Sequence[Call], block: int) -> list[CallResult]:
        return await aggregate3(
            self.rpc,
            calls,
            block,
            gas_limit_per_batch=self.chain.gas_limit_per_batch,
            multicall_address=self.chain.multicall_address,
        )

    async def _read(self, target: Address, abi: Any, name: str, args: Sequence[Any], block: int
                    ) -> tuple[Any, ...]:
        data = await self.rpc.eth_call(target, encode_call(abi, name, args), block)
        return decode_output(abi, name, data)

    # --- 1. addresses --------------------------------------------------------------------

    async def resolve(self, block: int) -> AaveAddresses:
        provider = self.market.address("pool_addresses_provider")
        # the code check beside the provider's answers; its error (no contract there) first
        _, ((pool,), (oracle,)) = await in_order(
            self.rpc.require_code({f"markets.{self.market.key}.pool_addresses_provider":
                                   provider}, block),
            in_order(self._read(provider, PROVIDER, "getPool", [], block),
                     self._read(provider, PROVIDER, "getPriceOracle", [], block)))
        addresses = AaveAddresses(provider, to_checksum_address(pool), to_checksum_address(oracle))
        await self.rpc.require_code({"Pool (from the provider)": addresses.pool,
                                     "AaveOracle (from the provider)": addresses.oracle}, block)
        return addresses

    # --- 2. discovery --------------------------------------------------------------------

    async def discover_accounts(
        self, addresses: AaveAddresses, from_block: int, to_block: int,
        on_progress: ProgressCallback | None = None,
    ) -> dict[Address, int]:
        """Every borrower of the pool in [from_block, to_block] -> first block seen."""
        return await discover_borrowers(self.rpc, self.chain, addresses.pool, from_block,
                                        to_block, on_progress)

    # --- 3. everything at one block --------------------------------------------------------

    async def read(self, addresses: AaveAddresses, accounts: Sequence[Address], block: int
                   ) -> MarketRead:
        """The market and every position with debt among `accounts`, at `block`."""
        return await self.read_streaming(addresses, accounts, block)

    async def read_streaming(self, addresses: AaveAddresses, accounts: Sequence[Address],
                             block: int, sink: ChunkSink | None = None) -> MarketRead:
        """As `read`; the accounts go out in chunks, all at once, and each chunk's positions
        go to `sink` as soon as they are read. The read is the chunks joined in order."""
        state = await self._market_state(addresses, block)
        require_reviewed_revision(state)  # before reading every account
        assets = market_assets(state)

        # Chunks wait at this gate: a chunk's balances then go out before later chunks'
        # summaries, so finished chunks (and their math) arrive throughout the read rather
        # than all at its end. As many chunks as posts in flight keep the node as busy.
        gate = asyncio.Semaphore(max(1, self.chain.max_concurrency))

        async def one(index: int, chunk: Sequence[Address]
                      ) -> tuple[tuple[Position, ...], list[Address]]:
            async with gate:
                accounts_read = await self.read_accounts(addresses, state, chunk, block)
            positions = market_positions(self.market.protocol, state, accounts_read)
            mismatches = mirror_mismatches(accounts_read, state)
            if sink is not None:
                sink(index, assets, positions, mismatches)
            return positions, mismatches

        size = ACCOUNTS_PER_CHUNK
        parts = await gather_or_cancel([one(n, accounts[i:i + size])
                                        for n, i in enumerate(range(0, len(accounts), size))])
        return MarketRead(
            market_key=state.market_key, protocol=self.market.protocol, block=state.block,
            block_timestamp=state.block_timestamp, revision=state.pool_revision, assets=assets,
            positions=tuple(p for positions, _ in parts for p in positions),
            mirror_mismatches=tuple(a for _, mismatches in parts for a in mismatches),
        )

    # --- 4. market state -----------------------------------------------------------------

    def prefetch_market(self, addresses: AaveAddresses, block: int) -> None:
        """Start reading the market state now (scan.py: while discovery searches the logs);
        `read_streaming` at the same addresses and block takes it, and raises its error."""
        self.drop_prefetch()
        self._ahead = (addresses, block,
                       asyncio.ensure_future(self.read_market(addresses, block)))

    def drop_prefetch(self) -> None:
        """Cancel a state read ahead that nothing took (the scan failed before)."""
        if self._ahead is not None:
            task = self._ahead[2]
            self._ahead = None
            task.cancel()
            # its error (if any) belongs to a scan that already failed: retrieve it quietly
            task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _market_state(self, addresses: AaveAddresses, block: int) -> AaveMarketState:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == addresses and ahead[1] == block:
            return await ahead[2]
        if ahead is not None:
            self._ahead = ahead
            self.drop_prefetch()
        return await self.read_market(addresses, block)

    async def read_market(self, addresses: AaveAddresses, block: int) -> AaveMarketState:
        # the reserves, the eMode categories and the block's time do not depend on each other:
        # read at once, they cost the round trips of the longest (each one is a provider's
        # round trip, and an incremental snapshot reads the state every block)
        pool, oracle = addresses.pool, addresses.oracle
        (revision, base_unit, reserves), (emodes, header) = await in_order(
            self._read_reserves(pool, oracle, block),
            both(self._read_emodes(pool, oracle, block), self.rpc.get_block(block)))
        return AaveMarketState(
            market_key=self.market.key, pool_revision=revision, base_unit=base_unit,
            block=block, block_timestamp=int(header["timestamp"]), reserves=reserves,
            emodes=emodes, pool=pool,
            allow_unreviewed_revision=self.market.flags.get("allow_unreviewed_revision", False),
        )

    async def _read_reserves(self, pool: Address, oracle: Address, block: int
                             ) -> tuple[int, int, dict[Address, AaveReserve]]:
        """(POOL_REVISION, BASE_CURRENCY_UNIT, every listed reserve with its price): two
        round trips, the list's and then its reserves' (prices, data and symbols at once)."""
        (revision,), ((assets,), (base_unit,)) = await in_order(
            self._read(pool, POOL, "POOL_REVISION", [], block),
            both(self._read(pool, POOL, "getReservesList", [], block),
                 self._read(oracle, ORACLE, "BASE_CURRENCY_UNIT", [], block)))
        assets = [to_checksum_address(a) for a in assets]
        calls = []
        for asset in assets:
            calls.append(Call(pool, encode_call(POOL, "getReserveData", [asset]), False, 60_000))
            calls.append(Call(asset, encode_call(ERC20, "symbol", []), True, _SIMPLE_GAS))
        (prices,), results = await both(
            self._read(oracle, ORACLE, "getAssetsPrices", [assets], block),
            self._calls(calls, block))
        if len(prices) != len(assets):
            raise InconsistentDataError("AaveOracle.getAssetsPrices returned a wrong count")
        reserves: dict[Address, AaveReserve] = {}
        for i, asset in enumerate(assets):
            raw = require_data(results[2 * i], f"getReserveData({asset})")
            data = decode_output(POOL, "getReserveData", raw)
            reserve = _reserve_from(asset, data[0], results[2 * i + 1], int(prices[i]))
            reserves[asset] = reserve
            self._tokens[asset] = _ReserveTokens(*(to_checksum_address(a) for a in data[0][8:11]))
        return int(revision), int(base_unit), reserves

    async def _read_emodes(self, pool: Address, oracle: Address, block: int
                           ) -> dict[int, AaveEMode]:
        """Categories 1..255 that exist (non-zero LT). v3.2+ is detected by its bitmap getter."""
        ids = list(range(1, 256))
        probe = await self._calls([Call(pool, encode_call(
            POOL_LIQUID_EMODE, "getEModeCategoryCollateralBitmap", [1]), True, _SIMPLE_GAS)], block)
        if probe[0].success and probe[0].data:
            return await self._read_liquid_emodes(pool, ids, block)
        calls = [Call(pool, encode_call(POOL, "getEModeCategoryData", [i]), False, _SIMPLE_GAS)
                 for i in ids]
        results = await self._calls(calls, block)
        emodes: dict[int, AaveEMode] = {}
        for category_id, result in zip(ids, results, strict=True):
            if _is_answer(result, UNSET_EMODE_DATA):
                continue  # never configured: LT 0
            (data,) = decode_output(POOL, "getEModeCategoryData", require_data(result, "eMode"))
            ltv, lt, bonus, source, label = data
            if lt == 0:
                continue
            source = to_checksum_address(source)
            source_price = 0
            if source != ZERO_ADDRESS:
                (source_price,) = await self._read(oracle, ORACLE, "getAssetPrice", [source], block)
            emodes[category_id] = AaveEMode(
                category_id, int(ltv), int(lt), int(bonus), str(label),
                price_source=None if source == ZERO_ADDRESS else source,
                price_source_8dec=int(source_price),
            )
        return emodes

    async def _read_liquid_emodes(self, pool: Address, ids: list[int], block: int
                                  ) -> dict[int, AaveEMode]:
        calls = []
        for i in ids:
            calls.append(Call(pool, encode_call(
                POOL_LIQUID_EMODE, "getEModeCategoryCollateralConfig", [i]), False, _SIMPLE_GAS))
            calls.append(Call(pool, encode_call(
                POOL_LIQUID_EMODE, "getEModeCategoryCollateralBitmap", [i]), False, _SIMPLE_GAS))
        results = await self._calls(calls, block)
        emodes: dict[int, AaveEMode] = {}
        for n, category_id in enumerate(ids):
            if _is_answer(results[2 * n], UNSET_EMODE_CONFIG) and _is_answer(
                    results[2 * n + 1], UNSET_EMODE_BITMAP):
                continue  # never configured: LT 0
            (config,) = decode_output(POOL_LIQUID_EMODE, "getEModeCategoryCollateralConfig",
                                      require_data(results[2 * n], "eMode config"))
            (bitmap,) = decode_output(POOL_LIQUID_EMODE, "getEModeCategoryCollateralBitmap",
                                      require_data(results[2 * n + 1], "eMode bitmap"))
            ltv, lt, bonus = config
            if lt == 0:
                continue
            emodes[category_id] = AaveEMode(category_id, int(ltv), int(lt), int(bonus),
                                            collateral_bitmap=int(bitmap))
        return emodes

    # --- 5. accounts ---------------------------------------------------------------------

    async def read_accounts(
        self, addresses: AaveAddresses, market: AaveMarketState, accounts: Sequence[Address],
        block: int,
    ) -> list[AaveAccount]:
        """Positions of `accounts` at `block`; accounts without debt are dropped."""
        summaries = await self._calls(_summary_calls(addresses.pool, accounts), block)
        by_id = {r.reserve_id: r for r in market.reserves.values()}
        pending: list[tuple[Address, tuple[int, int, int], int, int]] = []
        for n, account in enumerate(accounts):
            reported = _account_data(require_data(
                summaries[3 * n], f"getUserAccountData({account})"))
            if reported[1] == 0:  # totalDebtBase: no debt, nothing can be liquidated
                continue
            raw = require_data(summaries[3 * n + 1], "getUserConfiguration")
            if len(raw) == WORD:  # the usual answer: one word, ((bitmap,),) as eth_abi gives
                bitmap = int.from_bytes(raw, "big")
            else:
                ((bitmap,),) = decode_output(POOL, "getUserConfiguration", raw)
            raw = require_data(summaries[3 * n + 2], "getUserEMode")
            (emode,) = (int.from_bytes(raw, "big"),) if len(raw) == WORD else _uint_words(
                POOL, "getUserEMode", 1, raw)
            pending.append((account, reported, int(bitmap), int(emode)))
        return await self._read_balances(pending, by_id, block)

    async def _read_balances(
        self, pending: list[tuple[Address, tuple[int, int, int], int, int]],
        by_id: dict[int, AaveReserve], block: int,
    ) -> list[AaveAccount]:
        calls: list[Call] = []
        layout: list[list[tuple[AaveReserve, bool, int, int]]] = []
        plan = self._balance_plan(by_id)
        for account, _reported, bitmap, _emode in pending:
            balance_of = _account_call("balanceOf", account)  # the same for every token
            entries = []
            for reserve, bits, targets in _used_reserves(plan, bitmap):
                start = len(calls)
                calls += [_new_call((target, balance_of, False, _BALANCE_GAS))
                          for target in targets]
                entries.append((reserve, bits >= 2, start, len(calls)))
            layout.append(entries)
        balances = _balances(await self._calls(calls, block))
        accounts = []
        for (account, reported, _bitmap, emode), entries in zip(pending, layout, strict=True):
            reserves = []
            for reserve, collateral, start, end in entries:
                supplied = balances[start] if collateral else 0
                debt = sum(balances[start + 1:end] if collateral else balances[start:end])
                reserves.append(AaveUserReserve(reserve.asset, supplied, debt, collateral))
            accounts.append(AaveAccount(
                account=account, emode_category=emode, reserves=tuple(reserves),
                reported_collateral_8dec=reported[0], reported_debt_8dec=reported[1],
                reported_health_factor_wad=reported[2],
            ))
        return accounts

    def _balance_plan(self, by_id: dict[int, AaveReserve]) -> _BalancePlan:
        """Per reserve, in reserve-id order as read: its bit pair's shift in the user
        configuration and, per value of that pair, the tokens whose balanceOf the account
        holds there (aToken if collateral, then its debt tokens: variable, then stable if it
        has one)."""
        plan: list[_PlanEntry] = []
        for reserve_id, reserve in by_id.items():
            tokens = self._tokens[reserve.asset]
            debt = tuple(t for t in (tokens.variable_debt_token, tokens.stable_debt_token)
                         if t != ZERO_ADDRESS)
            by_bits: tuple[tuple[Address, ...], ...] = (
                (), debt, (tokens.a_token,), (tokens.a_token, *debt))
            plan.append((reserve, 2 * reserve_id, by_bits))
        shifts = [entry[1] for entry in plan]
        ascending = all(a < b for a, b in pairwise(shifts))
        return _BalancePlan(plan, {entry[1]: entry for entry in plan} if ascending else None)


# A reserve's (reserve, shift of its bit pair, the tokens read for each value of the pair).
_PlanEntry = tuple[AaveReserve, int, tuple[tuple[Address, ...], ...]]


class _BalancePlan(NamedTuple):
    entries: list[_PlanEntry]
    # the entries by shift when their shifts increase (the set bits of a bitmap then give
    # plan order); None otherwise
    by_shift: dict[int, _PlanEntry] | None


def _used_reserves(plan: _BalancePlan, bitmap: int
                   ) -> list[tuple[AaveReserve, int, tuple[Address, ...]]]:
    """(reserve, its bit pair, the tokens to read) of each reserve the account uses, in plan
    order. Only the pairs set in `bitmap` are visited when the plan is in bit order: a
    borrower uses a few of a market's (on mainnet ~30) reserves."""
    by_shift = plan.by_shift
    if by_shift is None:
        return [(reserve, bitmap >> shift & 3, by_bits[bitmap >> shift & 3])
                for reserve, shift, by_bits in plan.entries if bitmap >> shift & 3]
    used = []
    while bitmap:
        shift = ((bitmap & -bitmap).bit_length() - 1) & ~1  # the lowest set bit's pair
        bits = bitmap >> shift & 3
        entry = by_shift.get(shift)
        if entry is not None:  # a pair of no listed reserve is skipped, as in plan order
            used.append((entry[0], bits, entry[2][bits]))
        bitmap &= ~(3 << shift)
    return used


# The per-account calls of a read: `selector(account)` for ~4 calls per account, built by
# hand for a valid address (as eth_abi would encode it) instead of through the codec.
_ACCOUNT_SELECTORS = {name: function_selector(abi, name) for abi, name in (
    (POOL, "getUserAccountData"), (POOL, "getUserConfiguration"), (POOL, "getUserEMode"),
    (ERC20, "balanceOf"))}
_ACCOUNT_ABIS = {"balanceOf": ERC20}


def _account_call(name: str, account: Address) -> bytes:
    raw = address_bytes(account)
    if raw is None:  # not a plain valid address: the codec encodes it or raises, as before
        return encode_call(_ACCOUNT_ABIS.get(name, POOL), name, [account])
    return _ACCOUNT_SELECTORS[name] + _ADDRESS_PAD + raw


_ADDRESS_PAD = bytes(12)


_BALANCE_GAS = _SIMPLE_GAS * 2
_ACCOUNT_DATA_CALL_GAS = _ACCOUNT_DATA_GAS + 8 * _ACCOUNT_DATA_GAS_PER_RESERVE
# Calls made without a Python-level constructor call each: a snapshot makes ~70,000
_new_call = partial(tuple.__new__, Call)


def _summary_calls(pool: Address, accounts: Sequence[Address]) -> list[Call]:
    """getUserAccountData, getUserConfiguration and getUserEMode of each account, in turn."""
    calls: list[Call] = []
    for account in accounts:
        calls += (
            _new_call((pool, _account_call("getUserAccountData", account), False,
                       _ACCOUNT_DATA_CALL_GAS)),
            _new_call((pool, _account_call("getUserConfiguration", account), False,
                       _SIMPLE_GAS)),
            _new_call((pool, _account_call("getUserEMode", account), False, _SIMPLE_GAS)),
        )
    return calls


def _account_data(data: bytes) -> tuple[int, int, int]:
    """getUserAccountData's totalCollateralBase, totalDebtBase and healthFactor: the usual
    six-word answer sliced here (every word is a valid uint256), any other through the codec
    (see _uint_words)."""
    if len(data) != 6 * WORD:
        words = _uint_words(POOL, "getUserAccountData", 6, data)
        return int(words[0]), int(words[1]), int(words[5])
    return (int.from_bytes(data[:WORD], "big"), int.from_bytes(data[WORD:2 * WORD], "big"),
            int.from_bytes(data[5 * WORD:], "big"))


def _balances(results: Sequence[CallResult]) -> list[int]:
    """Every balanceOf answer of a read, in order: a one-word answer sliced here, any other
    through _balance (the codec decodes it, or a failed call raises, as before)."""
    return [int.from_bytes(data, "big") if success and len(data) == WORD
            else _balance(CallResult(success, data)) for success, data in results]


def _balance(result: CallResult) -> int:
    """balanceOf's answer; one word sliced directly (see _uint_words)."""
    data = require_data(result, "balanceOf")
    if len(data) == WORD:
        return int.from_bytes(data, "big")
    return int(decode_output(ERC20, "balanceOf", data)[0])


def _uint_words(abi: Any, name: str, count: int, data: bytes) -> tuple[int, ...]:
    """An answer of `count` uint256 words: an answer of exactly that length is sliced here
    (every 32-byte word is a valid uint256); any other length goes to the codec, which
    decodes it or raises as before."""
    if len(data) != WORD * count:
        return decode_output(abi, name, data)
    return tuple(int.from_bytes(data[i:i + WORD], "big") for i in range(0, len(data), WORD))


def market_read(protocol: str, state: AaveMarketState, accounts: Sequence[AaveAccount],
                checked: Sequence[AaveAccount] | None = None) -> MarketRead:
    """The neutral view of one read: assets with their oracle prices, one Position each.
    `checked`: the accounts whose pool summary was read, to check against the mirror (default
    all; a derived account's summary is the mirror's own, so checking it would only repeat
    the mirror)."""
    return MarketRead(
        market_key=state.market_key, protocol=protocol, block=state.block,
        block_timestamp=state.block_timestamp, revision=state.pool_revision,
        assets=market_assets(state), positions=market_positions(protocol, state, accounts),
        mirror_mismatches=tuple(mirror_mismatches(
            accounts if checked is None else checked, state)),
    )


def market_assets(state: AaveMarketState) -> tuple[Asset, ...]:
    return tuple(Asset(r.asset, r.symbol, r.price_8dec) for r in state.reserves.values())


def market_positions(protocol: str, state: AaveMarketState, accounts: Sequence[AaveAccount]
                     ) -> tuple[Position, ...]:
    return tuple(
        Position(market_key=state.market_key, protocol=protocol, submarket=state.pool,
                 account=a.account, state=AavePosition(a, state), emode_category=a.emode_category)
        for a in accounts
    )


def require_reviewed_revision(state: AaveMarketState) -> None:
    """Refuse (UnreviewedRevisionError, exit 78) a pool revision newer than any reviewed,
    unless the market opted in with allow_unreviewed_revision."""
    arithmetic_for_revision(state.pool_revision, state.allow_unreviewed_revision)


def mirror_mismatches(accounts: Sequence[AaveAccount], state: AaveMarketState) -> list[Address]:
    """Accounts whose integer mirror disagrees with Pool.getUserAccountData at the block."""
    mismatches = []
    for account in accounts:
        totals = account_totals(account, state)
        if (totals.collateral_8dec, totals.debt_8dec, totals.health_factor_wad) != (
            account.reported_collateral_8dec, account.reported_debt_8dec,
            account.reported_health_factor_wad,
        ):
            mismatches.append(account.account)
    return mismatches


def _reserve_from(asset: Address, data: tuple[Any, ...], symbol: CallResult, price_8dec: int
                  ) -> AaveReserve:
    """Decode ReserveData (v3.0 layout, kept as `ReserveDataLegacy` in later versions)."""
    ((config,), *_rest) = data
    config = int(config)
    return AaveReserve(
        asset=asset,
        symbol=_decode_symbol(symbol, asset),
        reserve_id=int(data[7]),
        decimals=(config >> 48) & 0xFF,
        ltv_bps=config & 0xFFFF,
        lt_bps=(config >> 16) & 0xFFFF,
        bonus_bps=(config >> 32) & 0xFFFF,
        emode_category=(config >> 168) & 0xFF,
        price_8dec=price_8dec,
        debt_ceiling=(config >> 212) & ((1 << 40) - 1),
        protocol_fee_bps=(config >> 152) & 0xFFFF,
    )


def _decode_symbol(result: CallResult, asset: Address) -> str:
    """ERC-20 symbol; some old tokens (MKR) return bytes32; fall back to the address."""
    if not result.success or not result.data:
        return asset
    try:
        (symbol,) = decode_output(ERC20, "symbol", result.data)
        return str(symbol)
    except InconsistentDataError:
        return result.data[:32].rstrip(b"\0").decode("utf-8", "replace") or asset


def _is_answer(result: CallResult, expected: bytes) -> bool:
    """The call succeeded and returned exactly `expected`."""
    return result.success and result.data == expected

"""Aave v3 family: derive positions from stored scaled balances (incremental snapshots).

An aToken's `balanceOf` is `scaledBalanceOf x Pool.getReserveNormalizedIncome(asset)` and a
variable debt token's `scaledBalanceOf x getReserveNormalizedVariableDebt(asset)` (rayMul,
half up; v3.5+ floors the supply and ceils the debt). The scaled balances, the user's eMode
and collateral flags change only with an event naming the user:

- the three tokens of every reserve emit `Transfer(from, to, value)` on every mint, burn and
  transfer of a scaled balance (supply, withdraw, borrow, repay, liquidation, aToken
  transfers, treasury mints);
- the Pool emits `ReserveUsedAsCollateralEnabled/Disabled(reserve, user)` and
  `UserEModeSet(user, category)`.

So an account without such an event keeps its scaled balances and flags, and its position at
a later block is those times the indexes then, under the reserves' configuration and prices
then (read fresh every block). Stable debt compounds at the user's own rate: an account with
stable debt is read every block (its base is ALWAYS_READ). A base is stored only when it
reproduces the full read's balances exactly at the block it was read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from scanner.chain.abi import decode_output, encode_call, event_topic, load_abi
from scanner.chain.multicall import Call, aggregate3, require_data
from scanner.chain.tasks import in_order
from scanner.domain import RAY, Address, Axis, MarketRead
from scanner.pipeline.incremental import (
    ALWAYS_READ,
    DerivationUnavailable,
    StoredStateDeriver,
)
from scanner.pipeline.touched import token_and_pool_accounts
from scanner.protocols.aave_v3.generic_logic import (
    CEILS_DEBT,
    HealthArithmetic,
    account_legs,
    arithmetic_for_revision,
    oracle_prices_8dec,
    totals_for_legs,
)
from scanner.protocols.aave_v3.leg_table import (
    LegTemplate,
    account_rows,
    build_table,
    compile_rows,
)
from scanner.protocols.aave_v3.read import (
    AaveAddresses,
    AaveV3Adapter,
    market_read,
    require_reviewed_revision,
)
from scanner.protocols.aave_v3.rule import AavePosition
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState, AaveUserReserve
from scanner.protocols.base import Borrower
from scanner.store.bases import BorrowerKey

POOL = load_abi("aave-v3", "Pool")
A_TOKEN = load_abi("aave-v3", "AToken")
ERC20 = load_abi("erc20", "ERC20")
TRANSFER_TOPIC = event_topic(A_TOKEN, "Transfer")
USER_TOPICS = {  # pool event -> topic index of the user
    event_topic(POOL, "ReserveUsedAsCollateralEnabled"): (2,),
    event_topic(POOL, "ReserveUsedAsCollateralDisabled"): (2,),
    event_topic(POOL, "UserEModeSet"): (1,),
}
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_GAS = 60_000
HALF_RAY = RAY // 2


@dataclass(frozen=True)
class _Reserve:
    """What derivation needs of one reserve at one block."""

    tokens: tuple[Address, Address, Address]  # aToken, stable debt, variable debt
    income_ray: int  # getReserveNormalizedIncome
    debt_index_ray: int  # getReserveNormalizedVariableDebt


# An axis nothing moves on: every leg of a leg table is then priced at the block's oracle
# prices, exactly as `leg_price_8dec` prices it (leg_table._template's fixed price)
_NO_AXIS = Axis("", frozenset(), ZERO_ADDRESS, 0)


@dataclass
class _Mirror:
    """`account_totals`' per-market inputs (its revision's arithmetic, the oracle prices),
    looked up once per block instead of once per derived account, and the leg table of each
    eMode category (leg_table.py), built on first use: an account's totals are then one
    dict lookup per reserve and the three sums, not an `AccountLeg` per reserve."""

    arithmetic: HealthArithmetic
    prices_8dec: dict[Address, int]
    tables: dict[int, dict[Address, LegTemplate] | None]

    @staticmethod
    def of(market: AaveMarketState) -> _Mirror:
        return _Mirror(arithmetic_for_revision(market.pool_revision,
                                               market.allow_unreviewed_revision),
                       oracle_prices_8dec(market), {})

    def totals(self, account: AaveAccount, market: AaveMarketState) -> tuple[int, int, int]:
        """(collateral_8dec, debt_8dec, health_factor_wad) of account_totals(account, market),
        the mirror of getUserAccountData: from the leg rows where the table resolves every
        leg, else (where the generic resolution may raise) from the generic mirror."""
        category = account.emode_category
        if category not in self.tables:
            self.tables[category] = build_table(market, self.arithmetic, category,
                                                self.prices_8dec, _NO_AXIS)
        table = self.tables[category]
        rows = None if table is None else account_rows(account, table)
        sums = None if rows is None else compile_rows(rows, self.arithmetic in CEILS_DEBT, 1)
        if sums is None:
            generic = totals_for_legs(account_legs(account, market, self.arithmetic),
                                      self.prices_8dec, self.arithmetic)
            return generic.collateral_8dec, generic.debt_8dec, generic.health_factor_wad
        collateral_8dec, debt_8dec, _lt, health_factor_wad, _w = sums.totals(1)
        return collateral_8dec, debt_8dec, health_factor_wad


# A base as `_derive` uses it: (eMode category, rows of (asset, collateral flag, scaled
# supply, scaled debt)) -- its JSON parsed once (`_Parsed`)
ParsedBase = tuple[int, tuple[tuple[Address, bool, int, int], ...]]


@dataclass(frozen=True)
class _Parsed:
    """Parsed bases of one market, by their JSON text. A kept base is carried over unchanged
    from block to block (the same text), so each block parses only the bases written since
    the last one (1% touched: 1%), not every one (json.loads was a fifth of deriving).
    `now` collects the bases this block used: the next block's `before` (memory stays one
    set, not every set ever seen). A text parses to one value: a stale entry cannot exist."""

    before: Mapping[str, ParsedBase]
    now: dict[str, ParsedBase]

    def get(self, base: str) -> ParsedBase:
        parsed = self.before.get(base)
        if parsed is None:
            parsed = _parse(base)
        self.now[base] = parsed
        return parsed


def _parse(base: str) -> ParsedBase:
    raw = json.loads(base)
    return int(raw["e"]), tuple((row[0], bool(row[1]), int(row[2]), int(row[3]))
                                for row in raw["r"])


@dataclass(frozen=True)
class _State:
    market: AaveMarketState
    reserves: Mapping[Address, _Reserve]  # of the market's reserves only
    rounding: str  # `_rounding` of its revision
    mirror: _Mirror  # what `account_totals` looks up per account, once per block
    listed: Mapping[Address, int]  # each of `reserves` -> its place in the pool's list
    parsed: _Parsed

    @staticmethod
    def of(market: AaveMarketState, reserves: Mapping[Address, _Reserve],
           parsed: _Parsed | None = None) -> _State:
        listed = {asset: n for n, asset in enumerate(market.reserves) if asset in reserves}
        return _State(market, reserves, _rounding(market.pool_revision), _Mirror.of(market),
                      listed, parsed or _Parsed({}, {}))


class AaveV3Deriver(StoredStateDeriver[AaveV3Adapter, AaveAddresses, _State, AaveAccount]):

    def __init__(self) -> None:
        # market key -> the bases its last derivation (or capture) parsed, by their text
        self._parsed: dict[str, dict[str, ParsedBase]] = {}

    async def touched(self, adapter: AaveV3Adapter, resolved: AaveAddresses, state: _State,
                      from_block: int, to_block: int) -> set[Address]:
        tokens = sorted({t for r in state.reserves.values() for t in r.tokens
                         if t != ZERO_ADDRESS})
        return await token_and_pool_accounts(adapter.rpc, adapter.chain, tokens, TRANSFER_TOPIC,
                                             resolved.pool, USER_TOPICS, from_block, to_block)

    async def capture(self, adapter: AaveV3Adapter, resolved: AaveAddresses, read: MarketRead,
                      block: int) -> dict[BorrowerKey, str]:
        states = [p.state for p in read.positions]
        if not all(isinstance(s, AavePosition) for s in states):
            raise DerivationUnavailable(f"market {read.market_key}: not an Aave v3 read")
        parsed: dict[str, ParsedBase] = {}  # the next block's derivation parses none
        bases = await _capture(adapter, resolved, [s.account for s in states
                                                   if isinstance(s, AavePosition)],
                               read.revision, block, parsed)
        self._parsed[read.market_key] = parsed
        return bases

    async def read_state(self, adapter: AaveV3Adapter, resolved: AaveAddresses, block: int
                         ) -> _State:
        state, indexes = await in_order(_reviewed_market(adapter, resolved, block),
                                        _reserves(adapter, resolved.pool, block))
        reserves = {asset: reserve for asset, reserve in indexes.items()
                    if asset in state.reserves}  # a base naming another one: dropped
        parsed = _Parsed(self._parsed.get(state.market_key, {}), {})
        self._parsed[state.market_key] = parsed.now
        return _State.of(state, reserves, parsed)

    async def read_fresh(self, adapter: AaveV3Adapter, resolved: AaveAddresses, state: _State,
                         reread: Sequence[Borrower], block: int) -> Sequence[AaveAccount]:
        return await adapter.read_accounts(resolved, state.market, [a for _s, a in reread],
                                           block)

    def derive(self, state: _State, key: BorrowerKey, base: str) -> AaveAccount | None:
        return _derive(state.parsed.get(base), key[1], state)

    def assemble(self, adapter: AaveV3Adapter, state: _State, items: Sequence[AaveAccount],
                 fresh: Sequence[AaveAccount]) -> MarketRead:
        return market_read(adapter.market.protocol, state.market, items, fresh)

    def order(self, items: list[AaveAccount]) -> list[AaveAccount]:
        return sorted(items, key=lambda a: a.account)

    async def fresh_bases(self, adapter: AaveV3Adapter, resolved: AaveAddresses, state: _State,
                          fresh: Sequence[AaveAccount], block: int) -> dict[BorrowerKey, str]:
        return await _capture(adapter, resolved, fresh, state.market.pool_revision, block,
                              state.parsed.now, state.reserves)


DERIVER = AaveV3Deriver()


# --- capture ----------------------------------------------------------------------------------


async def _capture(adapter: AaveV3Adapter, resolved: AaveAddresses,
                   accounts: Sequence[AaveAccount], revision: int, block: int,
                   parsed: dict[str, ParsedBase] | None = None,
                   reserves: Mapping[Address, _Reserve] | None = None
                   ) -> dict[BorrowerKey, str]:
    """Each account's scaled balances, checked against its read balances at `block`;
    `parsed` receives each base as `_derive` takes it (what parsing its JSON gives).
    `reserves`: the market's reserves already read at `block` (the incremental step's state),
    else they are read here."""
    if reserves is None:
        reserves = await _reserves(adapter, resolved.pool, block)
    calls: list[Call] = []
    layout: list[int] = []
    for account in accounts:  # only what the full read read: a zero balance stays zero
        for entry in account.reserves:
            a_token, stable, variable = reserves[entry.asset].tokens
            layout.append(len(calls))
            if entry.used_as_collateral:
                calls.append(_call(a_token, A_TOKEN, "scaledBalanceOf", account.account))
            if entry.debt_raw:
                calls.append(_call(variable, A_TOKEN, "scaledBalanceOf", account.account))
                if stable != ZERO_ADDRESS:
                    calls.append(_call(stable, ERC20, "balanceOf", account.account))
    results = await aggregate3(adapter.rpc, calls, block,
                               gas_limit_per_batch=adapter.chain.gas_limit_per_batch,
                               multicall_address=adapter.chain.multicall_address)
    values = [int(decode_output(ERC20, "balanceOf", require_data(r, "scaled balance"))[0])
              for r in results]
    rounding = _rounding(revision)
    bases: dict[BorrowerKey, str] = {}
    starts = iter(layout)
    for account in accounts:
        entries, rows, stable_debt = [], [], False
        for entry in account.reserves:
            at, reserve = iter(values[next(starts):]), reserves[entry.asset]
            scaled_supply = next(at) if entry.used_as_collateral else 0
            scaled_debt = next(at) if entry.debt_raw else 0
            if entry.debt_raw and reserve.tokens[1] != ZERO_ADDRESS:
                stable_debt |= next(at) > 0
            entries.append([entry.asset, int(entry.used_as_collateral), scaled_supply,
                            scaled_debt])
            rows.append((entry.asset, bool(entry.used_as_collateral), scaled_supply, scaled_debt))
            if not stable_debt and _balances(entries[-1], reserve, rounding) != (
                    entry.supplied_raw, entry.debt_raw):
                raise DerivationUnavailable(
                    f"{account.account}: the scaled balances of {entry.asset} times the "
                    f"indexes do not give its balances at block {block}")
        if stable_debt:
            bases[(resolved.pool, account.account)] = ALWAYS_READ
            continue
        text = json.dumps({"e": account.emode_category, "r": entries}, separators=(",", ":"))
        bases[(resolved.pool, account.account)] = text
        if parsed is not None:
            parsed[text] = (account.emode_category, tuple(rows))
    return bases


# --- derive -----------------------------------------------------------------------------------


def _derive(base: ParsedBase, account: Address, at: _State) -> AaveAccount | None:
    """The account at the state's block, or None when a full read would skip it (no debt)."""
    state, reserves, listed = at.market, at.reserves, at.listed
    emode, rows = base
    if not all(row[0] in listed for row in rows):
        raise DerivationUnavailable(f"market {state.market_key}: a reserve was dropped")
    if len(rows) > 1:  # the full read's order: the pool's reserve list (a base's usually is)
        rows = tuple(sorted(rows, key=lambda row: listed[row[0]]))
    half = at.rounding == "half"
    entries = []
    for asset, collateral, scaled_supply, scaled_debt in rows:
        supplied, debt = _accrued(scaled_supply, scaled_debt, reserves[asset], half)
        entries.append(AaveUserReserve(asset, supplied if collateral else 0, debt, collateral))
    held = tuple(entries)
    collateral_8dec, debt_8dec, health_factor_wad = at.mirror.totals(
        AaveAccount(account, emode, held, 0, 0, 0), state)
    if debt_8dec == 0:
        return None
    # the pool's own summary is not read for a derived account: the mirror stands in for it
    # (built directly: dataclasses.replace cost as much as the rest of the derivation)
    return AaveAccount(account, emode, held, collateral_8dec, debt_8dec, health_factor_wad)


def _balances(entry: Sequence[Any], reserve: _Reserve, rounding: str) -> tuple[int, int]:
    """(aToken balanceOf if collateral else 0, variable debt balanceOf), as the tokens do."""
    supplied, debt = _accrued(int(entry[2]), int(entry[3]), reserve, rounding == "half")
    return (supplied if entry[1] else 0), debt


def _accrued(scaled_supply: int, scaled_debt: int, reserve: _Reserve, half: bool
             ) -> tuple[int, int]:
    """(scaled supply, scaled debt) times the reserve's indexes: rayMul half up (v3.0-v3.4),
    else the supply floored and the debt ceiled (v3.5+). Written out, not through a rounding
    mode argument: it runs for every reserve of every derived position."""
    if half:
        return ((scaled_supply * reserve.income_ray + HALF_RAY) // RAY,
                (scaled_debt * reserve.debt_index_ray + HALF_RAY) // RAY)
    return (scaled_supply * reserve.income_ray // RAY,
            -(-scaled_debt * reserve.debt_index_ray // RAY))


def _rounding(revision: int) -> str:
    """"half": rayMul half up (v3.0-v3.4); "exact": v3.5+ floors supply, ceils debt."""
    arithmetic = arithmetic_for_revision(revision, allow_unreviewed=True)
    return "exact" if arithmetic in CEILS_DEBT else "half"


# --- reads ------------------------------------------------------------------------------------


async def _reviewed_market(adapter: AaveV3Adapter, resolved: AaveAddresses, block: int
                           ) -> AaveMarketState:
    """The market state, refused (exit 78) at a revision newer than any reviewed: before the
    reserves read beside it are decoded by a layout that revision may have changed."""
    state = await adapter.read_market(resolved, block)
    require_reviewed_revision(state)
    return state


async def _reserves(adapter: AaveV3Adapter, pool: Address, block: int) -> dict[Address, _Reserve]:
    (assets,) = decode_output(POOL, "getReservesList", await adapter.rpc.eth_call(
        pool, encode_call(POOL, "getReservesList", []), block))
    assets = [to_checksum_address(a) for a in assets]
    calls = []
    for asset in assets:
        calls += [Call(pool, encode_call(POOL, name, [asset]), False, _GAS) for name in
                  ("getReserveData", "getReserveNormalizedIncome",
                   "getReserveNormalizedVariableDebt")]
    results = await aggregate3(adapter.rpc, calls, block,
                               gas_limit_per_batch=adapter.chain.gas_limit_per_batch,
                               multicall_address=adapter.chain.multicall_address)
    reserves = {}
    for n, asset in enumerate(assets):
        (data,) = decode_output(POOL, "getReserveData", require_data(results[3 * n], asset))
        (income,) = decode_output(POOL, "getReserveNormalizedIncome",
                                  require_data(results[3 * n + 1], asset))
        (debt,) = decode_output(POOL, "getReserveNormalizedVariableDebt",
                                require_data(results[3 * n + 2], asset))
        a_token, stable, variable = (to_checksum_address(t) for t in data[8:11])
        reserves[asset] = _Reserve((a_token, stable, variable), int(income), int(debt))
    return reserves


def _call(target: Address, abi: Any, name: str, account: Address) -> Call:
    return Call(target, encode_call(abi, name, [account]), False, _GAS)

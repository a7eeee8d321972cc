"""Liquity v1: resolve, enumerate and read every trove of a TroveManager at one block.

No math and no SQL here: every read names its block and a failed read raises. Troves are
enumerated on chain (the TroveManager's owners array: active troves only), so no logs are
needed. The rule is `rule.py` on the axis through `curve.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from eth_utils.address import to_checksum_address

from scanner.chain.abi import decode_output, encode_call, load_abi
from scanner.chain.multicall import Call, CallResult, require_data
from scanner.domain import Address, Asset, MarketRead, Position
from scanner.errors import InconsistentDataError
from scanner.protocols.base import ChainReader, NotTheProtocolError, ProgressCallback
from scanner.protocols.liquity_v1.curve import ETH_ADDRESS, ETH_SYMBOL, LiquityPosition
from scanner.protocols.liquity_v1.rule import compute_cr
from scanner.protocols.liquity_v1.state import LiquitySystem, LiquityTrove

TROVE_MANAGER = load_abi("liquity-v1", "TroveManager")
PRICE_FEED = load_abi("liquity-v1", "PriceFeed")
ACTIVE_POOL = load_abi("liquity-v1", "ActivePool")
DEFAULT_POOL = load_abi("liquity-v1", "DefaultPool")
STABILITY_POOL = load_abi("liquity-v1", "StabilityPool")
# the TroveManager's getters of the contracts it works with (resolve)
LINKED = ("priceFeed", "activePool", "defaultPool", "stabilityPool")
_GAS = 60_000
_PRICE_GAS = 1_000_000  # mainnet fetchPrice reads Chainlink and Tellor and stores the price


@dataclass(frozen=True)
class LiquityAddresses:
    trove_manager: Address
    price_feed: Address
    active_pool: Address
    default_pool: Address
    stability_pool: Address


def _address(data: bytes, name: str) -> Address:
    return str(to_checksum_address(decode_output(TROVE_MANAGER, name, data)[0]))


def _uint(abi: Any, name: str, result: CallResult, what: str) -> int:
    return int(decode_output(abi, name, require_data(result, what))[0])


class LiquityV1Adapter(ChainReader):
    """Reads the troves of a Liquity v1 deployment. No math, no SQL; every read names its block."""

    key: ClassVar[str] = "liquity-v1"

    async def resolve(self, block: int) -> LiquityAddresses:
        trove_manager = self.market.address("trove_manager")
        await self.rpc.require_code({f"{self._where}.trove_manager": trove_manager}, block)
        calls = [Call(trove_manager, encode_call(TROVE_MANAGER, name, []), True, _GAS)
                 for name in LINKED]
        found = []
        for name, result in zip(LINKED, await self._calls(calls, block), strict=True):
            if not (result.success and len(result.data) == 32):
                # another contract reverts or answers something else
                raise NotTheProtocolError("trove_manager", f"{name}() failed")
            found.append(_address(result.data, name))
        await self.rpc.require_code(
            {f"{self._where}.trove_manager.{name}()": a for name, a in zip(LINKED, found,
                                                                            strict=True)}, block)
        return LiquityAddresses(trove_manager, *found)

    async def discover_accounts(
        self, addresses: LiquityAddresses, from_block: int, to_block: int,
        on_progress: ProgressCallback | None = None,
    ) -> dict[Address, int]:
        """Every owner of an active trove at `to_block` (the TroveManager's owners array). The
        array names no opening block, so each is reported at `from_block`: reading an account
        that had no trove yet then only finds no debt."""
        owners = await self.trove_owners(addresses.trove_manager, to_block)
        if on_progress is not None:
            on_progress(1, 1)
        return {owner: from_block for owner in owners}

    async def trove_owners(self, trove_manager: Address, block: int) -> list[Address]:
        (count_r,) = await self._calls([Call(trove_manager, encode_call(
            TROVE_MANAGER, "getTroveOwnersCount", []), False, _GAS)], block)
        count = _uint(TROVE_MANAGER, "getTroveOwnersCount", count_r,
                      f"getTroveOwnersCount() at block {block}")
        calls = [Call(trove_manager, encode_call(TROVE_MANAGER, "getTroveFromTroveOwnersArray",
                                                 [i]), False, _GAS) for i in range(count)]
        return [_address(require_data(r, f"getTroveFromTroveOwnersArray({i})"),
                         "getTroveFromTroveOwnersArray")
                for i, r in enumerate(await self._calls(calls, block))]

    async def read(self, addresses: LiquityAddresses, accounts: Sequence[Address], block: int
                   ) -> MarketRead:
        timestamp = int((await self.rpc.get_block(block))["timestamp"])
        system = await self.read_system(addresses, block)
        troves = await self.read_troves(addresses.trove_manager, accounts, block)
        positions = tuple(
            Position(self.market.key, self.market.protocol, addresses.trove_manager, t.owner,
                     LiquityPosition(t, system))
            for t in troves)
        assets = (Asset(ETH_ADDRESS, ETH_SYMBOL, system.price_wad // 10**10),)
        mismatches = tuple(t.owner for t in troves
                           if t.entire(system) != (t.reported_debt_wad, t.reported_coll_wei))
        return MarketRead(self.market.key, self.market.protocol, block, timestamp, 0, assets,
                          positions, mismatches)

    async def read_system(self, a: LiquityAddresses, block: int) -> LiquitySystem:
        tm = a.trove_manager
        calls = [Call(a.price_feed, encode_call(PRICE_FEED, "fetchPrice", []), False, _PRICE_GAS),
                 Call(a.active_pool, encode_call(ACTIVE_POOL, "getETH", []), False, _GAS),
                 Call(a.active_pool, encode_call(ACTIVE_POOL, "getLUSDDebt", []), False, _GAS),
                 Call(a.default_pool, encode_call(DEFAULT_POOL, "getETH", []), False, _GAS),
                 Call(a.default_pool, encode_call(DEFAULT_POOL, "getLUSDDebt", []), False, _GAS),
                 Call(a.stability_pool, encode_call(STABILITY_POOL, "getTotalLUSDDeposits", []),
                      False, _GAS),
                 Call(tm, encode_call(TROVE_MANAGER, "getTroveOwnersCount", []), False, _GAS),
                 Call(tm, encode_call(TROVE_MANAGER, "L_ETH", []), False, _GAS),
                 Call(tm, encode_call(TROVE_MANAGER, "L_LUSDDebt", []), False, _GAS),
                 Call(tm, encode_call(TROVE_MANAGER, "totalStakes", []), False, _GAS)]
        r = await self._calls(calls, block)
        what = f"Liquity read at block {block}"
        price = _uint(PRICE_FEED, "fetchPrice", r[0], what)
        system = LiquitySystem(
            tm, price,
            _uint(ACTIVE_POOL, "getETH", r[1], what) + _uint(DEFAULT_POOL, "getETH", r[3], what),
            _uint(ACTIVE_POOL, "getLUSDDebt", r[2], what)
            + _uint(DEFAULT_POOL, "getLUSDDebt", r[4], what),
            _uint(STABILITY_POOL, "getTotalLUSDDeposits", r[5], what),
            _uint(TROVE_MANAGER, "getTroveOwnersCount", r[6], what),
            _uint(TROVE_MANAGER, "L_ETH", r[7], what),
            _uint(TROVE_MANAGER, "L_LUSDDebt", r[8], what),
            _uint(TROVE_MANAGER, "totalStakes", r[9], what))
        await self._check_tcr(system, block)
        return system

    async def _check_tcr(self, system: LiquitySystem, block: int) -> None:
        """The system totals must be the TroveManager's own: its getTCR at the same price."""
        (result,) = await self._calls([Call(system.trove_manager, encode_call(
            TROVE_MANAGER, "getTCR", [system.price_wad]), False, _GAS)], block)
        theirs = _uint(TROVE_MANAGER, "getTCR", result, f"getTCR at block {block}")
        ours = compute_cr(system.system_coll_wei, system.system_debt_wad, system.price_wad)
        if theirs != ours:
            raise InconsistentDataError(
                f"{self._where}: getTCR({system.price_wad}) is {theirs} at block {block}, the "
                f"pools' totals give {ours}")

    async def read_troves(self, trove_manager: Address, accounts: Sequence[Address], block: int
                          ) -> list[LiquityTrove]:
        """Every account with trove debt at `block`; the others are dropped."""
        calls = [Call(trove_manager, encode_call(TROVE_MANAGER, name, [account]), False, _GAS)
                 for account in accounts
                 for name in ("Troves", "rewardSnapshots", "getEntireDebtAndColl")]
        results = await self._calls(calls, block)
        troves = []
        for n, account in enumerate(accounts):
            trove_r, snap_r, entire_r = results[3 * n: 3 * n + 3]
            debt, coll, stake, status, _index = decode_output(
                TROVE_MANAGER, "Troves", require_data(trove_r, f"Troves({account})"))
            if int(debt) == 0:
                continue
            snap_eth, snap_debt = decode_output(TROVE_MANAGER, "rewardSnapshots", require_data(
                snap_r, f"rewardSnapshots({account})"))
            entire = decode_output(TROVE_MANAGER, "getEntireDebtAndColl", require_data(
                entire_r, f"getEntireDebtAndColl({account})"))
            troves.append(LiquityTrove(
                str(to_checksum_address(account)), int(debt), int(coll), int(stake),
                int(status), int(snap_eth), int(snap_debt), int(entire[0]), int(entire[1])))
        return troves

"""Liquity v2 (BOLD): resolve the branches of a CollateralRegistry, enumerate and read every
trove at one block.

No math and no SQL here: every read names its block and a failed read raises. The rule is
`rule.py` (integers, as TroveManager computes them) on the axis through `curve.py`.

Troves have uint256 ids, not addresses: a trove's account is its id's low 160 bits as an
address (`trove_key`), unique within a branch for keccak ids; the submarket names the branch.
Troves are enumerated from the TroveManager's TroveIds array (active and zombie troves, which
both stay liquidatable; zombies are not in SortedTroves), so discovery needs no logs.

The price feed is no public field of any contract the registry leads to (LiquityBase keeps it
`internal`); it is read from the TroveManager's storage slot 2 (LiquityBase: activePool,
defaultPool, priceFeed), after checking that slot 0 equals the public `activePool()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from eth_utils.address import to_checksum_address

from scanner.chain.abi import decode_output, encode_call, load_abi
from scanner.chain.multicall import Call, require_data
from scanner.domain import Address, Asset, MarketRead, Position
from scanner.errors import InconsistentDataError
from scanner.protocols.base import ChainReader, NotTheProtocolError, ProgressCallback
from scanner.protocols.liquity_v2.curve import Liquity2Position
from scanner.protocols.liquity_v2.rule import latest_trove_debt
from scanner.protocols.liquity_v2.state import (
    Liquity2Batch,
    Liquity2Branch,
    Liquity2BranchAddresses,
    Liquity2Trove,
)

REGISTRY = load_abi("liquity-v2", "CollateralRegistry")
TROVE_MANAGER = load_abi("liquity-v2", "TroveManager")
BORROWER_OPERATIONS = load_abi("liquity-v2", "BorrowerOperations")
PRICE_FEED = load_abi("liquity-v2", "PriceFeed")
TROVE_NFT = load_abi("liquity-v2", "TroveNFT")
STABILITY_POOL = load_abi("liquity-v2", "StabilityPool")
ERC20 = load_abi("erc20", "ERC20")
ACTIVE_POOL_SLOT = 0
PRICE_FEED_SLOT = 2
MAX_BRANCHES = 10  # the real CollateralRegistry's token0..token9
_GAS = 60_000
_TROVE_GAS = 200_000
_FETCH_PRICE_GAS = 1_000_000  # the real feeds refuse to run short of gas


def trove_key(trove_id: int) -> Address:
    """A trove's account: the low 160 bits of its id, as a checksummed address."""
    return str(to_checksum_address((trove_id % 2**160).to_bytes(20, "big")))


@dataclass(frozen=True)
class Liquity2Addresses:
    collateral_registry: Address
    branches: tuple[Liquity2BranchAddresses, ...]


def _address(data: bytes, abi: Any, name: str) -> Address:
    return str(to_checksum_address(decode_output(abi, name, data)[0]))


def _uint(data: bytes, abi: Any, name: str) -> int:
    return int(decode_output(abi, name, data)[0])


class Liquity2Adapter(ChainReader):
    """Reads every trove of every branch of a Liquity v2 deployment at one block."""

    key: ClassVar[str] = "liquity-v2"

    async def _data(self, calls: Sequence[Call], block: int, what: str) -> list[bytes]:
        return [require_data(r, f"{what} at block {block}")
                for r in await self._calls(calls, block)]

    # --- resolve ---------------------------------------------------------------------------

    async def resolve(self, block: int) -> Liquity2Addresses:
        registry = self.market.address("collateral_registry")
        await self.rpc.require_code({f"{self._where}.collateral_registry": registry}, block)
        (count_r,) = await self._calls(
            [Call(registry, encode_call(REGISTRY, "totalCollaterals", []), True, _GAS)], block)
        if not count_r.success or len(count_r.data) != 32:
            raise NotTheProtocolError("collateral_registry", "totalCollaterals() failed")
        count = _uint(count_r.data, REGISTRY, "totalCollaterals")
        if not 0 < count <= MAX_BRANCHES:
            raise NotTheProtocolError("collateral_registry", f"totalCollaterals() = {count}")
        data = await self._data(
            [Call(registry, encode_call(REGISTRY, name, [i]), False, _GAS)
             for i in range(count) for name in ("getToken", "getTroveManager")],
            block, "CollateralRegistry branches")
        tokens = [_address(data[2 * i], REGISTRY, "getToken") for i in range(count)]
        managers = [_address(data[2 * i + 1], REGISTRY, "getTroveManager")
                    for i in range(count)]
        await self.rpc.require_code({f"{self._where} branch {i} TroveManager": m
                                     for i, m in enumerate(managers)}, block)
        branches = [await self._branch(i, tokens[i], m, block) for i, m in enumerate(managers)]
        return Liquity2Addresses(registry, tuple(branches))

    async def _branch(self, index: int, token: Address, manager: Address, block: int
                      ) -> Liquity2BranchAddresses:
        names = ("borrowerOperations", "troveNFT", "activePool", "stabilityPool")
        data = await self._data([Call(manager, encode_call(TROVE_MANAGER, n, []), False, _GAS)
                                 for n in names], block, f"TroveManager {manager}")
        bo, nft, active_pool, pool = (_address(d, TROVE_MANAGER, n)
                                      for d, n in zip(data, names, strict=True))
        slots = await self.rpc.batch([("eth_getStorageAt", [manager, hex(s), hex(block)])
                                      for s in (ACTIVE_POOL_SLOT, PRICE_FEED_SLOT)])
        slot_pool, slot_feed = (str(to_checksum_address("0x" + str(s)[-40:])) for s in slots)
        if slot_pool != active_pool:
            raise InconsistentDataError(
                f"{self._where}: TroveManager {manager} does not lay out its storage as "
                "Liquity v2's LiquityBase (slot 0 is not activePool): cannot find its price feed")
        await self.rpc.require_code({f"branch {index} BorrowerOperations": bo,
                                     f"branch {index} TroveNFT": nft,
                                     f"branch {index} PriceFeed": slot_feed,
                                     f"branch {index} StabilityPool": pool}, block)
        return Liquity2BranchAddresses(index, token, manager, bo, nft, slot_feed, pool)

    # --- discover --------------------------------------------------------------------------

    async def discover_accounts(
        self, addresses: Liquity2Addresses, from_block: int, to_block: int,
        on_progress: ProgressCallback | None = None,
    ) -> dict[Address, int]:
        """Every trove open at `to_block` (the TroveIds arrays need no logs) -> to_block."""
        found: dict[Address, int] = {}
        for branch in addresses.branches:
            for trove_id in await self.trove_ids(branch, to_block):
                found.setdefault(trove_key(trove_id), to_block)
        if on_progress is not None:
            on_progress(to_block - from_block, to_block - from_block)
        return found

    async def trove_ids(self, branch: Liquity2BranchAddresses, block: int) -> list[int]:
        tm = branch.trove_manager
        (count_d,) = await self._data(
            [Call(tm, encode_call(TROVE_MANAGER, "getTroveIdsCount", []), False, _GAS)],
            block, "TroveManager.getTroveIdsCount")
        count = _uint(count_d, TROVE_MANAGER, "getTroveIdsCount")
        data = await self._data(
            [Call(tm, encode_call(TROVE_MANAGER, "getTroveFromTroveIdsArray", [i]), False, _GAS)
             for i in range(count)], block, "TroveManager.getTroveFromTroveIdsArray")
        return [_uint(d, TROVE_MANAGER, "getTroveFromTroveIdsArray") for d in data]

    # --- read ------------------------------------------------------------------------------

    async def read(self, addresses: Liquity2Addresses, accounts: Sequence[Address], block: int
                   ) -> MarketRead:
        timestamp = int((await self.rpc.get_block(block))["timestamp"])
        branches = [await self.read_branch(b, block, timestamp) for b in addresses.branches]
        wanted = {str(to_checksum_address(a)) for a in accounts}
        positions: list[Position] = []
        mismatches: list[Address] = []
        prices = tuple(sorted({(b.addresses.token, b.price) for b in branches}))
        for branch in branches:
            all_ids = await self.trove_ids(branch.addresses, block)
            branch = replace(branch, total_stakes=await self.total_stakes(
                branch.addresses, all_ids, block), trove_count=len(all_ids))
            ids = [i for i in all_ids if trove_key(i) in wanted]
            troves = await self.read_troves(branch.addresses, ids, block)
            _check_stakes(branch, troves, block)
            batches = await self.read_batches(branch.addresses, troves, block)
            for trove in troves:
                batch = batches.get(trove.batch_manager) if trove.batch_manager else None
                debt = latest_trove_debt(trove, batch, timestamp, branch.shutdown_time)
                if (debt.entire_debt, debt.entire_coll) != (trove.reported_entire_debt,
                                                            trove.reported_entire_coll):
                    mismatches.append(trove_key(trove.trove_id))
                state = Liquity2Position(trove, debt, branch, prices)
                if state.has_debt:
                    positions.append(Position(self.market.key, self.market.protocol,
                                              branch.submarket, trove_key(trove.trove_id),
                                              state))
        assets = tuple(sorted({Asset(b.addresses.token, b.symbol, b.price // 10**10)
                               for b in branches}, key=lambda a: a.address))
        return MarketRead(self.market.key, self.market.protocol, block, timestamp, 0, assets,
                          tuple(positions), tuple(mismatches))

    async def read_branch(self, b: Liquity2BranchAddresses, block: int, timestamp: int
                          ) -> Liquity2Branch:
        """Ratios, shutdown time, the stored lastGoodPrice, the Stability Pool's BOLD
        deposits (`getTotalBoldDeposits`: what liquidations offset) and, last in the same
        call, the price `fetchPrice()` returns at the block (non-view: simulated, nothing is
        sent), which is the price batchLiquidateTroves would use; lastGoodPrice alone can lag
        the oracle."""
        calls = [Call(b.borrower_operations, encode_call(BORROWER_OPERATIONS, n, []), False,
                      _GAS) for n in ("MCR", "SCR")]
        calls += [Call(b.trove_manager, encode_call(TROVE_MANAGER, n, []), False, _GAS)
                  for n in ("CCR", "shutdownTime")]
        calls += [Call(b.price_feed, encode_call(PRICE_FEED, n, []), False, _GAS)
                  for n in ("lastGoodPrice", "priceSource")]
        calls.append(Call(b.token, encode_call(ERC20, "symbol", []), False, _GAS))
        calls.append(Call(b.stability_pool, encode_call(STABILITY_POOL, "getTotalBoldDeposits",
                                                        []), False, _GAS))
        calls.append(Call(b.price_feed, encode_call(PRICE_FEED, "fetchPrice", []), False,
                          _FETCH_PRICE_GAS))
        mcr, scr, ccr, shutdown, last_good, source, symbol, deposits, fetched = await self._data(
            calls, block, f"Liquity v2 branch {b.index}")
        price, failure = decode_output(PRICE_FEED, "fetchPrice", fetched)
        branch = Liquity2Branch(
            b, str(decode_output(ERC20, "symbol", symbol)[0]),
            _uint(mcr, BORROWER_OPERATIONS, "MCR"), _uint(ccr, TROVE_MANAGER, "CCR"),
            _uint(scr, BORROWER_OPERATIONS, "SCR"), int(price),
            _uint(last_good, PRICE_FEED, "lastGoodPrice"),
            _uint(source, PRICE_FEED, "priceSource"), bool(failure),
            _uint(shutdown, TROVE_MANAGER, "shutdownTime"), timestamp,
            bold_in_sp=_uint(deposits, STABILITY_POOL, "getTotalBoldDeposits"))
        if branch.mcr == 0 or branch.price == 0:
            raise InconsistentDataError(
                f"Liquity v2 branch {b.index} has MCR {branch.mcr} and price {branch.price} "
                f"at block {block}")
        return branch

    async def total_stakes(self, b: Liquity2BranchAddresses, ids: Sequence[int], block: int
                           ) -> int:
        """The branch's totalStakes: every trove id's stake summed (the contract removes a
        trove's stake when it leaves the id array, and keeps the total itself internal)."""
        data = await self._data(
            [Call(b.trove_manager, encode_call(TROVE_MANAGER, "Troves", [i]), False, _GAS)
             for i in ids], block, f"Liquity v2 branch {b.index} stakes")
        return sum(int(decode_output(TROVE_MANAGER, "Troves", d)[2]) for d in data)

    async def read_troves(self, b: Liquity2BranchAddresses, ids: Sequence[int], block: int
                          ) -> list[Liquity2Trove]:
        tm = b.trove_manager
        calls = []
        for trove_id in ids:
            calls += [Call(tm, encode_call(TROVE_MANAGER, "Troves", [trove_id]), False, _GAS),
                      Call(tm, encode_call(TROVE_MANAGER, "getLatestTroveData", [trove_id]),
                           False, _TROVE_GAS),
                      Call(b.trove_nft, encode_call(TROVE_NFT, "ownerOf", [trove_id]), False,
                           _GAS)]
        data = await self._data(calls, block, f"Liquity v2 branch {b.index} troves")
        troves = []
        for n, trove_id in enumerate(ids):
            stored, latest, owner = data[3 * n: 3 * n + 3]
            (debt, coll, stake, status, _index, last_update, _adj, rate, manager,
             shares) = decode_output(TROVE_MANAGER, "Troves", stored)
            (latest_data,) = decode_output(TROVE_MANAGER, "getLatestTroveData", latest)
            entire_debt, entire_coll, redist_debt, redist_coll = (int(v) for v in
                                                                  latest_data[:4])
            manager_address = str(to_checksum_address(manager))
            troves.append(Liquity2Trove(
                trove_id, _address(owner, TROVE_NFT, "ownerOf"), int(status), int(debt),
                int(coll), int(last_update), int(rate),
                None if int(manager_address, 16) == 0 else manager_address, int(shares),
                redist_debt, redist_coll, entire_debt, entire_coll, int(stake)))
        return troves

    async def read_batches(self, b: Liquity2BranchAddresses, troves: Sequence[Liquity2Trove],
                           block: int) -> dict[Address, Liquity2Batch]:
        managers = sorted({t.batch_manager for t in troves if t.batch_manager})
        data = await self._data(
            [Call(b.trove_manager, encode_call(TROVE_MANAGER, "getLatestBatchData", [m]), False,
                  _TROVE_GAS) for m in managers], block, "TroveManager.getLatestBatchData")
        out = {}
        for manager, d in zip(managers, data, strict=True):
            (batch,) = decode_output(TROVE_MANAGER, "getLatestBatchData", d)
            shares, _entire, _coll, _interest, recorded, rate, _w, fee = (int(v) for v in
                                                                          batch[:8])
            out[manager] = Liquity2Batch(manager, recorded, rate, fee, shares, int(batch[10]))
        return out


def _check_stakes(branch: Liquity2Branch, troves: Sequence[Liquity2Trove], block: int) -> None:
    """Every trove's stake is part of the summed total a redistribution divides by."""
    if any(t.stake > branch.total_stakes for t in troves) or (
            troves and branch.total_stakes == 0):
        raise InconsistentDataError(
            f"Liquity v2 branch {branch.index}: a trove's stake exceeds the summed total "
            f"{branch.total_stakes} at block {block}")

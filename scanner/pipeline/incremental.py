"""Incremental snapshots: the daemon's every-block path.

After a full snapshot stored with its derivation bases (each position's stored protocol state:
Aave scaled balances, Morpho shares, Compound principal, Maker ink/art -- see each protocol's
`derive.py`), the next snapshot re-reads only

- every market's own state (reserves, indexes, totals, rates, prices) at the new block, and
- the accounts that the protocol's own events in (previous block, new block] name, the newly
  discovered borrowers, and the accounts whose base says "always read";

and derives every other position from its base and the new market state, exactly as the
contracts compute it. The positions then go through the same liquidation / histogram / bands /
store stages as a full snapshot (scan.py), so the result is the full snapshot's.

Any doubt falls back to a full snapshot (then bases are captured again):

- no stored bases for the newest snapshot of exactly these markets, or another market
  configuration (fingerprint), or a protocol without a derive module;
- the previous snapshot's block is no longer on the chain (a reorg), or is not older;
- discovery rewinds or rediscovers (a reorg below its cursor, a lowered start_block);
- a protocol's deriver says it cannot derive (DerivationUnavailable: an unknown revision, a
  reserve list that changed, a base that no longer checks out, ...).

A full snapshot every `full_every_blocks` blocks (the daemon's `incremental_full_every_blocks`)
bounds what a missed event kind could cost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from scanner.chain.pin import block_hash, confirm_pinned, pin_block
from scanner.chain.rpc import RpcClient
from scanner.chain.tasks import both, gather_or_cancel, in_order
from scanner.config import ChainConfig, Config, MarketConfig
from scanner.domain import Address, MarketRead
from scanner.errors import ScannerError, UsageError
from scanner.pipeline.collector import collector_paused
from scanner.pipeline.discovery import plan_discovery
from scanner.pipeline.persist import store_snapshot
from scanner.pipeline.resolve import resolve_market
from scanner.pipeline.scan import (
    Discovery,
    Progress,
    SnapshotOutcome,
    _market_failed,
    _no_progress,
    _require_verified,
    checked_block,
    compute_snapshot,
    discover_market,
    scan_chain,
)
from scanner.protocols import protocol_spec
from scanner.protocols.base import Borrower, ProtocolAdapter
from scanner.store.bases import BorrowerKey, MarketBases, PriorSnapshot, latest_bases, save_bases
from scanner.store.repository import Repository

log = logging.getLogger(__name__)

# config `protocol` -> module with a `DERIVER` (a Deriver); others always scan in full
DERIVERS: dict[str, str] = {
    "aave-v3": "scanner.protocols.aave_v3.derive",
    "spark": "scanner.protocols.aave_v3.derive",
    "aave-v2": "scanner.protocols.aave_v2.derive",
    "morpho-blue": "scanner.protocols.morpho_blue.derive",
    "compound-v3": "scanner.protocols.compound_v3.derive",
    "maker": "scanner.protocols.maker.derive",
}
ALWAYS_READ = "null"  # a base that cannot be derived from: its account is read every block
_FORMAT = "1"  # part of the fingerprint: bases of another format are never derived from


class DerivationUnavailable(Exception):
    """This snapshot cannot be derived exactly: take a full one (`reason` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DerivedRead:
    read: MarketRead
    bases: dict[BorrowerKey, str]  # of every position of `read`


class Deriver(Protocol):
    """A protocol's derive module (its `DERIVER`)."""

    async def read_state(self, adapter: Any, resolved: Any, block: int) -> Any:
        """The market's own state at `block` (read in full every block, once: `touched` and
        `read` take it)."""
        ...

    async def touched(self, adapter: Any, resolved: Any, state: Any, from_block: int,
                      to_block: int) -> set[Address]:
        """Every account whose stored state may have changed in [from_block, to_block]
        (`state`: the market's state at `to_block`)."""
        ...

    async def capture(self, adapter: Any, resolved: Any, read: MarketRead, block: int
                      ) -> dict[BorrowerKey, str]:
        """The base of every position of `read` (a full read at `block`)."""
        ...

    async def read(self, adapter: Any, resolved: Any, state: Any, reread: Sequence[Borrower],
                   bases: Mapping[BorrowerKey, str], block: int) -> DerivedRead:
        """The market at `block` (`state`: its own state there): `reread` read from the
        chain, every other position derived from its base -- in the order a full read gives
        them."""
        ...


AdapterT = TypeVar("AdapterT")
ResolvedT = TypeVar("ResolvedT")
StateT = TypeVar("StateT")
ItemT = TypeVar("ItemT")  # one account/position as the protocol's read assembles it


class StoredStateDeriver(ABC, Generic[AdapterT, ResolvedT, StateT, ItemT]):
    """The shape every derive module shares; a protocol fills in its own small pieces.

    `read`: given the market state at the block (`read_state`, read once per block and also
    handed to `touched`), the touched accounts read again, every other position derived from
    its stored base, in the full read's order, assembled by the protocol's own read code; the
    kept bases carried over unchanged (never re-encoded).
    `capture` / `fresh_bases`: the bases of a full read's positions / of the accounts read
    again -- protocol-specific (Aave v3 reads its scaled balances for them); protocols whose
    base is a function of one item take them from `ItemBaseDeriver`.
    """

    @abstractmethod
    async def touched(self, adapter: AdapterT, resolved: ResolvedT, state: StateT,
                      from_block: int, to_block: int) -> set[Address]: ...

    @abstractmethod
    async def read_state(self, adapter: AdapterT, resolved: ResolvedT, block: int
                         ) -> StateT:
        """The market's own state at `block` (read in full every block)."""

    @abstractmethod
    async def read_fresh(self, adapter: AdapterT, resolved: ResolvedT, state: StateT,
                         reread: Sequence[Borrower], block: int) -> Sequence[ItemT]:
        """The touched borrowers read from the chain."""

    @abstractmethod
    def derive(self, state: StateT, key: BorrowerKey, base: str) -> ItemT | None:
        """The position at the state's block from its base; None when a full read would
        skip it (no debt)."""

    @abstractmethod
    def assemble(self, adapter: AdapterT, state: StateT, items: Sequence[ItemT],
                 fresh: Sequence[ItemT]) -> MarketRead:
        """The protocol's own assembly of a read (the same code as a full read)."""

    @abstractmethod
    async def fresh_bases(self, adapter: AdapterT, resolved: ResolvedT, state: StateT,
                          fresh: Sequence[ItemT], block: int) -> dict[BorrowerKey, str]:
        """The bases of the borrowers read again."""

    @abstractmethod
    async def capture(self, adapter: AdapterT, resolved: ResolvedT, read: MarketRead,
                      block: int) -> dict[BorrowerKey, str]:
        """The base of every position of a full read."""

    def order(self, items: list[ItemT]) -> list[ItemT]:
        """The full read's order (default: `assemble` orders them itself)."""
        return items

    async def read(self, adapter: AdapterT, resolved: ResolvedT, state: StateT,
                   reread: Sequence[Borrower], bases: Mapping[BorrowerKey, str], block: int
                   ) -> DerivedRead:
        fresh = await self.read_fresh(adapter, resolved, state, reread, block)
        derived: list[ItemT] = []
        kept: dict[BorrowerKey, str] = {}
        for key, base in bases.items():
            if (item := self.derive(state, key, base)) is not None:
                derived.append(item)
                kept[key] = base
        items = self.order([*fresh, *derived])
        new_bases = await self.fresh_bases(adapter, resolved, state, fresh, block)
        new_bases.update(kept)
        return DerivedRead(self.assemble(adapter, state, items, fresh), new_bases)


class ItemBaseDeriver(StoredStateDeriver[AdapterT, ResolvedT, StateT, ItemT]):
    """A deriver whose base is a function of one item (Morpho, Compound, Aave v2, Maker):
    the bases of a full read and of the accounts read again come from the items alone."""

    position_type: type  # the class of a full read's `Position.state`

    @abstractmethod
    def key_of(self, state: StateT, item: ItemT) -> BorrowerKey:
        """An item's (submarket, account)."""

    @abstractmethod
    def base_of(self, item: ItemT) -> str:
        """An item's base: the protocol state it is derived from later."""

    @abstractmethod
    def item_of_position(self, position_state: Any) -> ItemT:
        """A full read's `Position.state` -> its item (`capture`)."""

    async def fresh_bases(self, adapter: AdapterT, resolved: ResolvedT, state: StateT,
                          fresh: Sequence[ItemT], block: int) -> dict[BorrowerKey, str]:
        return {self.key_of(state, item): self.base_of(item) for item in fresh}

    async def capture(self, adapter: AdapterT, resolved: ResolvedT, read: MarketRead,
                      block: int) -> dict[BorrowerKey, str]:
        return {(p.submarket, p.account): self.base_of(self.item_of_position(p.state))
                for p in read.positions if isinstance(p.state, self.position_type)}


@dataclass(frozen=True)
class IncrementalOutcome:
    outcome: SnapshotOutcome
    incremental: bool  # False: a full snapshot was taken
    reason: str  # why full, or "" when incremental
    reread: int = 0  # positions read from the chain (incremental)
    derived: int = 0  # positions derived from their bases (incremental)
    bases_stored: bool = False
    by_market: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    # market key -> (positions read, positions derived)


def deriver_of(protocol: str) -> Deriver | None:
    module = DERIVERS.get(protocol)
    if module is None:
        return None
    deriver: Deriver = importlib.import_module(module).DERIVER
    return deriver


def fingerprint(market: MarketConfig) -> str:
    """The market configuration the bases were read under (any change: full again)."""
    return hashlib.sha256(f"{_FORMAT}|{market!r}".encode()).hexdigest()


# --- entry points ---------------------------------------------------------------------------


async def scan_incremental(
    config: Config, markets: Sequence[MarketConfig], repo: Repository, block: int | None = None,
    progress: Progress = _no_progress, store_unverified: bool = False,
    full_every_blocks: int | None = None,
) -> IncrementalOutcome:
    """A snapshot of `markets` at `block`, derived from the newest stored one where exactly
    possible, else full; either way stored with the bases the next one derives from."""
    chain = _one_chain(config, markets)
    prior = latest_bases(repo.engine, chain.name, [m.key for m in markets])
    reason = _why_full(prior, markets, block, full_every_blocks)
    if reason is None and prior is not None:
        try:
            with collector_paused():
                return await _incremental(config, chain, markets, repo, prior, block,
                                          progress, store_unverified, full_every_blocks)
        except DerivationUnavailable as exc:
            reason = exc.reason
    log.info("chain %s: full snapshot (%s)", chain.name, reason)
    return await scan_full(config, markets, repo, block, progress, store_unverified,
                           reason or "")


async def scan_full(
    config: Config, markets: Sequence[MarketConfig], repo: Repository, block: int | None = None,
    progress: Progress = _no_progress, store_unverified: bool = False, reason: str = "",
) -> IncrementalOutcome:
    """A full snapshot (scan.py), then its derivation bases."""
    outcome = await scan_chain(config, markets, repo, block, progress, store_unverified)
    try:
        stored = await capture_bases(config, markets, repo, outcome)
    except ScannerError as exc:  # the snapshot is stored: only the next one is full again
        log.warning("chain %s: derivation bases of block %d not stored: %s",
                    outcome.record.chain, outcome.record.block, exc.message)
        stored = False
    return IncrementalOutcome(outcome, incremental=False, reason=reason, bases_stored=stored)


async def capture_bases(config: Config, markets: Sequence[MarketConfig], repo: Repository,
                        outcome: SnapshotOutcome) -> bool:
    """Store the bases of a stored full snapshot; False (nothing stored) when a market's
    protocol cannot be derived or the snapshot's block left the chain meanwhile."""
    derivers = {m.key: deriver_of(m.protocol) for m in markets}
    if any(d is None for d in derivers.values()):
        return False
    chain = _one_chain(config, markets)
    block = outcome.record.block
    by_scan: dict[int, MarketBases] = {}
    async with RpcClient.for_chain(chain) as rpc:
        pinned = await pin_block(rpc, block)
        if pinned.hash != _stored_hash(repo, outcome, markets):
            return False
        try:
            for market, done in zip(markets, outcome.markets, strict=True):
                adapter = protocol_spec(market.protocol).adapter(rpc, market, chain)
                resolved = await resolve_market(adapter, config, market, block)
                bases = always_read_unverified(await _deriver(derivers, market).capture(
                    adapter, resolved, done.read, block), done.read)
                by_scan[outcome.scan_ids[market.key]] = MarketBases(fingerprint(market), bases,
                                                                    block)
        except DerivationUnavailable as exc:
            log.info("chain %s: no derivation bases at block %d (%s)", chain.name, block,
                     exc.reason)
            return False
        await confirm_pinned(rpc, pinned)
    save_bases(repo.engine, by_scan)
    return True


# --- the incremental snapshot ---------------------------------------------------------------


def _why_full(prior: PriorSnapshot | None, markets: Sequence[MarketConfig], block: int | None,
              full_every_blocks: int | None) -> str | None:
    for market in markets:
        if deriver_of(market.protocol) is None:
            return f"no derivation for protocol {market.protocol}"
    if prior is None:
        return "no stored derivation bases for the newest snapshot of these markets"
    for market in markets:
        if prior.markets[market.key].fingerprint != fingerprint(market):
            return f"market {market.key}: configuration changed since the stored bases"
    if block is not None and block <= prior.block:
        return f"block {block} is not after the stored snapshot's block {prior.block}"
    if full_every_blocks is not None and block is not None and (
            block - _full_block(prior) >= full_every_blocks):
        return f"periodic full snapshot (every {full_every_blocks} blocks)"
    return None


def _full_block(prior: PriorSnapshot) -> int:
    """Block of the full snapshot the prior one derives from (itself when full)."""
    return prior.full_block


async def _incremental(
    config: Config, chain: ChainConfig, markets: Sequence[MarketConfig], repo: Repository,
    prior: PriorSnapshot, block: int | None, progress: Progress, store_unverified: bool,
    full_every_blocks: int | None,
) -> IncrementalOutcome:
    async with RpcClient.for_chain(chain) as rpc:
        block = await checked_block(rpc, chain, block)
        if (reason := _why_full(prior, markets, block, full_every_blocks)) is not None:
            raise DerivationUnavailable(reason)
        # pinning first: a node that cannot give the block's hash is that error, not a reorg
        pinned, _ = await in_order(pin_block(rpc, block), _require_prior_on_chain(rpc, prior))
        # every market at once, as a full snapshot reads them: each one's round trips (events,
        # state, the touched accounts, their bases) overlap the others' and their derivation
        steps = await gather_or_cancel([
            _read_verified(rpc, config, market, repo, prior, block, progress, store_unverified)
            for market in markets])
        reads, by_market, bases = [], {}, {}
        for market, step in zip(markets, steps, strict=True):
            reads.append((market, step.discovery, step.derived.read))
            bases[market.key] = step.derived.bases
            by_market[market.key] = (step.reread,
                                     len(step.derived.read.positions) - step.reread)
        # a block that changed under the scan is that error (retry later), as before
        await in_order(confirm_pinned(rpc, pinned), _require_prior_on_chain(rpc, prior))
        retries, requests = dict(rpc.stats.retries_by_kind), rpc.stats.requests
    outcome = compute_snapshot(config, chain, block, reads)
    stored = dataclasses.replace(store_snapshot(repo, outcome, pinned), rpc_retries=retries,
                                 rpc_requests=requests)
    save_bases(repo.engine, {stored.scan_ids[m.key]: MarketBases(fingerprint(m), bases[m.key],
                                                                 _full_block(prior))
                             for m in markets}, prior)
    return IncrementalOutcome(stored, incremental=True, reason="",
                              reread=sum(r for r, _d in by_market.values()),
                              derived=sum(d for _r, d in by_market.values()),
                              bases_stored=True, by_market=by_market)


@dataclass(frozen=True)
class _MarketStep:
    discovery: Discovery
    derived: DerivedRead
    reread: int


async def _read_verified(
    rpc: RpcClient, config: Config, market: MarketConfig, repo: Repository,
    prior: PriorSnapshot, block: int, progress: Progress, store_unverified: bool,
) -> _MarketStep:
    """One market's step, refused when its mirror is contradicted; errors name the market."""
    try:
        step = await _read_market(rpc, config, market, repo, prior, block, progress)
        _require_verified(step.derived.read, store_unverified)
    except ScannerError as exc:
        raise _market_failed(market, exc) from exc
    return step


async def _read_market(
    rpc: RpcClient, config: Config, market: MarketConfig, repo: Repository,
    prior: PriorSnapshot, block: int, progress: Progress,
) -> _MarketStep:
    deriver = _deriver({market.key: deriver_of(market.protocol)}, market)
    adapter: ProtocolAdapter = protocol_spec(market.protocol).adapter(rpc, market,
                                                                      config.chains[market.chain])
    # at once, as a full snapshot does them (scan._read_market); the plan's error first
    plan, resolved = await in_order(plan_discovery(rpc, repo, config, market, block),
                                    resolve_market(adapter, config, market, block))
    if plan.rewind or plan.rediscover_reason is not None:
        raise DerivationUnavailable(f"market {market.key}: discovery searches again "
                                    f"({plan.rediscover_reason or 'a reorg below its cursor'})")
    # the market's own state is read once, while discovery searches the logs; the events'
    # search (it names the reserves' tokens) and the derivation both take it
    discovery, state = await both(
        discover_market(adapter, resolved, market, repo, block, plan, progress),
        deriver.read_state(adapter, resolved, block))
    progress(f"{market.key}: events", 0, 0)
    touched = await deriver.touched(adapter, resolved, state, prior.block + 1, block)
    stored = prior.markets[market.key].bases
    accounts = (touched | {account for _s, account in discovery.discovered}
                | {account for (_s, account), base in stored.items() if base == ALWAYS_READ})
    reread = [b for b in discovery.borrowers if b[1] in accounts]
    derive = {k: v for k, v in stored.items() if k[1] not in accounts}
    progress(f"{market.key}: read", 0, len(reread))
    derived = await deriver.read(adapter, resolved, state, reread, derive, block)
    derived = DerivedRead(derived.read, always_read_unverified(derived.bases, derived.read))
    progress(f"{market.key}: read", len(reread), len(reread))
    return _MarketStep(discovery, derived, len(derived.read.positions) - len(derive))


def always_read_unverified(bases: dict[BorrowerKey, str], read: MarketRead
                           ) -> dict[BorrowerKey, str]:
    """An account the protocol's own view contradicts is read every block: its derived
    position would have no such view to be checked against."""
    unverified = set(read.mirror_mismatches)
    if not unverified:  # the usual block: no copy of every base
        return bases
    return {k: ALWAYS_READ if k[1] in unverified else v for k, v in bases.items()}


async def _require_prior_on_chain(rpc: RpcClient, prior: PriorSnapshot) -> None:
    """The stored snapshot's block must still be the chain's: its events lead to this one."""
    if prior.block_hash is None or await block_hash(rpc, prior.block) != prior.block_hash:
        raise DerivationUnavailable(f"block {prior.block} of the stored snapshot is no longer "
                                    "on the chain (a reorg)")


def _deriver(derivers: Mapping[str, Deriver | None], market: MarketConfig) -> Deriver:
    deriver = derivers[market.key]
    if deriver is None:
        raise DerivationUnavailable(f"no derivation for protocol {market.protocol}")
    return deriver


def _one_chain(config: Config, markets: Sequence[MarketConfig]) -> ChainConfig:
    chains = {m.chain for m in markets}
    if len(chains) != 1:
        raise UsageError(f"one snapshot covers one chain; got markets of {sorted(chains)}")
    return config.chains[chains.pop()]


def _stored_hash(repo: Repository, outcome: SnapshotOutcome, markets: Sequence[MarketConfig]
                 ) -> str | None:
    hashes = {repo.scan_block_hashes(m.key).get(outcome.record.block) for m in markets}
    return hashes.pop() if len(hashes) == 1 else None



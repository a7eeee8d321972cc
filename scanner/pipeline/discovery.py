"""Which blocks to search for borrowers, so that no borrower is ever lost.

The stored discovery state of a market key is: the accounts seen so far, the cursor (last block
searched) and the market identity (chain, protocol, the market's first configured address -- an
Aave PoolAddressesProvider, a Comet, Morpho -- and the first block of the contiguous searched
range). Invariant: every Borrow log of that market in
[identity.searched_from_block, cursor] has been read into the known accounts.

    plan = await plan_discovery(rpc, repo, config, market, block)
    new = await adapter.discover_accounts(resolved, plan.from_block, block)   # unless None
    MarketScan(..., cursor_block=plan.cursor_after, identity=plan.identity_after)

1. the market must be the one the state was stored for (else: refuse, saying how)
2. start_block must not lie beyond the chain, nor after the scanned block (config error)
3. search from the cursor (minus the reorg lookback) when the stored range already covers
   start_block; from start_block again when it does not (start_block lowered, or an old
   database without identity)
4. the cursor only moves to blocks that were searched; the identity only widens
5. a reorg below the cursor (its stored hash no longer on the chain, reorg.py) rewinds the
   search to the fork point, and the cursor moves back to the scanned block
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from scanner.chain.logs import reorg_safe_start
from scanner.chain.rpc import RpcClient
from scanner.config import Config, MarketConfig
from scanner.domain import MarketIdentity
from scanner.errors import ConfigError
from scanner.pipeline.reorg import discovery_start
from scanner.protocols import protocol_spec
from scanner.store.repository import Repository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiscoveryPlan:
    """What this scan searches and what it may store afterwards."""

    from_block: int | None  # first block to search up to the scanned block; None: none
    cursor_after: int | None  # the cursor to store with the snapshot (None: leave it)
    identity_after: MarketIdentity | None  # the identity to store (None: leave it)
    rediscover_reason: str | None = None  # why the search starts again at start_block
    rewind: bool = False  # a reorg below the cursor: store cursor_after even if lower


def market_path(config: Config, market: MarketConfig) -> str:
    """`markets[i]` of this market, as config errors name keys."""
    return f"markets[{config.markets.index(market)}]"


def identity_key(market: MarketConfig) -> str:
    """The [[markets]] key whose address identifies the market: its protocol's first required
    address key, or for a protocol with none (Maker: `chainlog`, else `vat`) its first optional
    one the market sets."""
    spec = protocol_spec(market.protocol)
    keys = spec.address_keys or tuple(
        k for k in spec.optional_address_keys if k in market.addresses)
    return keys[0]


async def plan_discovery(
    rpc: RpcClient, repo: Repository, config: Config, market: MarketConfig, block: int
) -> DiscoveryPlan:
    """Read the stored state and the head, then plan (see `plan_search`)."""
    head = await rpc.block_number()
    chain = config.chains[market.chain]
    cursor_state = repo.get_cursor_state(market.key)
    plan = plan_search(
        market, chain.chain_id, market_path(config, market), head, block,
        None if cursor_state is None else cursor_state[0], repo.get_identity(market.key),
        chain.reorg_lookback_blocks,
    )
    if plan.rediscover_reason is not None:
        log.warning("%s: searching Borrow logs again from block %d: %s",
                    market.key, market.start_block, plan.rediscover_reason)
        return plan  # from start_block: a reorg below the cursor changes nothing searched
    if cursor_state is None:
        return plan
    begin = await discovery_start(rpc, cursor_state, repo.scan_block_hashes(market.key),
                                  market.start_block, chain.reorg_lookback_blocks)
    return rewound_plan(plan, begin.from_block, block) if begin.rewound else plan


def rewound_plan(plan: DiscoveryPlan, from_block: int, block: int) -> DiscoveryPlan:
    """After a reorg below the cursor: search from the fork point; the blocks searched on
    the old branch no longer count, so the cursor moves back to the scanned block."""
    return replace(plan, from_block=from_block if from_block <= block else None,
                   cursor_after=block, rewind=True)


def plan_search(
    market: MarketConfig, chain_id: int, path: str, head: int, block: int,
    cursor: int | None, stored: MarketIdentity | None, lookback_blocks: int,
) -> DiscoveryPlan:
    """Pure: the blocks to search at `block`, given the stored cursor and identity."""
    wanted = MarketIdentity(chain_id, market.protocol,
                            market.address(identity_key(market)), market.start_block)
    require_same_market(market, path, stored, wanted)
    require_start_in_chain(path, market.start_block, head, block)
    start = market.start_block
    if cursor is None:  # first scan of this key
        return DiscoveryPlan(start, block, wanted)
    if stored is None:  # a database from before identities: unknown where it started
        reason = "the database does not record where earlier searches started"
        return _rediscover(start, block, cursor, None, wanted, reason)
    if start < stored.searched_from_block:
        reason = (f"{path}.start_block is now {start}, earlier searches started at "
                  f"{stored.searched_from_block}")
        return _rediscover(start, block, cursor, stored, wanted, reason)
    # [searched_from, cursor] covers [start, cursor]: continue, re-reading the reorg lookback
    resume = max(start, reorg_safe_start(cursor, lookback_blocks))
    if resume > block:  # an older block, inside the searched range: the known accounts do
        return DiscoveryPlan(None, None, None)
    return DiscoveryPlan(resume, max(cursor, block), None)


def _rediscover(
    start: int, block: int, cursor: int, stored: MarketIdentity | None,
    wanted: MarketIdentity, reason: str,
) -> DiscoveryPlan:
    """Search [start, block] again. The searched range becomes [start, max(cursor, block)]
    only where that is contiguous: [start, block] joined to the old [from, cursor]."""
    if block >= cursor:
        return DiscoveryPlan(start, block, wanted, reason)
    joins = stored is not None and block + 1 >= stored.searched_from_block
    return DiscoveryPlan(start, None, wanted if joins else None, reason)


def require_same_market(
    market: MarketConfig, path: str, stored: MarketIdentity | None, wanted: MarketIdentity
) -> None:
    """The stored accounts of `market.key` belong to another market: refuse, saying how."""
    if stored is None:
        return
    for name, old, new in (
        (identity_key(market), stored.pool_addresses_provider,
         wanted.pool_addresses_provider),
        ("protocol", stored.protocol, wanted.protocol),
        ("chain id", stored.chain_id, wanted.chain_id),
    ):
        if str(old).lower() != str(new).lower():
            raise ConfigError(
                f"{path} ({market.key!r}): {name} is {new} but the scans stored under "
                f"{market.key!r} are of {old}: give this market a new key (the stored scans "
                "are kept), or restore the old value"
            )


def require_start_in_chain(path: str, start_block: int, head: int, block: int) -> None:
    if start_block > head:
        raise ConfigError(
            f"{path}.start_block {start_block} is beyond the chain head {head}: set it to "
            "the block the pool was deployed in"
        )
    if start_block > block:
        raise ConfigError(
            f"{path}.start_block {start_block} is after block {block}, the block to scan: "
            "scan a later block, or set start_block to the block the pool was deployed in"
        )

"""A stored snapshot's positions, read again from the chain at the snapshot's block.

The store keeps each position's level, values and seizable amount, not the protocol state a
liquidation's arithmetic needs (every reserve balance, Morpho shares, Comet principal, the
urn's ink and art). A cascade therefore reads every market of the snapshot again AT THE
SNAPSHOT'S BLOCK, exactly as the scan did, and checks that what it reads is what was stored
(`persist.require_same_positions`): a node that no longer serves that block's state (not an
archive node), or a reorg, fails the command (exit 75 or 65) -- no cascade from other data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from scanner.cascade.depth import DepthModel
from scanner.chain.pin import confirm_pinned, pin_block
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, Config
from scanner.domain import SnapshotRecord
from scanner.errors import ConfigError
from scanner.pipeline.persist import require_same_positions
from scanner.pipeline.scan import SnapshotOutcome, _no_progress, _read_market, compute_snapshot
from scanner.store.repository import Repository

# builds the market depth at the snapshot's block from the same node (scanner/cascade/depth*)
DepthFactory = Callable[[Config, ChainConfig, RpcClient, int], Awaitable[DepthModel]]


async def reread_snapshot(config: Config, repo: Repository, snapshot_id: int,
                          record: SnapshotRecord, depth_factory: DepthFactory
                          ) -> tuple[SnapshotOutcome, DepthModel]:
    """Every market of snapshot `snapshot_id` at its block, checked against the stored rows,
    and the market depth at the same block."""
    by_key = {m.key: m for m in config.markets}
    missing = [key for key in record.market_keys if key not in by_key]
    if missing:
        raise ConfigError(f"snapshot {snapshot_id} holds market {missing[0]}, which the config "
                          "no longer lists: restore its [[markets]] entry to replay it")
    chain = config.chains[record.chain]
    async with RpcClient.for_chain(chain) as rpc:
        await rpc.check_chain(chain.chain_id, chain.name)
        pinned = await pin_block(rpc, record.block)
        reads = [await _read_market(rpc, config, by_key[key], repo, record.block, _no_progress)
                 for key in record.market_keys]
        depth = await depth_factory(config, chain, rpc, record.block)
        await confirm_pinned(rpc, pinned)
    outcome = compute_snapshot(config, chain, record.block, reads)
    scan_ids = repo.scan_ids(snapshot_id)
    for market in outcome.markets:
        require_same_positions(repo, scan_ids[market.record.market_key], market, record.block)
    return outcome, depth

"""Where account discovery starts, and whether a reorg below the cursor forces a rewind.

The cursor stores the last searched block and its hash. When the chain now has another block
at that height, a reorg deeper than `confirmations` (and than the lookback) replaced blocks
whose Borrow logs were searched: discovery rewinds to the fork point, the newest stored block
(the cursor or a scan's pinned block) whose hash the chain still has, and searches again from
there, so a borrower who moved into a replacement block is found. Accounts found on the old
branch stay known: positions are read at the pinned block, so one without debt there drops
out of the snapshot, and none is ever counted twice (accounts are a set).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from scanner.chain.logs import reorg_safe_start
from scanner.chain.pin import block_hash
from scanner.chain.rpc import RpcClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiscoveryStart:
    from_block: int
    cursor: int | None  # the stored cursor block (None before the first scan)
    fork_block: int | None = None  # set when a reorg below the cursor was found

    @property
    def rewound(self) -> bool:
        return self.fork_block is not None


async def discovery_start(
    rpc: RpcClient,
    cursor: tuple[int, str | None] | None,
    anchors: Mapping[int, str],
    start_block: int,
    lookback_blocks: int,
) -> DiscoveryStart:
    """First block to search for accounts; `anchors` are stored block -> hash pairs."""
    if cursor is None:
        return DiscoveryStart(start_block, None)
    cursor_block, cursor_hash = cursor
    resume = max(start_block, reorg_safe_start(cursor_block, lookback_blocks))
    if cursor_hash is None or await block_hash(rpc, cursor_block) == cursor_hash:
        return DiscoveryStart(resume, cursor_block)
    fork = await find_fork_point(rpc, anchors, below=cursor_block)
    from_block = start_block if fork is None else max(start_block, fork + 1)
    log.warning("reorg below the discovery cursor: block %d changed; searching again from "
                "block %d (fork point %s)", cursor_block, from_block,
                "before every stored block" if fork is None else fork)
    return DiscoveryStart(from_block, cursor_block, fork if fork is not None else start_block - 1)


async def find_fork_point(rpc: RpcClient, anchors: Mapping[int, str], below: int) -> int | None:
    """Newest anchor block under `below` whose stored hash the chain still has, or None."""
    for block in sorted((b for b in anchors if b < below), reverse=True):
        if await block_hash(rpc, block) == anchors[block]:
            return block
    return None

"""The block a scan pins, by number and hash.

Every read names its block by number, so a scan is coherent only if that number meant the
same block from the first read to the last: the hash is read when the block is pinned and
again before anything is stored. A change means a reorg reached the pinned block (or the
nodes behind a load-balanced endpoint disagree); the scan then stops with exit 75 and
writes nothing, since its reads may mix two chains.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.chain.rpc import RpcClient
from scanner.errors import InconsistentDataError, RpcUnavailableError


class PinnedBlockChangedError(RpcUnavailableError):
    """The pinned block's hash changed while the scan was reading it."""


@dataclass(frozen=True)
class PinnedBlock:
    number: int
    hash: str  # 0x-prefixed, lowercase


async def block_hash(rpc: RpcClient, block: int) -> str | None:
    """Hash of `block` on the node's current chain, or None when the node has no such block."""
    header = await rpc.request("eth_getBlockByNumber", [hex(block), False])
    if header is None:
        return None
    value = header.get("hash") if isinstance(header, dict) else None
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise InconsistentDataError(f"block {block}: the node answered a header without a hash")
    return value.lower()


async def pin_block(rpc: RpcClient, block: int) -> PinnedBlock:
    found = await block_hash(rpc, block)
    if found is None:
        raise RpcUnavailableError(f"block {block} is not known to the node yet: retry later")
    return PinnedBlock(block, found)


async def confirm_pinned(rpc: RpcClient, pinned: PinnedBlock) -> None:
    """Raise PinnedBlockChangedError when `pinned` is no longer the block at its height."""
    now = await block_hash(rpc, pinned.number)
    if now != pinned.hash:
        before, after = distinct_abbreviations(pinned.hash, now or "none")
        raise PinnedBlockChangedError(
            f"block {pinned.number} changed during the scan ({before} -> {after}): a reorg, "
            "or the RPC's nodes disagree; nothing was written: retry later, or raise "
            "`confirmations`"
        )


SHORT_HASH_CHARS = 10  # "0x" and 8 hex digits, unless the two hashes share more


def distinct_abbreviations(first: str, second: str) -> tuple[str, str]:
    """Both strings cut to SHORT_HASH_CHARS, or to 4 characters past their common prefix when
    they share more: "0x9e2d55b0... -> 0x9e2d55b0..." told the reader nothing."""
    common = 0
    while common < min(len(first), len(second)) and first[common] == second[common]:
        common += 1
    keep = max(SHORT_HASH_CHARS, common + 4)

    def cut(text: str) -> str:
        return text if len(text) <= keep else text[:keep] + "..."

    return cut(first), cut(second)

"""eth_getLogs over long block ranges, in windows that adapt to the provider's limits.

1. walk the range in windows (start at `initial_window` blocks)
2. a window that succeeds doubles the next one (up to `max_window`)
3. a window the provider calls too big is split: at the range the provider suggests when its
   error carries one (Infura, Alchemy), else in two halves; so is a window the node keeps
   timing out on, once it has answered others (a few times in a row at most)
4. logs are de-duplicated on (transactionHash, logIndex), `removed` ones dropped, then sorted
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scanner.chain.rpc import RpcClient
from scanner.errors import InconsistentDataError, RpcUnavailableError

Topics = list[str | list[str] | None]
ProgressCallback = Callable[[int, int], None]  # (blocks done, blocks total)

# Provider texts for "this query is too big" (Infura, Alchemy, QuickNode, Ankr, geth, erigon...).
_TOO_LARGE_PATTERNS = (
    "too many",
    "too large",
    "too big",
    "block range",
    "limit exceeded",
    "limited to",
    "response size",
    "more than",
    "max results",
    "max range",
    "maximum block",
    "range limit",
    "query timeout",
)
MAX_UNAVAILABLE_SPLITS = 3
_SUGGESTED_RANGE_RE = re.compile(r"\[\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\]")


def confirmed_head(head: int, confirmations: int) -> int:
    """Newest block considered final: `confirmations` blocks behind the head (never below 0)."""
    return max(head - confirmations, 0)


def reorg_safe_start(cursor: int, lookback: int) -> int:
    """First block to (re)scan after a run that ended at `cursor` (the last block scanned).

    Re-reading the last `lookback` blocks catches logs a shallow reorg replaced."""
    return max(cursor + 1 - lookback, 0)


def is_too_large_error(error: Mapping[str, Any]) -> bool:
    # Codes vary by provider (-32005, -32602, -32600, -32000, ...): the text is what is stable.
    message = str(error.get("message", "")).lower()
    return any(pattern in message for pattern in _TOO_LARGE_PATTERNS)


def suggested_range(error: Mapping[str, Any]) -> tuple[int, int] | None:
    """The `[0xfrom, 0xto]` range a provider proposes in its error text, if any."""
    text = str(error.get("message", "")) + " " + str(error.get("data", ""))
    match = _SUGGESTED_RANGE_RE.search(text)
    if match is None:
        return None
    return int(match.group(1), 16), int(match.group(2), 16)


@dataclass
class _Walk:
    """Shared state of the workers: the cursor, the adaptive window, ranges to redo."""

    next_block: int
    to_block: int
    window: int
    max_window: int
    min_window: int
    redo: deque[tuple[int, int]] = field(default_factory=deque)
    done_blocks: int = 0
    successes: int = 0
    unavailable_in_a_row: int = 0  # windows split because the node gave up on them

    def take(self) -> tuple[int, int] | None:
        if self.redo:
            return self.redo.popleft()
        if self.next_block > self.to_block:
            return None
        start = self.next_block
        end = min(start + self.window - 1, self.to_block)
        self.next_block = end + 1
        return start, end

    def succeeded(self, start: int, end: int) -> None:
        self.done_blocks += end - start + 1
        self.window = min(self.window * 2, self.max_window)
        self.successes += 1
        self.unavailable_in_a_row = 0

    def may_split_unavailable(self, start: int, end: int) -> bool:
        """A node that answered before but now times out (after its retries) on one window is
        more likely choking on a heavy range than down: split, a few times in a row at most,
        so a node that really went away still fails fast."""
        if self.successes == 0 or end - start + 1 <= self.min_window:
            return False
        if self.unavailable_in_a_row >= MAX_UNAVAILABLE_SPLITS:
            return False
        self.unavailable_in_a_row += 1
        return True

    def split(self, start: int, end: int, hint: tuple[int, int] | None) -> None:
        if end - start + 1 <= self.min_window:
            raise RpcUnavailableError(
                f"eth_getLogs over blocks {start}-{end} is still too large for the provider: "
                "use an RPC endpoint with higher log limits"
            )
        if hint is not None and hint[0] == start and start <= hint[1] < end:
            cut = hint[1]  # the provider told us what fits
        else:
            cut = start + (end - start + 1) // 2 - 1
        self.window = max(cut - start + 1, self.min_window)
        self.redo.extendleft([(cut + 1, end), (start, cut)])


async def fetch_logs(
    rpc: RpcClient,
    addresses: Sequence[str],
    topics: Topics,
    from_block: int,
    to_block: int,
    *,
    initial_window: int = 2_000,
    max_window: int = 200_000,
    min_window: int = 1,
    concurrency: int = 4,
    on_progress: ProgressCallback | None = None,
) -> list[dict[str, Any]]:
    """All logs of `addresses` matching `topics` in [from_block, to_block], each exactly once,
    sorted by (blockNumber, logIndex)."""
    if from_block > to_block:
        return []
    walk = _Walk(from_block, to_block, max(initial_window, min_window), max_window, min_window)
    total = to_block - from_block + 1
    # (transactionHash, logIndex) -> (block, logIndex, log): the numbers parsed once
    found: dict[tuple[str, int], tuple[int, int, dict[str, Any]]] = {}
    base_filter: dict[str, Any] = {"address": list(addresses), "topics": topics}

    async def worker() -> None:
        while (window := walk.take()) is not None:
            start, end = window
            logs = await _window_logs(rpc, base_filter, start, end, walk)
            if logs is None:
                continue
            for block, log in logs:
                if not log.get("removed", False):
                    index = int(log["logIndex"], 16)
                    found[(str(log["transactionHash"]).lower(), index)] = (block, index, log)
            walk.succeeded(start, end)
            if on_progress is not None:
                on_progress(walk.done_blocks, total)

    await asyncio.gather(*(worker() for _ in range(max(concurrency, 1))))
    return [log for _block, _index, log in sorted(found.values(), key=_block_and_index)]


def _block_and_index(entry: tuple[int, int, dict[str, Any]]) -> tuple[int, int]:
    return entry[0], entry[1]


async def _window_logs(
    rpc: RpcClient, base_filter: Mapping[str, Any], start: int, end: int, walk: _Walk
) -> list[tuple[int, dict[str, Any]]] | None:
    """Logs of one window with their block numbers, or None after queueing its halves when
    the provider refused it."""
    filter_ = {**base_filter, "fromBlock": hex(start), "toBlock": hex(end)}
    try:
        (outcome,) = await rpc.batch_outcomes([("eth_getLogs", [filter_])])
    except RpcUnavailableError:
        if not walk.may_split_unavailable(start, end):
            raise
        walk.split(start, end, None)
        return None
    if outcome.error is not None:
        if not is_too_large_error(outcome.error):
            outcome.unwrap("eth_getLogs")
        walk.split(start, end, suggested_range(outcome.error))
        return None
    logs = outcome.result
    if not isinstance(logs, list):
        raise InconsistentDataError(f"eth_getLogs {start}-{end} returned {type(logs).__name__}")
    numbered = []
    for log in logs:
        block = int(log["blockNumber"], 16)
        if not start <= block <= end:
            raise InconsistentDataError(
                f"eth_getLogs {start}-{end} returned a log of block {block}: provider is broken"
            )
        numbered.append((block, log))
    return numbered

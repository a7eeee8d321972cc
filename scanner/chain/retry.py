"""Which RPC failures are transient, how long to wait before trying again, how retries count.

    policy = RetryPolicy(max_attempts=8, request_timeout_seconds=10.0)
    kind = transient_error_kind({"code": -32000, "message": "header not found"})  # HEADER
    delay_seconds = policy.delay_seconds(attempt=2, server_delay_seconds=None)

Transient kinds (each counted separately in RpcStats.retries_by_kind and logged with -v):
rate limits (HTTP 429, JSON-RPC rate-limit errors), HTTP 5xx, a request that got no answer
within `request_timeout_seconds` (abandoned, never waited on for long), a dropped or reset
connection, an answer that is not JSON or misses items of a batch, `header not found` (a node
behind a load balancer that has not seen the pinned block yet), and an `eth_call` answering
`0x` for a contract that has code at that block (a node without the block's state).
"""

from __future__ import annotations

import dataclasses
import email.utils
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RATE_LIMITED = "rate-limited"
HTTP_5XX = "http-5xx"
TIMEOUT = "timeout"
CONNECTION = "connection"
BAD_ANSWER = "bad-answer"
HEADER_NOT_FOUND = "header-not-found"
EMPTY_RESULT = "empty-0x"

RETRYABLE_HTTP_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 522, 524})
# JSON-RPC codes providers use for "slow down" (Infura -32005, Ankr/others 429, -32029, -32090).
RATE_LIMIT_CODES = frozenset({429, -32005, -32029, -32090})
_RATE_LIMIT_WORDS = ("rate limit", "too many requests", "limit exceeded", "capacity", "throughput")
# Texts that mean "the query is too big", which callers (logs) must split, not retry as is.
_TOO_LARGE_WORDS = ("result", "range", "response size", "block", "logs")
# A node that has not caught up with the pinned block yet (geth, erigon, nethermind, reth).
_LAGGING_NODE_WORDS = ("header not found", "unknown block", "block not found")
# A Retry-After longer than this is not waited for in full: the attempt budget stays bounded.
MAX_SERVER_DELAY_SECONDS = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most `max_attempts` per request, exponential backoff with jitter
    capped at `max_backoff_seconds`, each HTTP post abandoned after `request_timeout_seconds`."""

    max_attempts: int = 8
    backoff_base_seconds: float = 0.25
    max_backoff_seconds: float = 4.0
    request_timeout_seconds: float = 10.0
    # a contract with code that keeps answering 0x really answers nothing: accept it sooner
    empty_result_attempts: int = 4

    def with_overrides(self, max_attempts: int | None, request_timeout_seconds: float | None,
                       backoff_base_seconds: float | None) -> RetryPolicy:
        """This policy with the given fields replaced (None keeps a field)."""
        changes: dict[str, Any] = {
            "max_attempts": max_attempts, "request_timeout_seconds": request_timeout_seconds,
            "backoff_base_seconds": backoff_base_seconds}
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def delay_seconds(self, attempt: int, server_delay_seconds: float | None) -> float:
        """Wait before attempt `attempt + 1` (attempt counts from 0)."""
        if server_delay_seconds is not None:
            return min(server_delay_seconds, MAX_SERVER_DELAY_SECONDS)
        ceiling = min(self.backoff_base_seconds * 2**attempt, self.max_backoff_seconds)
        # Full-range jitter keeps many workers from retrying in lockstep.
        return float(ceiling * random.uniform(0.5, 1.0))


class Transient(Exception):
    """A transient failure of one HTTP post; `delay_seconds` is the server's Retry-After."""

    def __init__(self, kind: str, reason: str, delay_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.delay_seconds = delay_seconds


def http_status_kind(status: int) -> str:
    return RATE_LIMITED if status == 429 else HTTP_5XX


def is_rate_limit_error(error: Mapping[str, Any]) -> bool:
    """True for provider errors that mean "slow down" rather than "your query is wrong"."""
    code = error.get("code")
    message = str(error.get("message", "")).lower()
    if any(word in message for word in _TOO_LARGE_WORDS):
        return False
    return code in RATE_LIMIT_CODES or any(word in message for word in _RATE_LIMIT_WORDS)


def is_lagging_node_error(error: Mapping[str, Any]) -> bool:
    message = str(error.get("message", "")).lower()
    return any(word in message for word in _LAGGING_NODE_WORDS)


def transient_error_kind(error: Mapping[str, Any]) -> str | None:
    """The retry kind of a JSON-RPC error object, or None when retrying cannot help."""
    if is_lagging_node_error(error):
        return HEADER_NOT_FOUND
    if is_rate_limit_error(error):
        return RATE_LIMITED
    return None


def retry_after_seconds(header: str | None, now_epoch_seconds: float) -> float | None:
    """Parse Retry-After: delta seconds or an HTTP date; None when absent or unparseable."""
    if not header:
        return None
    value = header.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_epoch_seconds)

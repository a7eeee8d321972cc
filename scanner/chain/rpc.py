"""Async JSON-RPC client: one aiohttp session, batching, bounded concurrency, retries.

Every read names its block as an int; the head is learned in one place (`block_number`).
Transient failures (HTTP 429/5xx, timeouts, dropped connections, JSON-RPC rate-limit errors)
are retried with exponential backoff and jitter, honouring Retry-After; anything else is
raised at once so a failed read can never look like an empty answer.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
from eth_utils.address import to_checksum_address

from scanner.errors import ConfigError, InconsistentDataError, RpcUnavailableError
from scanner.redact import redact_url, register_url

RETRYABLE_HTTP_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 522, 524})
# JSON-RPC codes providers use for "slow down" (Infura -32005, Ankr/others 429, -32029, -32090).
RATE_LIMIT_CODES = frozenset({429, -32005, -32029, -32090})
_RATE_LIMIT_WORDS = ("rate limit", "too many requests", "limit exceeded", "capacity", "throughput")
# Texts that mean "the query is too big", which callers (logs) must split, not retry as is.
_TOO_LARGE_WORDS = ("result", "range", "response size", "block", "logs")
MAX_BACKOFF_SECONDS = 30.0


class RpcResponseError(InconsistentDataError):
    """The node answered a call with a JSON-RPC error object."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method} failed with JSON-RPC error {code}: {message}")
        self.method = method
        self.code = code
        self.rpc_message = message
        self.data = data


@dataclass(frozen=True)
class RpcOutcome:
    """One item of a batch: a result, or the node's error object (code, message, data)."""

    result: Any = None
    error: Mapping[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self, method: str) -> Any:
        if self.error is not None:
            raise RpcResponseError(
                method,
                int(self.error.get("code", 0)),
                str(self.error.get("message", "")),
                self.error.get("data"),
            )
        return self.result


@dataclass
class RpcStats:
    """Counters for benchmarks: JSON-RPC calls, HTTP posts, retries, planned backoff."""

    requests: int = 0
    http_posts: int = 0
    retries: int = 0
    backoff_seconds: float = 0.0


class _Retryable(Exception):
    """A transient failure; `delay_seconds` is the server's Retry-After when it sent one."""

    def __init__(self, reason: str, delay_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


def is_rate_limit_error(error: Mapping[str, Any]) -> bool:
    """True for provider errors that mean "slow down" rather than "your query is wrong"."""
    code = error.get("code")
    message = str(error.get("message", "")).lower()
    if any(word in message for word in _TOO_LARGE_WORDS):
        return False
    return code in RATE_LIMIT_CODES or any(word in message for word in _RATE_LIMIT_WORDS)


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


def _hex_to_bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InconsistentDataError(f"{what}: expected 0x-hex, got {value!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise InconsistentDataError(f"{what}: invalid hex {value[:20]!r}") from exc


class RpcClient:
    """Async JSON-RPC over one HTTP session. Use as `async with RpcClient(url) as rpc:`."""

    def __init__(
        self,
        url: str,
        *,
        max_concurrency: int = 8,
        max_batch_size: int = 100,
        max_retries: int = 6,
        timeout_seconds: float = 30.0,
        backoff_base_seconds: float = 0.25,
    ) -> None:
        self.url = url
        register_url(url)  # whatever message ends up quoting it, its key is scrubbed
        self.max_batch_size = max_batch_size
        self.max_retries = max_retries
        self.timeout_seconds = timeout_seconds
        self.backoff_base_seconds = backoff_base_seconds
        self.stats = RpcStats()
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RpcClient:
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        self._session = aiohttp.ClientSession(timeout=timeout)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- transport ------------------------------------------------------------------------

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One call; a JSON-RPC error raises RpcResponseError."""
        return (await self.batch_outcomes([(method, list(params))]))[0].unwrap(method)

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Results in order; the first item error raises RpcResponseError naming its method."""
        outcomes = await self.batch_outcomes(calls)
        return [outcome.unwrap(call[0]) for outcome, call in zip(outcomes, calls, strict=True)]

    async def batch_outcomes(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[RpcOutcome]:
        """Per-item results or errors, in order; chunks of max_batch_size run concurrently."""
        size = self.max_batch_size
        chunks = [calls[i : i + size] for i in range(0, len(calls), size)]
        results = await asyncio.gather(*(self._send_chunk(chunk) for chunk in chunks))
        return [outcome for chunk_result in results for outcome in chunk_result]

    async def _send_chunk(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[RpcOutcome]:
        """Send one chunk; retry only the items (or whole posts) that failed transiently."""
        outcomes: list[RpcOutcome | None] = [None] * len(calls)
        pending = list(range(len(calls)))
        last_error = "no attempt made"
        for attempt in range(self.max_retries):
            if attempt:
                self.stats.retries += 1
            try:
                answered = await self._post([calls[i] for i in pending])
            except _Retryable as exc:
                last_error = str(exc)
                await self._backoff(attempt, exc.delay_seconds)
                continue
            still_pending = []
            for index, outcome in zip(pending, answered, strict=True):
                if outcome.error is not None and is_rate_limit_error(outcome.error):
                    still_pending.append(index)
                    last_error = f"JSON-RPC {outcome.error.get('message')}"
                else:
                    outcomes[index] = outcome
            pending = still_pending
            if not pending:
                return [o for o in outcomes if o is not None]
            await self._backoff(attempt, None)
        raise RpcUnavailableError(
            f"RPC {redact_url(self.url)} unavailable after {self.max_retries} attempts: "
            f"{last_error}; retry later"
        )

    async def _backoff(self, attempt: int, server_delay_seconds: float | None) -> None:
        if attempt + 1 >= self.max_retries:
            return  # no further attempt: do not sleep before giving up
        if server_delay_seconds is not None:
            delay = min(server_delay_seconds, MAX_BACKOFF_SECONDS)
        else:
            # Full-range jitter keeps many workers from retrying in lockstep.
            ceiling = min(self.backoff_base_seconds * 2**attempt, MAX_BACKOFF_SECONDS)
            delay = ceiling * random.uniform(0.5, 1.0)
        self.stats.backoff_seconds += delay
        await asyncio.sleep(delay)

    async def _post(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[RpcOutcome]:
        if self._session is None:
            raise RuntimeError("RpcClient used outside `async with`")
        ids = [next(self._ids) for _ in calls]
        body = [
            {"jsonrpc": "2.0", "id": id_, "method": method, "params": list(params)}
            for id_, (method, params) in zip(ids, calls, strict=True)
        ]
        async with self._semaphore:
            self.stats.http_posts += 1
            self.stats.requests += len(calls)
            payload = await self._http_json(body)
        return _match_responses(payload, ids, calls)

    async def _http_json(self, body: list[dict[str, Any]]) -> Any:
        assert self._session is not None  # checked by the caller
        try:
            async with self._session.post(self.url, json=body) as response:
                if response.status in RETRYABLE_HTTP_STATUS:
                    delay = retry_after_seconds(response.headers.get("Retry-After"), time.time())
                    raise _Retryable(f"HTTP {response.status}", delay)
                if response.status >= 400:
                    raise RpcUnavailableError(
                        f"RPC {redact_url(self.url)} answered HTTP {response.status}: "
                        "check rpc_url and its API key"
                    )
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        try:
            return json.loads(text)
        except ValueError as exc:
            # Proxies in front of nodes sometimes answer 200 with an HTML error page.
            raise _Retryable(f"non-JSON answer {text[:60]!r}") from exc

    # --- reads (every one pinned to a block number) ----------------------------------------

    async def chain_id(self) -> int:
        return int(await self.request("eth_chainId"), 16)

    async def block_number(self) -> int:
        """The node's head ("latest"): the only place liqscan asks for an unpinned block."""
        return int(await self.request("eth_blockNumber"), 16)

    async def get_block(self, block: int) -> dict[str, Any]:
        """Header of `block` with int `number`/`timestamp` and hex `hash`."""
        raw = await self.request("eth_getBlockByNumber", [hex(block), False])
        if raw is None:
            raise InconsistentDataError(
                f"block {block} not found on {redact_url(self.url)}: is the node synced?"
            )
        return {**raw, "number": int(raw["number"], 16), "timestamp": int(raw["timestamp"], 16)}

    async def eth_call(self, to: str, data: bytes, block: int, gas: int | None = None) -> bytes:
        call: dict[str, Any] = {"to": to, "data": "0x" + data.hex()}
        if gas is not None:
            call["gas"] = hex(gas)
        result = await self.request("eth_call", [call, hex(block)])
        return _hex_to_bytes(result, f"eth_call to {to} at block {block}")

    async def get_code(self, address: str, block: int) -> bytes:
        result = await self.request("eth_getCode", [address, hex(block)])
        return _hex_to_bytes(result, f"eth_getCode {address} at block {block}")

    async def get_logs(self, filter_: Mapping[str, Any]) -> list[dict[str, Any]]:
        result = await self.request("eth_getLogs", [dict(filter_)])
        if not isinstance(result, list):
            raise InconsistentDataError(f"eth_getLogs returned {type(result).__name__}, not a list")
        return result

    # --- checks run once at start ----------------------------------------------------------

    async def check_chain(self, expected_chain_id: int, chain_key: str = "chain") -> None:
        actual = await self.chain_id()
        if actual != expected_chain_id:
            raise ConfigError(
                f"chains.{chain_key}.chain_id is {expected_chain_id} but "
                f"{redact_url(self.url)} serves chain {actual}: fix chain_id or rpc_url"
            )

    async def require_code(self, addresses: Mapping[str, str], block: int) -> None:
        """Raise ConfigError for the first named address without contract code at `block`."""
        names = list(addresses)
        codes = await self.batch(
            [("eth_getCode", [addresses[name], hex(block)]) for name in names]
        )
        chain_id: int | None = None
        for name, code in zip(names, codes, strict=True):
            if _hex_to_bytes(code, f"eth_getCode {name}"):
                continue
            chain_id = chain_id if chain_id is not None else await self.chain_id()
            address = to_checksum_address(addresses[name])
            raise ConfigError(
                f"{name} {address} has no code on chain {chain_id} at block {block}: "
                "check the address"
            )


def _match_responses(
    payload: Any, ids: Sequence[int], calls: Sequence[tuple[str, Sequence[Any]]]
) -> list[RpcOutcome]:
    """Pair answers to requests by id (providers may reorder a batch)."""
    if isinstance(payload, dict):
        # A single error object for the whole batch (e.g. batch too large, or rate limited).
        error = payload.get("error")
        if isinstance(error, dict):
            return [RpcOutcome(error=error) for _ in ids]
        payload = [payload]
    if not isinstance(payload, list):
        raise _Retryable(f"unexpected JSON-RPC answer {str(payload)[:60]!r}")
    by_id = {item.get("id"): item for item in payload if isinstance(item, dict)}
    outcomes = []
    for id_, (method, _params) in zip(ids, calls, strict=True):
        item = by_id.get(id_)
        if item is None:
            raise _Retryable(f"answer to {method} (id {id_}) missing from batch response")
        if "error" in item and item["error"] is not None:
            outcomes.append(RpcOutcome(error=item["error"]))
        else:
            outcomes.append(RpcOutcome(result=item.get("result")))
    return outcomes

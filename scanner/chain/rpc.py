"""Async JSON-RPC client: one aiohttp session, batching, bounded concurrency, retries.

Every read names its block as an int; the head is learned in one place (`block_number`).
Transient failures (HTTP 429/5xx, timeouts, dropped connections, JSON-RPC rate-limit errors)
are retried with exponential backoff and jitter, honouring Retry-After; anything else is
raised at once so a failed read can never look like an empty answer.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp
from eth_utils.address import to_checksum_address

from scanner.chain import jsonwire
from scanner.chain.retry import (
    BAD_ANSWER,
    CONNECTION,
    EMPTY_RESULT,
    RETRYABLE_HTTP_STATUS,
    TIMEOUT,
    RetryPolicy,
    Transient,
    http_status_kind,
    retry_after_seconds,
    transient_error_kind,
)
from scanner.config import ChainConfig
from scanner.errors import ConfigError, InconsistentDataError, RpcUnavailableError
from scanner.redact import redact_url, register_url, scrub

log = logging.getLogger(__name__)
_JSON_HEADERS = {"Content-Type": "application/json"}
# A call whose answer must be checked against the contract's code before it is believed.
_EMPTY_RESULT = "0x"


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
    retries_by_kind: dict[str, int] = field(default_factory=dict)

    def count_retry(self, kind: str, delay_seconds: float) -> None:
        self.retries += 1
        self.backoff_seconds += delay_seconds
        self.retries_by_kind[kind] = self.retries_by_kind.get(kind, 0) + 1


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
        max_retries: int | None = None,
        timeout_seconds: float | None = None,
        backoff_base_seconds: float | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.url = url
        register_url(url)  # whatever message ends up quoting it, its key is scrubbed
        self.max_batch_size = max_batch_size
        self.policy = (policy or RetryPolicy()).with_overrides(
            max_retries, timeout_seconds, backoff_base_seconds)
        self.stats = RpcStats()
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._code_at: dict[tuple[str, str], bool] = {}  # (address, block) -> has code

    @classmethod
    def for_chain(cls, chain: ChainConfig) -> RpcClient:
        """A client with the chain's limits, timeout and retry budget from config.toml."""
        policy = RetryPolicy(max_attempts=chain.max_retries,
                             request_timeout_seconds=chain.request_timeout_seconds)
        return cls(chain.require_rpc_url(), max_concurrency=chain.max_concurrency,
                   max_batch_size=chain.max_batch_size, policy=policy)

    @property
    def max_retries(self) -> int:
        return self.policy.max_attempts

    async def __aenter__(self) -> RpcClient:
        # Each post has its own deadline: a held connection is abandoned and retried.
        timeout = aiohttp.ClientTimeout(total=self.policy.request_timeout_seconds)
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
        empty_answers: dict[int, int] = {}  # index -> times answered 0x by a contract with code
        last_error = "no attempt made"
        for attempt in range(self.policy.max_attempts):
            try:
                answered = await self._post([calls[i] for i in pending])
            except Transient as exc:
                last_error = str(exc)
                await self._backoff(attempt, exc.kind, last_error, exc.delay_seconds)
                continue
            retry_kind, pending, last = await self._sort_answers(calls, pending, answered,
                                                                 outcomes, empty_answers)
            if not pending:
                return [o for o in outcomes if o is not None]
            last_error = last
            await self._backoff(attempt, retry_kind, last_error, None)
        raise RpcUnavailableError(
            f"RPC {redact_url(self.url)} unavailable after {self.policy.max_attempts} attempts: "
            f"{self._redact(last_error)}; retry later"
        )

    async def _sort_answers(
        self, calls: Sequence[tuple[str, Sequence[Any]]], pending: list[int],
        answered: list[RpcOutcome], outcomes: list[RpcOutcome | None],
        empty_answers: dict[int, int],
    ) -> tuple[str, list[int], str]:
        """Keep final answers in `outcomes`; return (a retry kind, indexes to retry, why)."""
        still_pending: list[int] = []
        kind, reason = "", ""
        suspects: list[int] = []
        for index, outcome in zip(pending, answered, strict=True):
            error_kind = transient_error_kind(outcome.error) if outcome.error else None
            if error_kind is not None:
                still_pending.append(index)
                kind, reason = error_kind, f"JSON-RPC {(outcome.error or {}).get('message')}"
            elif _is_empty_call(calls[index], outcome):
                suspects.append(index)
            else:
                outcomes[index] = outcome
        present = await self._have_code([calls[i] for i in suspects])
        for index, has_code in zip(suspects, present, strict=True):
            empty_answers[index] = empty_answers.get(index, 0) + 1
            # 0x from an address without code is the truth; from a contract with code it is a
            # node fault, unless the contract keeps answering nothing
            if has_code and empty_answers[index] < self.policy.empty_result_attempts:
                still_pending.append(index)
                kind = kind or EMPTY_RESULT
                reason = reason or f"eth_call to {calls[index][1][0].get('to')} answered 0x"
            else:
                outcomes[index] = RpcOutcome(result=_EMPTY_RESULT)
        return kind, sorted(still_pending), reason

    async def _have_code(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[bool]:
        """For eth_calls: does the target have code at the call's block? (cached)"""
        keys = [(str(params[0].get("to", "")).lower(), str(params[1]) if len(params) > 1
                 else "latest") for _method, params in calls]
        unknown = sorted({key for key in keys if key not in self._code_at})
        if unknown:
            codes = await self.batch([("eth_getCode", [address, block])
                                      for address, block in unknown])
            for key, code in zip(unknown, codes, strict=True):
                self._code_at[key] = bool(_hex_to_bytes(code, f"eth_getCode {key[0]}"))
        return [self._code_at[key] for key in keys]

    async def _backoff(self, attempt: int, kind: str, reason: str,
                       server_delay_seconds: float | None) -> None:
        if attempt + 1 >= self.policy.max_attempts:
            return  # no further attempt: do not sleep before giving up
        delay = self.policy.delay_seconds(attempt, server_delay_seconds)
        self.stats.count_retry(kind, delay)
        log.info("RPC retry %d/%d (%s: %s), backoff %.2f s", attempt + 1,
                 self.policy.max_attempts - 1, kind, self._redact(reason), delay)
        await asyncio.sleep(delay)

    def _redact(self, text: str) -> str:
        return scrub(text.replace(self.url, redact_url(self.url)))

    async def _post(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[RpcOutcome]:
        if self._session is None:
            raise RuntimeError("RpcClient used outside `async with`")
        ids = [next(self._ids) for _ in calls]
        body = jsonwire.dumps([
            {"jsonrpc": "2.0", "id": id_, "method": method, "params": list(params)}
            for id_, (method, params) in zip(ids, calls, strict=True)
        ])
        async with self._semaphore:
            self.stats.http_posts += 1
            self.stats.requests += len(calls)
            payload = await self._http_post(body)
        return _match_responses(payload, ids, calls)

    async def _http_post(self, body: bytes) -> Any:
        """Post one JSON body (the one place a post leaves the client); its parsed answer."""
        assert self._session is not None  # checked by the caller
        try:
            async with self._session.post(self.url, data=body, headers=_JSON_HEADERS
                                          ) as response:
                if response.status in RETRYABLE_HTTP_STATUS:
                    delay = retry_after_seconds(response.headers.get("Retry-After"), time.time())
                    raise Transient(http_status_kind(response.status),
                                    f"HTTP {response.status}", delay)
                if response.status >= 400:
                    raise RpcUnavailableError(
                        f"RPC {redact_url(self.url)} answered HTTP {response.status}: "
                        "check rpc_url and its API key"
                    )
                raw = await response.read()
        except TimeoutError as exc:
            raise Transient(TIMEOUT, f"no answer within {self.policy.request_timeout_seconds:g} s"
                            ) from exc
        except (aiohttp.TooManyRedirects, aiohttp.RedirectClientError) as exc:
            # a redirect loop (or to a place that is not HTTP) answers the same every time
            raise RpcUnavailableError(
                f"RPC {redact_url(self.url)} answers with redirects that lead to no node "
                f"({type(exc).__name__}): check rpc_url"
            ) from exc
        except aiohttp.ClientError as exc:
            raise Transient(CONNECTION, f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        try:
            return jsonwire.loads(raw)
        except ValueError as exc:  # UnicodeDecodeError too: bytes that are no text
            # Proxies in front of nodes sometimes answer 200 with an HTML error page, or cut
            # an answer short.
            text = raw[:60].decode("utf-8", "replace")
            raise Transient(BAD_ANSWER, f"non-JSON answer {text!r}") from exc

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
        raise Transient(BAD_ANSWER, f"unexpected JSON-RPC answer {str(payload)[:60]!r}")
    by_id = {item.get("id"): item for item in payload if isinstance(item, dict)}
    outcomes = []
    for id_, (method, _params) in zip(ids, calls, strict=True):
        item = by_id.get(id_)
        if item is None:
            raise Transient(BAD_ANSWER, f"answer to {method} (id {id_}) missing from a batch")
        if "error" in item and item["error"] is not None:
            outcomes.append(RpcOutcome(error=item["error"]))
        else:
            outcomes.append(RpcOutcome(result=item.get("result")))
    return outcomes


def _is_empty_call(call: tuple[str, Sequence[Any]], outcome: RpcOutcome) -> bool:
    method, params = call
    return (method == "eth_call" and outcome.result == _EMPTY_RESULT and bool(params)
            and isinstance(params[0], Mapping))

"""Many contract reads at one pinned block: Multicall3 `aggregate3`, cut into gas-capped batches.

Each batch is one `eth_call` with an explicit `gas` (after Osaka, EIP-7825 caps a transaction
at 2**24 gas, and some nodes reject an eth_call without one). Batches go out together as one
JSON-RPC batch. Where Multicall3 has no code at the block (old blocks, odd chains), the same
calls go out as a plain JSON-RPC batch of eth_calls and give the same results.
"""

from __future__ import annotations

import weakref
from bisect import bisect_right
from collections.abc import Sequence
from functools import partial
from itertools import accumulate
from typing import Any, NamedTuple

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError

from scanner.chain.fastabi import decode_aggregate3_items, encode_aggregate3_items
from scanner.chain.rpc import RpcClient, RpcOutcome
from scanner.errors import InconsistentDataError

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
AGGREGATE3_SELECTOR = bytes.fromhex("82ad56cb")
OSAKA_TX_GAS_CAP = 2**24
# What aggregate3 itself spends per sub-call (loop, CALL base cost, copying the result).
_PER_CALL_OVERHEAD_GAS = 5_000
_BATCH_OVERHEAD_GAS = 50_000

# Lowest block at which we saw code at a multicall address, per client: Multicall3 cannot
# self-destruct, so code seen at block b is there at every later block.
_code_seen_from: weakref.WeakKeyDictionary[RpcClient, dict[str, int]] = (
    weakref.WeakKeyDictionary()
)


# Tuples, not dataclasses: a snapshot makes ~80,000 of each, and a frozen dataclass's
# __init__ (one object.__setattr__ per field) cost more than the slicing that decodes them.
class Call(NamedTuple):
    target: str
    data: bytes
    allow_failure: bool = False
    gas_estimate: int = 100_000


class CallResult(NamedTuple):
    success: bool
    data: bytes


def require_data(result: CallResult, what: str) -> bytes:
    """Return data of a call that must succeed with data; raise otherwise.

    A call to an address without code "succeeds" with empty data: decoding that as zeros
    would turn a wrong address into an account with no debt."""
    if not result.success:
        raise InconsistentDataError(f"{what} reverted (0x{result.data[:36].hex()})")
    if not result.data:
        raise InconsistentDataError(
            f"{what} returned no data: is there a contract at that address at this block?"
        )
    return result.data


def plan_batches(
    calls: Sequence[Call], gas_limit_per_batch: int, max_calls_per_batch: int
) -> list[range]:
    """Cut `calls` (in order) into index ranges whose estimated gas stays under the cap
    (a batch holds at least one call, however costly)."""
    # Running totals of the calls' costs, then one bisection per batch: a snapshot plans
    # ~70,000 calls into ~150 batches.
    spent = [0, *accumulate(c.gas_estimate + _PER_CALL_OVERHEAD_GAS for c in calls)]
    budget = gas_limit_per_batch - _BATCH_OVERHEAD_GAS
    batches: list[range] = []
    start = 0
    while start < len(calls):
        fits = bisect_right(spent, spent[start] + budget, start + 1) - 1  # calls [start, fits)
        end = max(start + 1, min(fits, start + max_calls_per_batch))
        batches.append(range(start, end))
        start = end
    return batches


def encode_aggregate3(calls: Sequence[Call]) -> bytes:
    items = [(call.target, call.allow_failure, call.data) for call in calls]
    fast = encode_aggregate3_items(items)  # the usual case, built directly (fastabi.py)
    if fast is not None:
        return AGGREGATE3_SELECTOR + fast
    return AGGREGATE3_SELECTOR + encode(["(address,bool,bytes)[]"], [items])


def decode_aggregate3(data: bytes, expected: int) -> list[CallResult]:
    fast = decode_aggregate3_items(data)  # sliced directly
    items: list[tuple[bool, bytes]] | None = fast
    if items is None:  # short, odd or non-canonical: eth_abi decides
        try:
            (items,) = decode(["(bool,bytes)[]"], data)
        except DecodingError as exc:
            raise InconsistentDataError(
                f"aggregate3 returned undecodable data ({len(data)} bytes)"
            ) from exc
    if len(items) != expected:
        raise InconsistentDataError(
            f"aggregate3 returned {len(items)} results for {expected} calls"
        )
    if fast is not None:  # already (bool, bytes) pairs: made CallResults without a call each
        return list(map(_call_result, fast))
    return [CallResult(success=bool(ok), data=bytes(ret)) for ok, ret in items]


_call_result = partial(tuple.__new__, CallResult)


async def aggregate3(
    rpc: RpcClient,
    calls: Sequence[Call],
    block: int,
    *,
    gas_limit_per_batch: int = 15_000_000,
    max_calls_per_batch: int = 500,
    multicall_address: str = MULTICALL3_ADDRESS,
    use_multicall: bool = True,
) -> list[CallResult]:
    """Run `calls` at `block`; results in the same order.

    A failing call with allow_failure=False raises InconsistentDataError naming its target."""
    if not calls:
        return []
    if use_multicall and await _has_multicall(rpc, multicall_address, block):
        return await _via_multicall(
            rpc, calls, block, gas_limit_per_batch, max_calls_per_batch, multicall_address
        )
    return await _via_plain_batch(rpc, calls, block, gas_limit_per_batch)


async def _has_multicall(rpc: RpcClient, address: str, block: int) -> bool:
    seen = _code_seen_from.setdefault(rpc, {})
    key = address.lower()
    if key in seen and block >= seen[key]:
        return True
    if not await rpc.get_code(address, block):
        return False
    seen[key] = min(block, seen.get(key, block))
    return True


async def _via_multicall(
    rpc: RpcClient,
    calls: Sequence[Call],
    block: int,
    gas_limit: int,
    max_calls: int,
    address: str,
) -> list[CallResult]:
    gas = min(gas_limit, OSAKA_TX_GAS_CAP)
    batches = plan_batches(calls, gas, max_calls)
    # batches are contiguous ranges: slices, not lists built item by item
    requests = [_eth_call_request(address, encode_aggregate3(calls[b.start:b.stop]), block, gas)
                for b in batches]
    outcomes = await rpc.batch_outcomes(requests)
    results: list[CallResult] = []
    for batch, outcome in zip(batches, outcomes, strict=True):
        chunk = calls[batch.start:batch.stop]
        if outcome.ok:
            data = _result_bytes(outcome, "aggregate3")
            results.extend(decode_aggregate3(data, len(chunk)))
        elif len(chunk) > 1:
            # Gas estimates are guesses (real oracle adapters cost more than ours): a batch
            # that runs out of gas, or that a provider refuses, is retried in halves.
            half = len(chunk) // 2
            for part in (chunk[:half], chunk[half:]):
                results.extend(await _via_multicall(rpc, part, block, gas, len(part), address))
        elif _is_revert(outcome):
            raise await _name_failed_call(rpc, chunk, block, gas, address, outcome)
        else:
            outcome.unwrap("eth_call(aggregate3)")
    return results


async def _name_failed_call(
    rpc: RpcClient,
    chunk: Sequence[Call],
    block: int,
    gas_limit: int,
    address: str,
    outcome: RpcOutcome,
) -> InconsistentDataError:
    """Re-run a reverted batch with every failure allowed, to say which call broke it."""
    relaxed = [Call(c.target, c.data, True, c.gas_estimate) for c in chunk]
    request = _eth_call_request(address, encode_aggregate3(relaxed), block, gas_limit)
    (retry,) = await rpc.batch_outcomes([request])
    if retry.ok:
        for call, result in zip(chunk, decode_aggregate3(_result_bytes(retry, "aggregate3"),
                                                         len(chunk)), strict=True):
            if not call.allow_failure and not result.success:
                return _call_failed(call, block, result.data)
    message = (outcome.error or {}).get("message", "")
    return InconsistentDataError(
        f"aggregate3 batch of {len(chunk)} calls reverted at block {block}: {message}"
    )


async def _via_plain_batch(
    rpc: RpcClient, calls: Sequence[Call], block: int, gas_limit: int
) -> list[CallResult]:
    requests = [
        _eth_call_request(c.target, c.data, block, min(gas_limit, OSAKA_TX_GAS_CAP)) for c in calls
    ]
    outcomes = await rpc.batch_outcomes(requests)
    results = []
    for call, outcome in zip(calls, outcomes, strict=True):
        if outcome.ok:
            results.append(CallResult(True, _result_bytes(outcome, f"eth_call to {call.target}")))
            continue
        if not _is_revert(outcome):
            outcome.unwrap(f"eth_call to {call.target}")
        revert_data = _revert_data(outcome)
        if not call.allow_failure:
            raise _call_failed(call, block, revert_data)
        results.append(CallResult(False, revert_data))
    return results


def _eth_call_request(to: str, data: bytes, block: int, gas: int) -> tuple[str, list[Any]]:
    return ("eth_call", [{"to": to, "data": "0x" + data.hex(), "gas": hex(gas)}, hex(block)])


def _call_failed(call: Call, block: int, revert_data: bytes) -> InconsistentDataError:
    selector = "0x" + call.data[:4].hex()
    return InconsistentDataError(
        f"call {selector} to {call.target} reverted at block {block} "
        f"(0x{revert_data[:36].hex()}): check the target address and block"
    )


def _result_bytes(outcome: RpcOutcome, what: str) -> bytes:
    value = outcome.result
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InconsistentDataError(f"{what}: expected 0x-hex result, got {value!r}")
    return bytes.fromhex(value[2:])


def _is_revert(outcome: RpcOutcome) -> bool:
    """Execution reverts (code 3 on geth/anvil, or 'revert' in the text), not node failures."""
    error = outcome.error or {}
    return error.get("code") == 3 or "revert" in str(error.get("message", "")).lower()


def _revert_data(outcome: RpcOutcome) -> bytes:
    data = (outcome.error or {}).get("data")
    if isinstance(data, dict):  # some nodes nest it: {"data": {"data": "0x..."}}
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    return b""

"""Reading a chain: async JSON-RPC, aggregate3 batching, windowed eth_getLogs, ABIs.

    async with RpcClient(url) as rpc:
        block = confirmed_head(await rpc.block_number(), confirmations)
        results = await aggregate3(rpc, [Call(pool, data)], block)
        logs = await fetch_logs(rpc, [pool], [[BORROW_TOPIC]], start_block, block)
"""

from scanner.chain.abi import (
    decode_event,
    decode_output,
    encode_call,
    event_topic,
    function_selector,
    load_abi,
)
from scanner.chain.logs import confirmed_head, fetch_logs, reorg_safe_start
from scanner.chain.multicall import (
    MULTICALL3_ADDRESS,
    Call,
    CallResult,
    aggregate3,
    require_data,
)
from scanner.chain.rpc import RpcClient, RpcOutcome, RpcResponseError, RpcStats

__all__ = [
    "MULTICALL3_ADDRESS",
    "Call",
    "CallResult",
    "RpcClient",
    "RpcOutcome",
    "RpcResponseError",
    "RpcStats",
    "aggregate3",
    "confirmed_head",
    "decode_event",
    "decode_output",
    "encode_call",
    "event_topic",
    "fetch_logs",
    "function_selector",
    "load_abi",
    "reorg_safe_start",
    "require_data",
]

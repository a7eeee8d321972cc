"""Maker urns that may hold debt, from the Vat's own anonymous LogNote events.

The deployed Vat notes every `frob` and `fork` as an anonymous event: topic0 is the function
selector left-aligned in 32 bytes, topics 1-3 the first three call arguments. Debt only enters
an urn through `frob` (topic 2: the urn `u`) or `fork` (topic 2: `src`, topic 3: `dst`), so
those two notes catch every urn, whether opened through the CdpManager (its UrnHandler
contracts), a proxy, or straight in the Vat. The CdpManager's `NewCdp` only adds vaults that
were opened and never used; their UrnHandlers are read with `urns(cdp)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eth_utils.address import to_checksum_address

from scanner.chain.abi import decode_output, encode_call, event_topic, function_selector, load_abi
from scanner.chain.logs import fetch_logs
from scanner.chain.multicall import Call, CallResult, require_data
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig
from scanner.domain import Address
from scanner.errors import InconsistentDataError

VAT = load_abi("maker", "Vat")
CDP_MANAGER = load_abi("maker", "CdpManager")
FROB_TOPIC = "0x" + function_selector(VAT, "frob").hex() + "00" * 28
FORK_TOPIC = "0x" + function_selector(VAT, "fork").hex() + "00" * 28
NEW_CDP_TOPIC = event_topic(CDP_MANAGER, "NewCdp")
# note topic0 -> indexes of the topics naming an urn
URN_TOPICS = {FROB_TOPIC: (2,), FORK_TOPIC: (2, 3)}

ProgressCallback = Callable[[int, int], None]


def ilk_topic(name: str) -> str:
    """An ilk name as the bytes32 topic the Vat notes it with ("ETH-A" -> 0x4554482d41...)."""
    raw = name.encode()
    if len(raw) > 32:
        raise InconsistentDataError(f"ilk {name!r} is longer than 32 bytes")
    return "0x" + raw.ljust(32, b"\0").hex()


def _topic_address(topic: str) -> Address:
    return str(to_checksum_address("0x" + str(topic)[-40:]))


async def discover_urns(
    rpc: RpcClient, chain: ChainConfig, vat: Address, cdp_manager: Address | None,
    ilks: Sequence[str] | None, from_block: int, to_block: int,
    on_progress: ProgressCallback | None = None,
) -> tuple[dict[Address, int], list[int]]:
    """Urns named by frob/fork notes (of `ilks`, or every ilk) -> first block, and the cdp ids
    of the CdpManager's NewCdp events in the range."""
    ilk_filter = [ilk_topic(i) for i in ilks] if ilks else None
    logs = await fetch_logs(
        rpc, [vat], [[FROB_TOPIC, FORK_TOPIC], ilk_filter] if ilk_filter else
        [[FROB_TOPIC, FORK_TOPIC]], from_block, to_block,
        initial_window=chain.logs_initial_window, max_window=chain.logs_max_window,
        on_progress=on_progress)
    first_seen: dict[Address, int] = {}
    for log in logs:
        topics = log["topics"]
        indexes = URN_TOPICS.get(str(topics[0]).lower()) if topics else None
        if indexes is None or len(topics) < 4:
            raise InconsistentDataError(f"unexpected Vat log {log}")
        for index in indexes:
            first_seen.setdefault(_topic_address(topics[index]), int(log["blockNumber"], 16))
    cdps: list[int] = []
    if cdp_manager is not None:
        cdp_logs = await fetch_logs(
            rpc, [cdp_manager], [[NEW_CDP_TOPIC]], from_block, to_block,
            initial_window=chain.logs_initial_window, max_window=chain.logs_max_window)
        cdps = [int(str(log["topics"][3]), 16) for log in cdp_logs]
    return first_seen, cdps


def cdp_urn_calls(cdp_manager: Address, cdps: Sequence[int]) -> list[Call]:
    return [Call(cdp_manager, encode_call(CDP_MANAGER, "urns", [cdp]), False, 30_000)
            for cdp in cdps]


def decode_addresses(results: Sequence[CallResult], what: str) -> list[Address]:
    return [str(to_checksum_address(decode_output(CDP_MANAGER, "urns",
                                                  require_data(r, what))[0]))
            for r in results]

"""What every protocol package provides: an adapter (chain reads) and a registry entry.

    adapter = spec.adapter(rpc, market, chain)
    resolved = await adapter.resolve(block)                 # contracts at the block
    found = await adapter.discover_accounts(resolved, start, block)   # account -> first block
    read = await adapter.read(resolved, accounts, block)    # MarketRead of neutral Positions

No math and no SQL in an adapter; every read names its block and a failed read raises.
The math is each Position's `state.curve(axis)` (scanner.domain.HealthCurve).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from scanner.chain.multicall import Call, CallResult, aggregate3
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, MarketConfig
from scanner.domain import Address, Asset, MarketRead, Position
from scanner.errors import InconsistentDataError
from scanner.protocols.spec import ProtocolSpec

ProgressCallback = Callable[[int, int], None]
__all__ = ["ChunkSink", "NotTheProtocolError", "ProgressCallback", "ProtocolAdapter",
           "ProtocolSpec", "StreamingAdapter"]


class NotTheProtocolError(InconsistentDataError):
    """The address under [[markets]] key `key` holds a contract that does not answer as the
    protocol's does (raised by `resolve`; the scan turns it into a config error naming the key)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


class ChainReader:
    """What every adapter holds -- its client, market and chain -- and its batched reads:
    Multicall3 `aggregate3` at one block, split by the chain's gas limit per batch."""

    def __init__(self, rpc: RpcClient, market: MarketConfig, chain: ChainConfig) -> None:
        self.rpc = rpc
        self.market = market
        self.chain = chain

    @property
    def _where(self) -> str:
        return f"markets.{self.market.key}"

    async def _calls(self, calls: Sequence[Call], block: int) -> list[CallResult]:
        return await aggregate3(self.rpc, calls, block,
                                gas_limit_per_batch=self.chain.gas_limit_per_batch,
                                multicall_address=self.chain.multicall_address)


class ProtocolAdapter(Protocol):
    """Reads one configured market of one protocol."""

    async def resolve(self, block: int) -> Any:
        """The market's contracts at `block`; raises ConfigError when an address has no code,
        and NotTheProtocolError (or InconsistentDataError) when it is another contract."""
        ...

    async def discover_accounts(
        self, resolved: Any, from_block: int, to_block: int,
        on_progress: ProgressCallback | None = None,
    ) -> dict[Address, int]:
        """Every account that may hold debt, from logs in [from_block, to_block]."""
        ...

    async def read(self, resolved: Any, accounts: Sequence[Address], block: int) -> MarketRead:
        """The market and every position with debt among `accounts`, at exactly `block`."""
        ...


Borrower = tuple[str, Address]  # (submarket, account); "" = every submarket of the entry


class ChunkSink(Protocol):
    """Receives a read's positions chunk by chunk, while later chunks are still in flight:
    (chunk index from 0, the market's assets, the chunk's positions in read order, those of
    its accounts whose mirror the protocol contradicts). The final MarketRead holds the same
    positions, in chunk order."""

    def __call__(self, index: int, assets: tuple[Asset, ...], positions: Sequence[Position],
                 mismatches: Sequence[Address]) -> None: ...


class StreamingAdapter(ProtocolAdapter, Protocol):
    """An adapter that can hand its positions over in chunks as they arrive (scan.py computes
    their liquidation levels meanwhile); `read` is `read_streaming` without a sink."""

    async def read_streaming(self, resolved: Any, accounts: Sequence[Address], block: int,
                             sink: ChunkSink | None = None) -> MarketRead:
        """As `read`, calling `sink` with each chunk of positions once it is read."""
        ...


class PrefetchingAdapter(ProtocolAdapter, Protocol):
    """An adapter that can start reading its market state while discovery searches the logs
    (scan.py); its read takes the state read ahead."""

    def prefetch_market(self, resolved: Any, block: int) -> None:
        """Start reading the market state of `resolved` at `block` now."""
        ...

    def drop_prefetch(self) -> None:
        """Cancel a state read ahead that nothing took (the scan failed before)."""
        ...


class SubmarketAdapter(ProtocolAdapter, Protocol):
    """An adapter whose entry spans many submarkets, discovered and read per submarket."""

    async def discover_borrowers(
        self, resolved: Any, from_block: int, to_block: int,
        on_progress: ProgressCallback | None = None,
    ) -> dict[Borrower, int]:
        """Every (submarket, account) that may hold debt -> first block seen."""
        ...

    async def read_borrowers(self, resolved: Any, borrowers: Sequence[Borrower], block: int
                             ) -> MarketRead:
        """Each borrower in its own submarket, at exactly `block`."""
        ...

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
from dataclasses import dataclass
from typing import Any, Protocol

from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, MarketConfig
from scanner.domain import Address, MarketRead
from scanner.errors import InconsistentDataError

ProgressCallback = Callable[[int, int], None]


class NotTheProtocolError(InconsistentDataError):
    """The address under [[markets]] key `key` holds a contract that does not answer as the
    protocol's does (raised by `resolve`; the scan turns it into a config error naming the key)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


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


@dataclass(frozen=True)
class ProtocolSpec:
    """A protocol package's registry entry (its `SPEC`)."""

    adapter: Callable[[RpcClient, MarketConfig, ChainConfig], ProtocolAdapter]
    address_keys: tuple[str, ...]  # required [[markets]] keys holding a contract address
    list_keys: tuple[str, ...] = ()  # optional [[markets]] keys holding lists of 0x-hex strings
    flag_keys: tuple[str, ...] = ()  # optional [[markets]] keys holding true/false (default false)
    optional_address_keys: tuple[str, ...] = ()  # optional [[markets]] keys holding an address
    text_list_keys: tuple[str, ...] = ()  # optional [[markets]] keys holding lists of names

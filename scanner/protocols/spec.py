"""A protocol package's registry entry (its `SPEC`), light enough to import with the config.

Reading the config checks each market's keys against its protocol's SPEC; the adapter (and
with it the chain client, aiohttp and eth_abi) is imported only when `adapter` is used, so a
read-only command such as `liqscan bands` never loads them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanner.protocols.base import ProtocolAdapter


@dataclass(frozen=True)
class ProtocolSpec:
    """`adapter_path`: "package.module:Class" of the adapter, called as
    `spec.adapter(rpc, market, chain)`."""

    adapter_path: str
    address_keys: tuple[str, ...]  # required [[markets]] keys holding a contract address
    list_keys: tuple[str, ...] = ()  # optional [[markets]] keys holding lists of 0x-hex strings
    flag_keys: tuple[str, ...] = ()  # optional [[markets]] keys holding true/false (default false)
    optional_address_keys: tuple[str, ...] = ()  # optional [[markets]] keys holding an address
    # One entry spans many submarkets (Morpho markets): the adapter also has
    # `discover_borrowers` -> {(submarket, account): block} and `read_borrowers(resolved,
    # [(submarket, account)], block)`, so each borrower is read in its own submarket only.
    per_submarket_discovery: bool = False
    text_list_keys: tuple[str, ...] = ()  # optional [[markets]] keys holding lists of names

    @property
    def adapter(self) -> Callable[..., ProtocolAdapter]:
        """The adapter class, imported on first use."""
        module, name = self.adapter_path.split(":")
        found: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return found

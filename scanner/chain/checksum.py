"""EIP-55 checksums for the addresses a scan reads by the thousand (log topics, accounts).

eth_utils' `to_checksum_address` validates and converts its input through several layers
(~50 us a call); a discovery of 10,000 borrowers spent ~0.5 s there. The checksum itself is
one keccak: computed here once per address (a borrower appears in many logs and reads), by
safe-pysha3's C keccak (~1 us; pycryptodome's, through eth_hash and ctypes, took ~10 us).
"""

from __future__ import annotations

import re
from functools import lru_cache

from scanner.eip55 import checksummed_hex
from scanner.errors import InconsistentDataError

_LOWER_HEX = re.compile(r"0x[0-9a-f]{40}")


def checksum_address(address: str) -> str:
    """`address` (0x + 40 hex digits, any case) in EIP-55 mixed case; anything else raises
    InconsistentDataError (a node answered something that is no address)."""
    lower = address.lower()
    if _LOWER_HEX.fullmatch(lower) is None:
        raise InconsistentDataError(f"{address[:60]!r} is not an address (0x + 40 hex digits)")
    return _checksummed(lower[2:])


def topic_address(topic: object) -> str:
    """The address in the low 20 bytes of a 32-byte log topic, checksummed."""
    return _topic_address(topic if type(topic) is str else str(topic))


@lru_cache(maxsize=1 << 17)  # a borrower's topic comes back in each of its logs
def _topic_address(text: str) -> str:
    if len(text) != 66 or text[:2] != "0x":
        raise InconsistentDataError(f"log topic {text[:70]!r} is not 32 bytes of 0x-hex")
    return checksum_address("0x" + text[-40:])


@lru_cache(maxsize=1 << 17)
def _checksummed(lower_hex: str) -> str:
    return checksummed_hex(lower_hex)

"""EIP-55 checksums for the addresses a scan reads by the thousand (log topics, accounts).

eth_utils' `to_checksum_address` validates and converts its input through several layers
(~50 us a call); a discovery of 10,000 borrowers spent ~0.5 s there. The checksum itself is
one keccak: computed here once per address (a borrower appears in many logs and reads).
"""

from __future__ import annotations

from functools import lru_cache

from eth_hash.auto import keccak

from scanner.errors import InconsistentDataError

_HEX_DIGITS = frozenset("0123456789abcdef")
_UPPER_WHEN = frozenset("89abcdef")  # digest nibbles >= 8 capitalise the letter beside them


def checksum_address(address: str) -> str:
    """`address` (0x + 40 hex digits, any case) in EIP-55 mixed case; anything else raises
    InconsistentDataError (a node answered something that is no address)."""
    lower = address.lower()
    if len(lower) != 42 or lower[:2] != "0x" or not _HEX_DIGITS.issuperset(lower[2:]):
        raise InconsistentDataError(f"{address[:60]!r} is not an address (0x + 40 hex digits)")
    return _checksummed(lower[2:])


def topic_address(topic: object) -> str:
    """The address in the low 20 bytes of a 32-byte log topic, checksummed."""
    text = str(topic)
    if len(text) != 66 or text[:2] != "0x":
        raise InconsistentDataError(f"log topic {text[:70]!r} is not 32 bytes of 0x-hex")
    return checksum_address("0x" + text[-40:])


@lru_cache(maxsize=1 << 17)
def _checksummed(lower_hex: str) -> str:
    digest = keccak(lower_hex.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if d in _UPPER_WHEN else c
                          for c, d in zip(lower_hex, digest, strict=False))

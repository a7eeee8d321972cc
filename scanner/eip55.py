"""EIP-55 checksummed addresses with keccak alone: config loading needs only this, and
eth_utils costs ~0.5 s of start-up (pydantic, eth_typing) that `liqscan bands` must not pay.
Keccak comes from pycryptodome directly: eth_hash (its usual front) imports
`importlib.metadata` and picks a backend, ~0.06 s more of every command's start-up."""

from __future__ import annotations


def to_checksum_address(address: str) -> str:
    """`address` (0x + 40 hex digits, any case) in EIP-55 mixed case."""
    from Crypto.Hash import keccak

    lower = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=lower.encode("ascii")).hexdigest()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c
                          for c, d in zip(lower, digest[:40], strict=True))


def is_checksum_address(address: str) -> bool:
    return to_checksum_address(address) == address

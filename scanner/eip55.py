"""EIP-55 checksummed addresses with keccak alone: config loading needs only this, and
eth_utils costs ~0.5 s of start-up (pydantic, eth_typing) that `liqscan bands` must not pay.
Keccak is safe-pysha3's C function (~1 us a hash): eth_hash, its usual front, imports
`importlib.metadata` to pick a backend (~0.06 s of every command's start-up) and reaches
pycryptodome through ctypes (~10 us a hash). The scan's hot path (scanner/chain/checksum.py)
uses the same function through its cache."""

from __future__ import annotations

from sha3 import keccak_256

# Per hex digit of the address: 0x20 where it is a letter (a-f), the bit that upper-cases it;
# per digit of the digest: 0x20 where it is >= 8. EIP-55 upper-cases a letter whose digest
# nibble is >= 8: the XOR of the address with the AND of the two masks.
_LETTERS = bytes.maketrans(b"0123456789abcdef", b"\0" * 10 + b"\x20" * 6)
_HIGH_NIBBLES = bytes.maketrans(b"0123456789abcdef", b"\0" * 8 + b"\x20" * 8)


def checksummed_hex(lower_hex: str) -> str:
    """0x + `lower_hex` (40 lower-case hex digits, no 0x) in EIP-55 mixed case."""
    text = lower_hex.encode("ascii")
    digest: bytes = keccak_256(text).hexdigest()[:40].encode("ascii")
    upper = (int.from_bytes(text.translate(_LETTERS), "big")
             & int.from_bytes(digest.translate(_HIGH_NIBBLES), "big"))
    return "0x" + (int.from_bytes(text, "big") ^ upper).to_bytes(40, "big").decode("ascii")


def to_checksum_address(address: str) -> str:
    """`address` (0x + 40 hex digits, any case) in EIP-55 mixed case."""
    return checksummed_hex(address[2:].lower())


def is_checksum_address(address: str) -> bool:
    return to_checksum_address(address) == address

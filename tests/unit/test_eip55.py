"""scanner.eip55 (used by config loading, to keep eth_utils out of start-up) agrees with
eth_utils on every address."""

from __future__ import annotations

from eth_utils.address import is_checksum_address, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from scanner import eip55


@given(st.binary(min_size=20, max_size=20), st.sampled_from(["lower", "upper", "checksum"]))
def test_checksum_is_eth_utils_checksum(raw: bytes, case: str) -> None:
    address = "0x" + raw.hex()
    written = {"lower": address, "upper": "0x" + raw.hex().upper(),
               "checksum": to_checksum_address(address)}[case]
    assert eip55.to_checksum_address(written) == to_checksum_address(written)
    assert eip55.is_checksum_address(written) == is_checksum_address(written)


def test_a_flipped_letter_is_a_bad_checksum() -> None:
    good = to_checksum_address("0x3f9c07ab3f9c07ab3f9c07ab3f9c07ab3f9c07ab")
    at = next(i for i, c in enumerate(good) if i > 1 and c.isalpha())
    bad = good[:at] + good[at].swapcase() + good[at + 1:]
    assert eip55.is_checksum_address(good)
    assert not eip55.is_checksum_address(bad) and not is_checksum_address(bad)

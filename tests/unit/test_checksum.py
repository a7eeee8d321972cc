"""The scan's own EIP-55 checksums (scanner/chain/checksum.py) equal eth_utils', and what is
no address raises a one-line InconsistentDataError instead of becoming an account."""

from __future__ import annotations

import pytest
from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from scanner.chain.checksum import checksum_address, topic_address
from scanner.errors import InconsistentDataError


@given(st.binary(min_size=20, max_size=20))
def test_checksums_equal_eth_utils(raw: bytes) -> None:
    expected = to_checksum_address("0x" + raw.hex())
    assert checksum_address("0x" + raw.hex()) == expected
    assert checksum_address(expected.upper().replace("0X", "0x")) == expected
    assert topic_address("0x" + bytes(12).hex() + raw.hex()) == expected


@pytest.mark.parametrize("bad", ["0x12", "0x" + "g" * 40, "1x" + "a" * 40, "0x" + "a" * 41])
def test_what_is_no_address_raises(bad: str) -> None:
    with pytest.raises(InconsistentDataError, match="not an address"):
        checksum_address(bad)


@pytest.mark.parametrize("bad", ["0x" + "a" * 40, "0x" + "a" * 66, 12])
def test_a_topic_that_is_not_32_bytes_raises(bad: object) -> None:
    with pytest.raises(InconsistentDataError, match="not 32 bytes"):
        topic_address(bad)

"""The direct codecs of scanner/chain/fastabi.py give exactly what eth_abi gives, or None
(eth_abi then decides). Real node answers are compared in
tests/integration/test_fastabi_real.py."""

from __future__ import annotations

import random

import pytest
from eth_abi.abi import decode, encode
from eth_utils.address import is_address, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from scanner.chain import fastabi
from scanner.chain.abi import decode_output, encode_call, load_abi
from scanner.chain.multicall import Call, decode_aggregate3, encode_aggregate3
from scanner.errors import InconsistentDataError

ADDRESS = "0x" + "3f9c07ab" * 5
CHECKSUMMED = to_checksum_address(ADDRESS)


def _bad_checksum(address: str) -> str:
    """`address` with the case of its first letter flipped: an invalid EIP-55 checksum."""
    at = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:at] + address[at].swapcase() + address[at + 1:]


@given(st.lists(st.tuples(st.binary(min_size=20, max_size=20), st.booleans(),
                          st.binary(max_size=200)), max_size=12))
def test_aggregate3_items_encode_like_eth_abi(raw: list[tuple[bytes, bool, bytes]]) -> None:
    items = [(to_checksum_address(a), flag, data) for a, flag, data in raw]
    assert fastabi.encode_aggregate3_items(items) == encode(["(address,bool,bytes)[]"], [items])


@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=300)), max_size=12))
def test_aggregate3_answers_decode_like_eth_abi(items: list[tuple[bool, bytes]]) -> None:
    data = encode(["(bool,bytes)[]"], [items])
    assert fastabi.decode_aggregate3_items(data) == list(decode(["(bool,bytes)[]"], data)[0])


@given(st.lists(st.tuples(st.booleans(), st.binary(min_size=32, max_size=32)), max_size=40))
def test_one_word_answers_decode_like_eth_abi(items: list[tuple[bool, bytes]]) -> None:
    """A batch of one-word answers (balanceOf) takes the one-regex path: the same pairs."""
    data = encode(["(bool,bytes)[]"], [items])
    assert fastabi.decode_aggregate3_items(data) == list(decode(["(bool,bytes)[]"], data)[0])


def test_odd_one_word_answers_are_not_taken_as_one_word() -> None:
    items = [(True, b"\x07" * 32), (False, b"\x00" * 32), (True, b"\x01" * 32)]
    good = encode(["(bool,bytes)[]"], [items])
    flag = bytearray(good)
    flag[32 * 5 + 30] = 1  # the first flag word is 256 + 1: no bool
    assert fastabi.decode_aggregate3_items(bytes(flag)) is None
    length = bytearray(good)
    length[32 * 7 - 1] = 31  # the first answer claims 31 bytes, its padding is not zero
    assert fastabi.decode_aggregate3_items(bytes(length)) is None
    for cut in (good[:-1], good + bytes(32)):  # short; a trailing word the heads skip
        assert _decodes_like_eth_abi(cut)


def _decodes_like_eth_abi(data: bytes) -> bool:
    fast = fastabi.decode_aggregate3_items(data)
    try:
        expected = list(decode(["(bool,bytes)[]"], data)[0])
    except Exception:  # eth_abi refuses: so must the fast path
        return fast is None
    return fast is None or fast == expected


def test_aggregate3_odd_answers_go_to_eth_abi() -> None:
    good = encode(["(bool,bytes)[]"], [[(True, b"\x01" * 33), (False, b"")]])
    assert fastabi.decode_aggregate3_items(good[:-1]) is None  # cut short
    dirty = bytearray(good)
    dirty[-1] = 7  # padding after the 33-byte answer is not zero
    assert fastabi.decode_aggregate3_items(bytes(dirty)) is None
    flag = bytearray(good)
    flag[32 * 5 - 1] = 2  # first tuple's bool word is 2
    assert fastabi.decode_aggregate3_items(bytes(flag)) is None
    huge = (32).to_bytes(32, "big") + (10**6).to_bytes(32, "big")  # count beyond the data
    assert fastabi.decode_aggregate3_items(huge) is None
    with pytest.raises(InconsistentDataError):  # and eth_abi still refuses them
        decode_aggregate3(good[:-1], 2)


def _agrees(types: list[str], values: list[object], fast: bytes | None) -> bool:
    """fast is what eth_abi encodes, or None where eth_abi refuses (None is always allowed)."""
    try:
        expected = encode(types, values)
    except Exception:  # eth_abi refuses: the fast path must have left it alone
        return fast is None
    return fast is None or fast == expected


def test_unusual_items_are_left_to_eth_abi() -> None:
    for target in (_bad_checksum(CHECKSUMMED), CHECKSUMMED.upper(), ADDRESS + "00", "0x12"):
        items = [(target, True, b"")]
        assert _agrees(["(address,bool,bytes)[]"], [items],
                       fastabi.encode_aggregate3_items(items))
    assert fastabi.encode_aggregate3_items([(ADDRESS, 1, b"")]) is None  # type: ignore[list-item]
    assert fastabi.encode_aggregate3_items([(ADDRESS[:-2], True, b"")]) is None
    call = Call(ADDRESS, b"\x12\x34", allow_failure=True)
    assert encode_aggregate3([call]) == bytes.fromhex("82ad56cb") + encode(
        ["(address,bool,bytes)[]"], [[(ADDRESS, True, b"\x12\x34")]])


@given(st.integers(0, 2**256 - 1), st.integers(0, 2**64 - 1), st.booleans(),
       st.binary(min_size=32, max_size=32), st.binary(min_size=20, max_size=20))
def test_static_arguments_encode_like_eth_abi(big: int, small: int, flag: bool, word: bytes,
                                              raw: bytes) -> None:
    types = ["uint256", "uint64", "bool", "bytes32", "address"]
    values = [big, small, flag, word, to_checksum_address(raw)]
    assert fastabi.encode_static(types, values) == encode(types, values)
    lower = [big, small, flag, word, "0x" + raw.hex()]
    assert fastabi.encode_static(types, lower) == encode(types, lower)


def test_values_eth_abi_refuses_are_left_to_it() -> None:
    assert fastabi.encode_static(["uint8"], [256]) is None
    assert fastabi.encode_static(["uint256"], [-1]) is None
    assert fastabi.encode_static(["uint256"], [True]) is None  # eth_abi refuses a bool
    assert fastabi.encode_static(["bool"], [1]) is None
    for address in (_bad_checksum(CHECKSUMMED), CHECKSUMMED.upper(), "0x12", 12):
        assert _agrees(["address"], [address], fastabi.encode_static(["address"], [address]))
    assert fastabi.encode_static(["string"], ["x"]) is None
    assert fastabi.encode_static(["uint256"], [1, 2]) is None


@given(st.integers(0, 2**256 - 1), st.integers(-(2**127), 2**127 - 1), st.booleans(),
       st.binary(min_size=32, max_size=32), st.integers(0, 2**40 - 1))
def test_word_answers_decode_like_eth_abi(big: int, signed: int, flag: bool, word: bytes,
                                          small: int) -> None:
    types = ["uint256", "int128", "bool", "bytes32", "uint40"]
    data = encode(types, [big, signed, flag, word, small])
    assert fastabi.decode_static(types, data) == decode(types, data)
    assert fastabi.decode_static(types, data + b"\0" * 32) == decode(types, data + b"\0" * 32)


@given(st.integers(0, 2**256 - 1), st.integers(0, 2**8 - 1), st.booleans())
def test_tuples_of_words_decode_like_eth_abi(big: int, small: int, flag: bool) -> None:
    types = ["(uint256)", "uint8", "(bool,uint256,uint8)"]
    data = encode(types, [(big,), small, (flag, big, small)])
    assert fastabi.decode_static(types, data) == decode(types, data)


def test_odd_words_are_left_to_eth_abi() -> None:
    assert fastabi.decode_static(["((uint256))"], bytes(32)) is None
    assert fastabi.decode_static(["(uint256)[]"], bytes(64)) is None
    assert fastabi.decode_static(["(uint256,uint256)"], bytes(63)) is None
    assert fastabi.decode_static(["(uint8)"], (256).to_bytes(32, "big")) is None
    assert fastabi.decode_static(["uint8"], (256).to_bytes(32, "big")) is None
    assert fastabi.decode_static(["bool"], (2).to_bytes(32, "big")) is None
    assert fastabi.decode_static(["int8"], (128).to_bytes(32, "big")) is None
    assert fastabi.decode_static(["uint256", "uint256"], bytes(63)) is None
    assert fastabi.decode_static(["address"], bytes(32)) is None
    assert fastabi.decode_static(["string"], bytes(64)) is None


def test_encode_call_and_decode_output_keep_their_answers() -> None:
    pool = load_abi("aave-v3", "Pool")
    assert encode_call(pool, "getUserAccountData", [CHECKSUMMED]) == (
        bytes.fromhex("bf92857c") + encode(["address"], [CHECKSUMMED]))
    values = [random.Random(3).randrange(2**200) for _ in range(6)]
    data = encode(["uint256"] * 6, values)
    assert decode_output(pool, "getUserAccountData", data) == tuple(values)
    with pytest.raises(InconsistentDataError):
        decode_output(pool, "getUserAccountData", data[:-1])


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=70),
       st.booleans())
def test_batches_of_one_data_size_encode_like_eth_abi(count: int, size: int, flag: bool) -> None:
    """A batch whose data all have one length (the usual one: selector + address) takes its
    heads from a table of even offsets: the same bytes."""
    items = [(CHECKSUMMED, flag, bytes([n % 256]) * size) for n in range(count)]
    assert fastabi.encode_aggregate3_items(items) == encode(["(address,bool,bytes)[]"], [items])


@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=8).flatmap(
    lambda words: st.binary(min_size=32 * words, max_size=32 * words))), max_size=40))
def test_answers_of_whole_words_decode_like_eth_abi(items: list[tuple[bool, bytes]]) -> None:
    """Answers of 0 to 7 whole words (account summaries) take the one-regex path; 8 words or
    a layout Solidity does not make go word by word: the same pairs either way."""
    data = encode(["(bool,bytes)[]"], [items])
    assert fastabi.decode_aggregate3_items(data) == list(decode(["(bool,bytes)[]"], data)[0])


def test_whole_word_answers_that_do_not_tile_are_not_taken() -> None:
    items = [(True, bytes(range(64))), (False, b""), (True, bytes(32 * 6))]
    data = encode(["(bool,bytes)[]"], [items])
    heads_end = 2 * 32 + 3 * 32
    moved = data[:heads_end - 32] + (int.from_bytes(data[heads_end - 32:heads_end], "big") + 32
                                     ).to_bytes(32, "big") + data[heads_end:] + bytes(32)
    assert fastabi._word_items(data[64:heads_end], data[heads_end:], 3) is not None
    assert fastabi._word_items(moved[64:heads_end], moved[heads_end:], 3) is None
    assert fastabi._word_items(data[64:heads_end], data[heads_end:] + bytes(32), 3) is None
    fast = fastabi.decode_aggregate3_items(moved)  # word by word, or left to eth_abi
    assert fast is None or fast == list(decode(["(bool,bytes)[]"], moved)[0])


@given(st.one_of(st.text(alphabet="0123456789abcdefABCDEF", min_size=39, max_size=41),
                 st.text(alphabet="0123456789abcdefABCDEFxXgG \n", min_size=38, max_size=42)),
       st.sampled_from(["", "0x", "0X", "x0", "00"]))
def test_address_bytes_accepts_exactly_what_eth_abi_encodes(body: str, prefix: str) -> None:
    """address_bytes' own pattern accepts a 42-character string exactly when
    eth_utils.is_address (what eth_abi's encoder checks) does, and gives the bytes eth_abi
    encodes; nothing of another length."""
    text = prefix + body
    accepted = fastabi.address_bytes(text)
    assert (accepted is not None) == (len(text) == 42 and is_address(text))
    if accepted is not None:
        assert encode(["address"], [text])[12:] == accepted

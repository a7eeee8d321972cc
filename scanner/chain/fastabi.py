"""Fixed-layout ABI encoding and decoding by direct slicing, for the read hot path.

A 10k-position snapshot encodes and decodes ~66,000 sub-calls; eth_abi's generic codec spends
~100 us on each. Almost all of them have static arguments (addresses, uints, bytes32) and
static answers (words), and aggregate3's own (address,bool,bytes)[] / (bool,bytes)[] layout
is fixed: these are built and sliced directly here.

Every function here either returns exactly what eth_abi would, or returns None and leaves the
case to eth_abi (which then encodes, decodes or raises as before): an unusual type, a value
out of range, a non-canonical or short answer. Nothing here raises on bad data by itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any, cast

WORD = 32
_ZERO_WORD = bytes(WORD)
_UINT = re.compile(r"uint(\d+)$")
_INT = re.compile(r"int(\d+)$")

# valid 0x-addresses -> their 20 bytes. What eth_abi accepts as an address string is what
# eth_utils.is_address accepts (eth_utils 6 checks no EIP-55 checksum): for 42 characters,
# 0x or 0X and 40 hex digits of any case -- _HEX_ADDRESS, without its two calls per address
# (a cold snapshot validates ~25,000; tests/unit/test_fastabi.py keeps the two equal).
_HEX_ADDRESS = re.compile(r"0[xX][0-9a-fA-F]{40}")
_ADDRESS_BYTES: dict[str, bytes] = {}


def address_bytes(address: object) -> bytes | None:
    """The 20 bytes of a valid 0x-address string (as eth_abi accepts it), else None."""
    if type(address) is not str:
        return None
    found = _ADDRESS_BYTES.get(address)
    if found is None:
        if len(address) != 42 or _HEX_ADDRESS.fullmatch(address) is None:
            return None
        found = bytes.fromhex(address[2:])
        _ADDRESS_BYTES[address] = found
    return found


def _bits(pattern: re.Pattern[str], type_: str) -> int | None:
    match = pattern.match(type_)
    if match is None:
        return None
    bits = int(match.group(1))
    return bits if 8 <= bits <= 256 and bits % 8 == 0 else None


# A word type parsed once: ("address" | "bool" | "bytes32" | "uint" | "int", bits)
_Word = tuple[str, int]


@cache
def _word(type_: str) -> _Word | None:
    if type_ in ("address", "bool", "bytes32"):
        return type_, 256
    for kind, pattern in (("uint", _UINT), ("int", _INT)):
        bits = _bits(pattern, type_)
        if bits is not None:
            return kind, bits
    return None


def _encode_word(word: _Word, value: Any) -> bytes | None:
    kind, bits = word
    if kind == "address":
        raw = address_bytes(value)
        return None if raw is None else b"\0" * 12 + raw
    if kind == "bool":
        return None if type(value) is not bool else int(value).to_bytes(WORD, "big")
    if kind == "bytes32":
        return value if type(value) is bytes and len(value) == WORD else None
    if kind == "uint" and type(value) is int and 0 <= value < 1 << bits:
        return value.to_bytes(WORD, "big")
    return None


@cache
def _argument_words(types: tuple[str, ...]) -> tuple[_Word, ...] | None:
    words = tuple(_word(t) for t in types)
    return None if any(w is None or w[0] == "int" for w in words) else cast(
        tuple[_Word, ...], words)


def encode_static(types: Sequence[str], values: Sequence[Any]) -> bytes | None:
    """eth_abi.encode(types, values) for address/bool/bytes32/uintN arguments; None for
    anything else (another type, a value eth_abi would refuse)."""
    words = _argument_words(tuple(types))
    if words is None or len(words) != len(values):
        return None
    encoded = []
    for word, value in zip(words, values, strict=True):
        one = _encode_word(word, value)
        if one is None:
            return None
        encoded.append(one)
    return b"".join(encoded)


def _decode_word(word: _Word, data: bytes) -> tuple[bool, Any]:
    kind, bits = word
    if kind == "uint":
        value = int.from_bytes(data, "big")
        return (True, value) if value < 1 << bits else (False, None)
    if kind == "bool":
        return (True, data[-1] == 1) if data[:-1] == _ZERO_WORD[:-1] and data[-1] < 2 else (
            False, None)
    if kind == "bytes32":
        return True, data
    if kind == "int":
        value = int.from_bytes(data, "big", signed=True)
        limit = 1 << (bits - 1)
        return (True, value) if -limit <= value < limit else (False, None)
    return False, None  # an address answer: eth_abi checksums it


# Each answer type as the words it spans, and whether it is a tuple of them; None when a
# type is none of those (eth_abi decides).
_Layout = tuple[tuple[bool, tuple[_Word, ...]], ...]


@cache
def _answer_layout(types: tuple[str, ...]) -> _Layout | None:
    """Each type, or the member types of a tuple of words, e.g. "(uint256)"; None when a
    type nests deeper or is not a word eth_abi returns as it is (eth_abi decides those)."""
    layout = []
    for type_ in types:
        is_tuple = type_.startswith("(") and type_.endswith(")")
        inner = type_[1:-1] if is_tuple else type_
        if not inner or "(" in inner or ")" in inner or "[" in inner:
            return None
        words = tuple(_word(t) for t in inner.split(","))
        if any(w is None or w[0] == "address" for w in words):
            return None
        layout.append((is_tuple, cast(tuple[_Word, ...], words)))
    return tuple(layout)


@cache
def _layout_words(layout: _Layout) -> int:
    return sum(len(words) for _, words in layout)


def decode_static(types: Sequence[str], data: bytes) -> tuple[Any, ...] | None:
    """eth_abi.decode(types, data) for bool/bytes32/intN/uintN answers and tuples of them
    (static tuples are laid out inline); None for anything else (another type, short data,
    a word eth_abi would refuse)."""
    layout = _answer_layout(tuple(types))
    if layout is None or len(data) < WORD * _layout_words(layout):
        return None
    values: list[Any] = []
    at = 0
    for is_tuple, words in layout:
        decoded = []
        for word in words:
            ok, value = _decode_word(word, data[at:at + WORD])
            if not ok:
                return None
            decoded.append(value)
            at += WORD
        values.append(tuple(decoded) if is_tuple else decoded[0])
    return tuple(values)


_FALSE_WORD = bytes(WORD)
_TRUE_WORD = (1).to_bytes(WORD, "big")
_DATA_OFFSET_WORD = (3 * WORD).to_bytes(WORD, "big")  # bytes start after 3 head words
_ARRAY_OFFSET_WORD = WORD.to_bytes(WORD, "big")  # the array starts after its offset word
_ADDRESS_PAD = bytes(12)
# (target, allow_failure, data length) -> what precedes the data in its (address,bool,bytes)
# tuple: address, flag, the offset of the bytes, their length. A snapshot sends ~70,000 items
# to a few dozen targets, with a few data lengths.
_ITEM_LEAD: dict[tuple[str, bool, int], bytes] = {}
_ITEM_LEAD_LIMIT = 1 << 14
# padding by data length mod 32
_PADS = tuple(bytes(-n % WORD) for n in range(WORD))
_LEAD_SIZE = 4 * WORD


def _item_lead(target: str, allow_failure: bool, size: int) -> bytes | None:
    raw = address_bytes(target)
    if raw is None:
        return None
    if len(_ITEM_LEAD) >= _ITEM_LEAD_LIMIT:
        _ITEM_LEAD.clear()
    lead = b"".join((_ADDRESS_PAD, raw, _TRUE_WORD if allow_failure else _FALSE_WORD,
                     _DATA_OFFSET_WORD, size.to_bytes(WORD, "big")))
    _ITEM_LEAD[(target, allow_failure, size)] = lead
    return lead


@lru_cache(maxsize=256)
def _even_heads(count: int, tail_size: int) -> bytes:
    """The heads of `count` tails of `tail_size` bytes each, laid out one after the other."""
    return b"".join((count * WORD + i * tail_size).to_bytes(WORD, "big") for i in range(count))


def encode_aggregate3_items(items: Sequence[tuple[str, bool, bytes]]) -> bytes | None:
    """eth_abi.encode(["(address,bool,bytes)[]"], [items]); None when an item is unusual."""
    tails: list[bytes] = []
    sizes: set[int] = set()
    leads, pads = _ITEM_LEAD, _PADS
    for target, allow_failure, data in items:
        if type(target) is not str or type(allow_failure) is not bool or type(data) is not bytes:
            return None
        size = len(data)
        lead = leads.get((target, allow_failure, size)) or _item_lead(target, allow_failure,
                                                                      size)
        if lead is None:
            return None
        tails += (lead, data, pads[size % WORD])
        sizes.add(size)
    count = len(items)
    if len(sizes) == 1 and count <= 4096:  # the usual batch: every tail of one size
        size = sizes.pop()
        heads = _even_heads(count, _LEAD_SIZE + size + len(pads[size % WORD]))
    else:
        heads = _heads(tails, count)
    return b"".join((_ARRAY_OFFSET_WORD, count.to_bytes(WORD, "big"), heads, *tails))


def _heads(tails: list[bytes], count: int) -> bytes:
    """The offsets of the tails (three parts per item) from the start of the heads."""
    offsets = []
    offset = WORD * count
    for i in range(0, 3 * count, 3):
        offsets.append(offset.to_bytes(WORD, "big"))
        offset += len(tails[i]) + len(tails[i + 1]) + len(tails[i + 2])
    return b"".join(offsets)


def _uint_at(data: bytes, at: int) -> int | None:
    if at < 0 or at + WORD > len(data):
        return None
    return int.from_bytes(data[at:at + WORD], "big")


# One (bool,bytes) item whose bytes are one word, as Solidity lays it out: the flag word, the
# offset of the bytes (0x40), their length (0x20), the word.
_ONE_WORD_ITEM = re.compile(rb"\x00{31}([\x00\x01])\x00{31}\x40\x00{31}\x20(.{32})",
                            re.DOTALL)
_ONE_WORD_ITEM_SIZE = 4 * WORD
_TRUE_BYTE = b"\x01"


@cache
def _one_word_heads(count: int) -> bytes:
    """The heads of `count` one-word items laid out one after the other."""
    return b"".join((count * WORD + i * _ONE_WORD_ITEM_SIZE).to_bytes(WORD, "big")
                    for i in range(count))


def _one_word_items(heads: bytes, tails: bytes, count: int) -> list[tuple[bool, bytes]] | None:
    """The items when every one is a one-word answer in Solidity's own layout (a batch of
    balanceOf calls): matched by one regular expression, not word by word; else None."""
    if len(tails) != count * _ONE_WORD_ITEM_SIZE or count > 4096:
        return None
    if heads != _one_word_heads(count):
        return None
    found = _ONE_WORD_ITEM.findall(tails)
    if len(found) != count:  # count matches of 128 bytes in count * 128 bytes: they tile it
        return None
    return [(flag == _TRUE_BYTE, word) for flag, word in found]


# One (bool,bytes) item whose bytes are 0 to 7 whole words, as Solidity lays it out: the flag
# word, the offset of the bytes (0x40), their length, the words -- one group per length, so
# that the length word decides how many bytes the match takes.
_WORDS_ITEM = re.compile(
    rb"\x00{31}([\x00\x01])\x00{31}\x40\x00{31}(?:\x00()"
    + b"".join(b"|" + re.escape(bytes([n * WORD])) + b"(.{%d})" % (n * WORD) for n in range(1, 8))
    + b")", re.DOTALL)


def _word_items(heads: bytes, tails: bytes, count: int) -> list[tuple[bool, bytes]] | None:
    """The items when each is an answer of 0 to 7 whole words in Solidity's own layout, one
    after the other (a batch of account summaries): each matched by one regular expression
    where the previous one ended, so that an item of another shape stops the walk at once;
    else None. The matches must tile the tails, and the heads point at them in order."""
    match = _WORDS_ITEM.match
    items: list[tuple[bool, bytes]] = []
    offsets: list[bytes] = []
    at = 0
    for _ in range(count):
        found = match(tails, at)
        if found is None:
            return None
        offsets.append((count * WORD + at).to_bytes(WORD, "big"))
        items.append((found.group(1) == _TRUE_BYTE, found.group(found.lastindex or 2)))
        at = found.end()
    if at != len(tails) or b"".join(offsets) != heads:
        return None
    return items


def decode_aggregate3_items(data: bytes) -> list[tuple[bool, bytes]] | None:
    """eth_abi.decode(["(bool,bytes)[]"], data)[0] as (success, bytes) pairs; None when the
    answer is short, odd or not canonical (eth_abi then decides)."""
    array = _uint_at(data, 0)
    count = None if array is None else _uint_at(data, array)
    if array is None or count is None or count > len(data) // WORD:
        return None
    base = array + WORD
    if base + count * WORD > len(data):  # the heads do not fit
        return None
    heads, tails = data[base:base + count * WORD], data[base + count * WORD:]
    uniform = _one_word_items(heads, tails, count)
    if uniform is None and count <= 4096:
        uniform = _word_items(heads, tails, count)
    if uniform is not None:
        return uniform
    # A snapshot decodes ~70,000 items: the loop below checks what eth_abi checks (bounds, a
    # flag of 0 or 1, zero padding) with as few steps as it can, and reads the heads of
    # every item from one slice.
    size = len(data)
    word = int.from_bytes
    heads = data[base:base + count * WORD]
    results: list[tuple[bool, bytes]] = []
    append = results.append
    for head in range(0, count * WORD, WORD):
        at = base + word(heads[head:head + WORD], "big")
        if at + 2 * WORD > size:
            return None
        flag = data[at:at + WORD]
        success = flag == _TRUE_WORD
        if not success and flag != _FALSE_WORD:
            return None
        start = at + word(data[at + WORD:at + 2 * WORD], "big")
        if start + WORD > size:
            return None
        length = word(data[start:start + WORD], "big")
        end = start + WORD + length
        padded_end = end + (-length % WORD)
        if padded_end > size or (padded_end > end and data[end:padded_end].strip(b"\0")):
            return None
        append((success, data[start + WORD:end]))
    return results

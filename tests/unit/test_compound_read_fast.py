"""read_users' per-account calls built and answers sliced by hand
(scanner/protocols/compound_v3/read.py) give exactly what encode_call and decode_output give:
the same calldata, the same values, and the same error where the codec raises."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from scanner.chain.abi import decode_output, encode_call
from scanner.chain.checksum import checksum_address
from scanner.chain.multicall import Call, CallResult, require_data
from scanner.config import ChainConfig, MarketConfig
from scanner.domain import Address
from scanner.errors import InconsistentDataError
from scanner.protocols.compound_v3 import read
from scanner.protocols.compound_v3.read import COMET, CompoundV3Adapter
from scanner.protocols.compound_v3.rule import (
    CometAccount,
    CometAsset,
    CometPrices,
    CometRates,
    CometTotals,
)
from scanner.protocols.compound_v3.state import CometMarketState, CometStoreFront, CometUser

USER_BASIC = ["int104", "uint64", "uint64", "uint16", "uint8"]
USER_COLLATERAL = ["uint128", "uint128"]
INT104 = st.integers(-(2**103), 2**103 - 1)
UINT64 = st.integers(0, 2**64 - 1)
ADDRESSES = st.binary(min_size=20, max_size=20).map(to_checksum_address)
ACCOUNT_CALLS = ("userBasic", "borrowBalanceOf", "isLiquidatable")

# --- the references: decode_output, read as read_users read it before ---------------------


def _basic_by_codec(data: bytes) -> tuple[int, int]:
    principal, _index, _accrued, assets_in, reserved = decode_output(COMET, "userBasic", data)
    return int(principal), int(assets_in) | int(reserved) << 16


def _collateral_by_codec(data: bytes) -> int:
    return int(decode_output(COMET, "userCollateral", data)[0])


def _borrow_by_codec(data: bytes) -> int:
    return int(decode_output(COMET, "borrowBalanceOf", data)[0])


def _liquidatable_by_codec(data: bytes) -> bool:
    return bool(decode_output(COMET, "isLiquidatable", data)[0])


DECODERS: dict[str, tuple[Callable[[bytes], Any], Callable[[bytes], Any]]] = {
    "userBasic": (read._user_basic, _basic_by_codec),
    "userCollateral": (read._collateral_balance, _collateral_by_codec),
    "borrowBalanceOf": (read._borrow_balance, _borrow_by_codec),
    "isLiquidatable": (read._liquidatable, _liquidatable_by_codec),
}


def _outcome(function: Callable[..., Any], *args: Any) -> tuple[str, type, Any]:
    """What a call gives: its value and that value's type, or its error's type and text."""
    try:
        value = function(*args)
    except Exception as exc:  # any error: compared by type and text
        return "raises", type(exc), str(exc)
    return "returns", type(value), value


def _same(name: str, data: bytes) -> tuple[str, type, Any]:
    fast, codec = DECODERS[name]
    outcome = _outcome(fast, data)
    assert outcome == _outcome(codec, data)
    return outcome


# --- answers: valid ones, and the same with one defect ---------------------------------------


@st.composite
def _damaged(draw: st.DrawFn, valid: bytes) -> bytes:
    """`valid`, or it with one defect: a byte changed (a high byte of a narrow word, a
    padding byte), the sign-extension bytes of the first word inverted, cut or extended."""
    data = bytearray(valid)
    defect = draw(st.sampled_from(("none", "byte", "high", "sign", "cut", "extend")))
    if defect == "byte":
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif defect == "high":  # a byte above the low 8 bytes of some word
        word = draw(st.integers(0, len(data) // 32 - 1))
        data[32 * word + draw(st.integers(0, 23))] = draw(st.integers(1, 255))
    elif defect == "sign":  # the int104's 19 padding bytes the other sign's
        data[:19] = bytes(19) if data[0] else b"\xff" * 19
    elif defect == "cut":
        return bytes(data[:draw(st.integers(0, len(data) - 1))])
    elif defect == "extend":
        return bytes(data) + draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


def _basic_answers() -> st.SearchStrategy[bytes]:
    values = st.tuples(INT104, UINT64, UINT64, st.integers(0, 2**16 - 1),
                       st.integers(0, 2**8 - 1))
    return values.map(lambda v: encode(USER_BASIC, list(v)))


def _collateral_answers() -> st.SearchStrategy[bytes]:
    values = st.tuples(st.integers(0, 2**128 - 1), st.integers(0, 2**128 - 1))
    return values.map(lambda v: encode(USER_COLLATERAL, list(v)))


def _borrow_answers() -> st.SearchStrategy[bytes]:
    return st.integers(0, 2**256 - 1).map(lambda v: encode(["uint256"], [v]))


def _liquidatable_answers() -> st.SearchStrategy[bytes]:
    return st.booleans().map(lambda v: encode(["bool"], [v]))


VALID = {"userBasic": _basic_answers, "userCollateral": _collateral_answers,
         "borrowBalanceOf": _borrow_answers, "isLiquidatable": _liquidatable_answers}


def _answers(name: str) -> st.SearchStrategy[bytes]:
    """Answers to `name`: valid, or valid with one defect."""
    return VALID[name]().flatmap(_damaged)


@given(INT104, UINT64, UINT64, st.integers(0, 2**16 - 1), st.integers(0, 2**8 - 1))
def test_valid_user_basic_is_sliced_as_the_codec_decodes(
        principal: int, index: int, accrued: int, assets_in: int, reserved: int) -> None:
    data = encode(USER_BASIC, [principal, index, accrued, assets_in, reserved])
    assert _same("userBasic", data) == ("returns", tuple,
                                        (principal, assets_in | reserved << 16))


@given(st.integers(0, 2**128 - 1), st.integers(0, 2**128 - 1))
def test_valid_user_collateral_is_sliced_as_the_codec_decodes(balance: int, rest: int) -> None:
    assert _same("userCollateral", encode(USER_COLLATERAL, [balance, rest])) == (
        "returns", int, balance)


@given(st.integers(0, 2**256 - 1), st.booleans())
def test_valid_words_are_sliced_as_the_codec_decodes(debt: int, flag: bool) -> None:
    assert _same("borrowBalanceOf", encode(["uint256"], [debt])) == ("returns", int, debt)
    assert _same("isLiquidatable", encode(["bool"], [flag])) == ("returns", bool, flag)


@pytest.mark.parametrize("name", list(VALID))
@given(data=st.data())
def test_any_answer_gives_what_the_codec_gives(name: str, data: st.DataObject) -> None:
    """Valid or damaged: the same value, or the codec's own error."""
    _same(name, data.draw(_answers(name)))


def _word(value: int, signed: bool = False) -> bytes:
    return value.to_bytes(32, "big", signed=signed)


_BASIC_TAIL = _word(1) + _word(2) + _word(3) + _word(4)
MALFORMED = [
    ("userBasic", _word(2**103) + _BASIC_TAIL),  # one past int104
    ("userBasic", _word(-(2**103) - 1, signed=True) + _BASIC_TAIL),  # one below int104
    ("userBasic", b"\xff" * 19 + _word(5)[19:] + _BASIC_TAIL),  # positive with 0xff padding
    ("userBasic", bytes(19) + b"\xff" * 13 + _BASIC_TAIL),  # -1 with zero padding
    ("userBasic", _word(-1, signed=True) + _word(2**64) + _BASIC_TAIL[32:]),  # uint64 + 1
    ("userBasic", _word(-1, signed=True) + _BASIC_TAIL[:32] + _word(2**255) + _BASIC_TAIL[64:]),
    ("userBasic", _word(-1, signed=True) + _BASIC_TAIL[:64] + _word(2**16) + _word(4)),
    ("userBasic", _word(-1, signed=True) + _BASIC_TAIL[:96] + _word(2**8)),
    ("userBasic", _word(-1, signed=True) + _BASIC_TAIL[:-1]),  # short
    ("userCollateral", _word(2**128) + _word(0)),
    ("userCollateral", _word(1) + _word(2**255)),
    ("userCollateral", _word(1)),
    ("borrowBalanceOf", _word(1)[:31]),
    ("isLiquidatable", _word(2)),
    ("isLiquidatable", _word(2**255 + 1)),
    ("isLiquidatable", b"\x01"),
]


@pytest.mark.parametrize(("name", "data"), MALFORMED)
def test_malformed_answers_raise_as_the_codec_does(name: str, data: bytes) -> None:
    kind, error, _text = _same(name, data)
    assert (kind, error) == ("raises", InconsistentDataError)


@pytest.mark.parametrize("name", list(DECODERS))
def test_an_empty_answer_raises_as_the_codec_does(name: str) -> None:
    assert _same(name, b"")[:2] == ("raises", InconsistentDataError)


def test_a_longer_answer_is_the_codecs_to_decode() -> None:
    """A trailing word: not the usual length, so the codec decodes it (and ignores it)."""
    assert _same("borrowBalanceOf", _word(7) + _word(9)) == ("returns", int, 7)
    assert _same("isLiquidatable", _word(1) + _word(9)) == ("returns", bool, True)


# --- calldata ----------------------------------------------------------------------------


@given(ADDRESSES, ADDRESSES, st.sampled_from(("checksummed", "lower", "upper")))
def test_calldata_is_what_encode_call_builds(account: str, asset: str, case: str) -> None:
    if case != "checksummed":
        account = "0x" + (account[2:].lower() if case == "lower" else account[2:].upper())
        asset = asset.lower()
    word, asset_word = read._address_word(account), read._address_word(asset)
    assert word is not None and asset_word is not None  # the hand-built path
    for name in ACCOUNT_CALLS:
        assert read._account_data(name, account, word) == encode_call(COMET, name, [account])
    assert read._collateral_data(account, word, asset, asset_word) == encode_call(
        COMET, "userCollateral", [account, asset])


GOOD = to_checksum_address("0x" + "3f9c07ab" * 5)
_flip = next(i for i, c in enumerate(GOOD) if i > 1 and c.isalpha())
# Not plain valid 0x-addresses: the codec encodes them (20 bytes) or refuses them
NOT_ADDRESSES: list[Any] = [GOOD[:-1], GOOD + "0", "0x" + "g" * 40, GOOD[2:], "",
                            bytes.fromhex(GOOD[2:]), bytes(19), 5, None]
# Odd spellings that eth_utils 6 / eth_abi 5 take as addresses (is_address no longer checks
# an EIP-55 checksum, and takes "0X"): hand-built, and the same bytes as encode_call's
ODD_SPELLINGS = [GOOD[:_flip] + GOOD[_flip].swapcase() + GOOD[_flip + 1:], "0X" + GOOD[2:]]
ODD_ADDRESSES = NOT_ADDRESSES + ODD_SPELLINGS


@pytest.mark.parametrize("odd", ODD_ADDRESSES)
def test_other_addresses_encode_or_fail_as_encode_call_does(odd: Any) -> None:
    """What is not a plain valid 0x-address is encoded, or refused, by the codec."""
    word = read._address_word(odd)
    assert (word is None) == (odd in NOT_ADDRESSES)
    for name in ACCOUNT_CALLS:
        assert _outcome(read._account_data, name, odd, word) == _outcome(
            encode_call, COMET, name, [odd])
    good = read._address_word(GOOD)
    for args in ((odd, word, GOOD, good), (GOOD, good, odd, word), (odd, word, odd, word)):
        assert _outcome(read._collateral_data, *args) == _outcome(
            encode_call, COMET, "userCollateral", [args[0], args[2]])


def test_a_non_address_still_raises() -> None:
    for odd in ("0x" + "g" * 40, None, GOOD[:-1]):
        assert _outcome(read._account_data, "userBasic", odd, None)[0] == "raises"


# --- read_users as a whole, against the generic codec -------------------------------------

COMET_ADDRESS = to_checksum_address("0x" + "c3" * 20)


def _state(assets: Sequence[str]) -> CometMarketState:
    totals = CometTotals(10**15, 10**15, 10**15, 10**15, 1_700_000_000)
    return CometMarketState(
        market_key="m", comet=COMET_ADDRESS, block=1, block_timestamp=1_700_000_000,
        base_token=GOOD, base_symbol="USDC", base_scale=10**6, rates=CometRates(*range(8)),
        stored_totals=totals, accrued_totals=totals,
        assets=tuple(CometAsset(i, a, 10**18, 8 * 10**17, 85 * 10**16, 93 * 10**16)
                     for i, a in enumerate(assets)),
        symbols={}, prices=CometPrices(10**8, {}), quote_usd_8dec=None,
        store_front=CometStoreFront(0, 0, 0))


def _generic_calls(state: CometMarketState, accounts: Sequence[Address]) -> list[Call]:
    """read_users' calls as they were built: encode_call for each."""
    calls: list[Call] = []
    for account in accounts:
        calls.append(Call(COMET_ADDRESS, encode_call(COMET, "userBasic", [account]), False,
                          30_000))
        calls += [Call(COMET_ADDRESS, encode_call(COMET, "userCollateral", [account, a.asset]),
                       False, 30_000) for a in state.assets]
        calls += [Call(COMET_ADDRESS, encode_call(COMET, n, [account]), False, 150_000)
                  for n in ("borrowBalanceOf", "isLiquidatable")]
    return calls


def _generic_users(state: CometMarketState, accounts: Sequence[Address],
                   results: Sequence[CallResult]) -> list[CometUser]:
    """read_users' decoding as it was: decode_output for each answer."""
    stride = len(state.assets) + 3
    users = []
    for n, account in enumerate(accounts):
        chunk = [require_data(r, f"Comet read of {account}")
                 for r in results[n * stride:(n + 1) * stride]]
        principal, flags = _basic_by_codec(chunk[0])
        if principal >= 0:
            continue
        balances = {a.asset: _collateral_by_codec(raw)
                    for a, raw in zip(state.assets, chunk[1:-2], strict=True)}
        users.append(CometUser(checksum_address(account),
                               CometAccount(principal, flags, balances),
                               _borrow_by_codec(chunk[-2]), _liquidatable_by_codec(chunk[-1])))
    return users


def _read_users(state: CometMarketState, accounts: Sequence[Address],
                results: Sequence[CallResult], sent: list[Call]) -> list[CometUser]:
    """read_users with the node's answers given: the calls it sends go to `sent`."""
    market = MarketConfig(key="m", chain="c", protocol="compound-v3", start_block=0,
                          addresses={"comet": COMET_ADDRESS})
    chain = ChainConfig(name="c", rpc_url="http://127.0.0.1:1", chain_id=1, confirmations=0)
    adapter = CompoundV3Adapter(None, market, chain)  # type: ignore[arg-type]  # no node

    async def answer(calls: Sequence[Call], block: int) -> list[CallResult]:
        sent.extend(calls)
        return list(results)

    adapter._calls = answer  # type: ignore[method-assign]
    return asyncio.run(adapter.read_users(state, accounts, 7))


@st.composite
def _account_answers(draw: st.DrawFn, n_assets: int) -> list[CallResult]:
    """One account's answers: mostly valid, at times damaged, reverted or empty."""
    names = ["userBasic", *["userCollateral"] * n_assets, "borrowBalanceOf", "isLiquidatable"]
    results = []
    for name in names:
        kind = draw(st.sampled_from(("valid",) * 20 + ("damaged", "reverted", "empty")))
        data = (b"" if kind == "empty" else draw(VALID[name]() if kind == "valid"
                                                 else _answers(name)))
        results.append(CallResult(kind != "reverted", data))
    return results


# accounts as read_users may get them: checksummed, lowercase, now and then not an address
ACCOUNTS = st.one_of(ADDRESSES, ADDRESSES.map(str.lower), ADDRESSES.map(str.lower),
                     ADDRESSES, ADDRESSES, ADDRESSES, st.sampled_from(ODD_ADDRESSES))


@given(st.data(), st.lists(ADDRESSES, max_size=3), st.lists(ACCOUNTS, max_size=4))
def test_read_users_is_what_the_generic_codec_gives(data: st.DataObject, assets: list[str],
                                                    accounts: list[Any]) -> None:
    """The same calls, and the same users or the same error, as encode_call and
    decode_output give for every call and answer."""
    state = _state(assets)
    # the calls go out before any answer is read: each account's encoding fails or not
    expected_calls = _outcome(_generic_calls, state, accounts)
    results = [r for _ in accounts for r in data.draw(_account_answers(len(assets)))]
    sent: list[Call] = []
    outcome = _outcome(_read_users, state, accounts, results, sent)
    if expected_calls[0] == "raises":
        assert outcome == expected_calls
        return
    assert sent == expected_calls[2]
    assert all(type(c) is Call for c in sent)
    assert outcome == _outcome(_generic_users, state, accounts, results)

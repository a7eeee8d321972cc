"""A market state read asks the pool for eMode categories 1..255; those never configured are
skipped by comparing the answer with its canonical encoding, without eth_abi. The skip must be
exactly what decoding gives (LT 0: left out), and anything else must still be decoded -- or
raise, as before."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from eth_abi import encode

from scanner import aio
from scanner.chain.abi import decode_output
from scanner.chain.multicall import Call, CallResult
from scanner.errors import InconsistentDataError
from scanner.protocols.aave_v3 import read
from scanner.protocols.aave_v3.read import (
    POOL,
    POOL_LIQUID_EMODE,
    UNSET_EMODE_BITMAP,
    UNSET_EMODE_CONFIG,
    UNSET_EMODE_DATA,
    AaveV3Adapter,
)

POOL_ADDRESS = "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2"
ORACLE_ADDRESS = "0x54586bE62E3c3580375aE3723C145253060Ca0C2"
SOURCE = "0x4200000000000000000000000000000000000006"
ZERO = "0x" + "00" * 20
DATA_TYPES = ["(uint16,uint16,uint16,address,string)"]


def test_the_unset_answers_are_the_canonical_encodings_of_zero() -> None:
    assert encode(DATA_TYPES, [(0, 0, 0, ZERO, "")]) == UNSET_EMODE_DATA
    ((ltv, lt, bonus, source, label),) = decode_output(POOL, "getEModeCategoryData",
                                                       UNSET_EMODE_DATA)
    assert (ltv, lt, bonus, label) == (0, 0, 0, "") and int(source, 16) == 0
    assert encode(["(uint16,uint16,uint16)"], [(0, 0, 0)]) == UNSET_EMODE_CONFIG
    assert decode_output(POOL_LIQUID_EMODE, "getEModeCategoryCollateralConfig",
                         UNSET_EMODE_CONFIG) == ((0, 0, 0),)
    assert encode(["uint128"], [0]) == UNSET_EMODE_BITMAP


class _Pool:
    """Answers by eMode id (1..255); any id not listed answers as never configured."""

    def __init__(self, answers: dict[int, CallResult], liquid: bool = False) -> None:
        self.answers, self.liquid = answers, liquid

    async def calls(self, calls: Sequence[Call], block: int) -> list[CallResult]:
        if len(calls) == 1:  # the v3.2+ probe: the bitmap getter
            return [CallResult(self.liquid, UNSET_EMODE_BITMAP if self.liquid else b"")]
        if not self.liquid:
            return [self.answers.get(n, CallResult(True, UNSET_EMODE_DATA))
                    for n in range(1, 256)]
        out = []
        for n in range(1, 256):
            config, bitmap = self.answers.get(n, (CallResult(True, UNSET_EMODE_CONFIG),
                                                  CallResult(True, UNSET_EMODE_BITMAP)))
            out += [config, bitmap]
        return out

    async def read(self, target: str, abi: Any, name: str, args: list[Any], block: int
                   ) -> tuple[int]:
        assert (target, name, args) == (ORACLE_ADDRESS, "getAssetPrice", [SOURCE])
        return (2_000_00000000,)


def _emodes(pool: _Pool) -> dict[int, Any]:
    adapter = object.__new__(AaveV3Adapter)
    adapter._calls = pool.calls  # type: ignore[method-assign]
    adapter._read = pool.read  # type: ignore[method-assign]
    return aio.run(adapter._read_emodes(POOL_ADDRESS, ORACLE_ADDRESS, 1))


def test_v30_categories_decoded_unless_never_configured() -> None:
    configured = CallResult(True, encode(DATA_TYPES, [(9000, 9300, 10100, SOURCE, "ETH")]))
    zero_but_longer = CallResult(True, UNSET_EMODE_DATA + bytes(32))  # decoded: LT 0 too
    zero_lt_labelled = CallResult(True, encode(DATA_TYPES, [(0, 0, 0, ZERO, "gone")]))
    emodes = _emodes(_Pool({1: configured, 2: zero_but_longer, 3: zero_lt_labelled}))
    assert list(emodes) == [1]
    e = emodes[1]
    assert (e.ltv_bps, e.lt_bps, e.bonus_bps, e.label) == (9000, 9300, 10100, "ETH")
    assert (e.price_source, e.price_source_8dec) == (SOURCE, 2_000_00000000)


@pytest.mark.parametrize("bad", [CallResult(False, UNSET_EMODE_DATA), CallResult(True, b""),
                                 CallResult(True, UNSET_EMODE_DATA[:-1])])
def test_v30_a_failed_or_damaged_answer_still_raises(bad: CallResult) -> None:
    with pytest.raises(InconsistentDataError):
        _emodes(_Pool({7: bad}))


def test_v32_categories_decoded_unless_never_configured() -> None:
    config = CallResult(True, encode(["(uint16,uint16,uint16)"], [(9000, 9300, 10100)]))
    bitmap = CallResult(True, encode(["uint128"], [0b101]))
    unset_config = CallResult(True, UNSET_EMODE_CONFIG)
    emodes = _emodes(_Pool({4: (config, bitmap), 5: (unset_config, bitmap)}, liquid=True))
    assert list(emodes) == [4]  # 5: LT 0 with a bitmap, decoded and left out as before
    assert (emodes[4].lt_bps, emodes[4].collateral_bitmap) == (9300, 0b101)
    with pytest.raises(InconsistentDataError):  # a reverted bitmap still raises
        _emodes(_Pool({6: (unset_config, CallResult(False, b""))}, liquid=True))


def test_the_skip_is_the_reads_own() -> None:
    assert read._is_answer(CallResult(True, b"\x01"), b"\x01")
    assert not read._is_answer(CallResult(False, b"\x01"), b"\x01")
    assert not read._is_answer(CallResult(True, b"\x01\x00"), b"\x01")

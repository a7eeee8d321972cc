"""The records built on the solver's hot path or per account read have a written-out __init__
(scanner/domain.py, Valuation): it must take exactly the dataclass fields, in order, with their
defaults; and every record survives a serialised copy, compiled (scanner/native.py) or not."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from scanner.domain import (
    Asset,
    Axis,
    Band,
    Direction,
    HistogramBin,
    MarketIdentity,
    MarketRead,
    Position,
    PositionResult,
    PositionStatus,
    ScanRecord,
    Share,
    SnapshotRecord,
    Valuation,
)
from scanner.protocols.aave_v2.rule import V2Position
from scanner.protocols.aave_v2.state import (
    V2Account,
    V2MarketState,
    V2Reserve,
    V2StableDebt,
    V2UserReserve,
)
from scanner.protocols.aave_v3.generic_logic import AccountLeg, AccountTotals
from scanner.protocols.aave_v3.liquidation_call import CallPrices, LiquidationCallOutcome
from scanner.protocols.aave_v3.rule import AavePosition
from scanner.protocols.aave_v3.state import (
    AaveAccount,
    AaveEMode,
    AaveMarketState,
    AaveReserve,
    AaveUserReserve,
)

# one value per field, each distinct from every default (PositionResult field order)
RESULT_VALUES: tuple[Any, ...] = (
    "market", "protocol", "0xAccount", "ETH", PositionStatus.AT_RISK, Direction.UP, 101, 102,
    103, 104, 105, 106, 107, 3, "0xPool", 108, "WETH", 18, True, "0xOwner", 109,
)
WRITTEN_OUT: list[tuple[type[Any], tuple[Any, ...]]] = [
    (PositionResult, RESULT_VALUES),
    (Valuation, (1, 2, 3)),
    (CallPrices, (4, 5)),
    (LiquidationCallOutcome, ("0xC", "0xD", 6, 7, 8)),
    (AaveUserReserve, ("0xA", 9, 10, True)),
    (AaveAccount, ("0xA", 1, (AaveUserReserve("0xA", 9, 10, True),), 11, 12, 13)),
    (AccountTotals, (14, 15, 16, 17, 18)),
    (AccountLeg, ("0xA", "0xS", 10**18, 19, 20, 21, 22, 23)),
    (Position, ("market", "aave-v3", "0xPool", "0xA", "a state", 2)),
]


@pytest.mark.parametrize(("kind", "values"), WRITTEN_OUT)
def test_written_out_init_takes_the_fields_in_order(kind: type[Any],
                                                    values: tuple[Any, ...]) -> None:
    names = [f.name for f in dataclasses.fields(kind)]
    assert len(names) == len(values)
    by_position, by_name = kind(*values), kind(**dict(zip(names, values, strict=True)))
    assert [getattr(by_position, name) for name in names] == list(values)
    assert by_name == by_position and hash(by_name) == hash(by_position)
    assert dataclasses.replace(by_position) == by_position
    last = values[-1]
    other = (not last) if isinstance(last, bool) else 999  # of the field's type (compiled: checked)
    changed = dataclasses.replace(by_position, **{names[-1]: other})
    assert changed != by_position and getattr(changed, names[-1]) == other


@pytest.mark.parametrize(("kind", "values"), [(AccountTotals, (1, 2, 3, 4)),
                                               (AccountLeg, ("0xA", "0xA", 1, 2, 3, 4, 5))])
def test_written_out_init_defaults_are_the_declared_ones(kind: type[Any],
                                                         values: tuple[Any, ...]) -> None:
    record = kind(*values)
    for f in dataclasses.fields(kind)[len(values):]:
        assert getattr(record, f.name) == f.default, f.name


def test_position_result_defaults_are_the_declared_ones() -> None:
    required = [f for f in dataclasses.fields(PositionResult)
                if f.default is dataclasses.MISSING]
    result = PositionResult(*RESULT_VALUES[:len(required)])
    for f in dataclasses.fields(PositionResult)[len(required):]:
        assert getattr(result, f.name) == f.default, f.name


def _records() -> list[Any]:
    axis = Axis("ETH", frozenset({"0xA"}), "0xA", 2_000 * 10**8, quote_price_8dec=1)
    reserve = AaveReserve("0xA", "WETH", 0, 18, 8_000, 8_250, 10_500, 1, 2_000 * 10**8,
                          debt_ceiling=3, protocol_fee_bps=1_000)
    emode = AaveEMode(1, 9_000, 9_300, 10_200, "E", "0xS", 4, 0b1)
    market = AaveMarketState("m", 1, 10**8, 1, 1, {"0xA": reserve}, {1: emode}, "0xPool", True)
    held = AaveUserReserve("0xA", 5, 6, True)
    account = AaveAccount("0xA", 1, (held,), 7, 8, 9)
    position = Position("m", "aave-v3", "0xPool", "0xA", AavePosition(account, market), 1)
    share = Share("m", "aave-v3", 1, 2, 3, 4)
    scan = ScanRecord("chain", 1, "m", "aave-v3", 5, 6, 3)
    return [
        Asset("0xA", "WETH", 2_000 * 10**8), axis, Valuation(1, 2, 3), position,
        MarketRead("m", "aave-v3", 5, 6, 3, (Asset("0xA", "WETH", 1),), (position,), ("0xB",)),
        PositionResult(*RESULT_VALUES), share,
        HistogramBin("ETH", Direction.DOWN, 0, 1, 2, 3, 4, 5, 6, 7, (share,)),
        Band("ETH", Direction.DOWN, 1, 1, 2, 3, 4, 5, 6, 7, -8, -9, ("0xA",), "wall", (share,),
             track_id=4, split_from=2),
        scan, MarketIdentity(1, "aave-v3", "0xP", 7), SnapshotRecord("chain", 1, 5, 6, (scan,)),
        reserve, emode, market, held, account, AccountTotals(1, 2, 3, 4, 5),
        AccountLeg("0xA", "0xS", 10**18, 1, 2, 3, 4, 5),
        *_v2_records(),
    ]


def _v2_records() -> list[Any]:
    """Aave v2's state (compiled since round 18) and the position that holds it."""
    reserve = V2Reserve("0xA", "WETH", 0, 18, 8_000, 8_250, 10_500, True, False, True, False,
                        10**18, 10**27, 2 * 10**27, 3, 4, 5, "0xa", "0xs", "0xv")
    stable = V2StableDebt(6, 7, 8)
    held = V2UserReserve("0xA", True, True, 9, 10, stable, 11, 12, 13)
    account = V2Account("0xB", (held,), 14, 15, 16, 17)
    market = V2MarketState("m", "0xPool", 2, "0xA", 2_000 * 10**8, 1, 2, {"0xA": reserve})
    return [reserve, stable, held, account, market, V2Position(account, market)]


@pytest.mark.parametrize("record", _records(), ids=lambda r: type(r).__name__)
def test_every_record_survives_a_serialised_copy(record: Any) -> None:
    for copied in (pickle.loads(pickle.dumps(record)), copy.deepcopy(record)):
        assert type(copied) is type(record)
        assert [getattr(copied, f.name) for f in dataclasses.fields(record)] == [
            getattr(record, f.name) for f in dataclasses.fields(record)]

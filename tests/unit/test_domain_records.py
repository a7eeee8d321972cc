"""The records built on the solver's hot path have a written-out __init__ (scanner/domain.py,
Valuation): it must take exactly the dataclass fields, in order, with their defaults; and
every record survives a serialised copy, compiled (scanner/native.py) or not."""

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
from scanner.protocols.aave_v3.liquidation_call import CallPrices, LiquidationCallOutcome
from scanner.protocols.aave_v3.rule import AavePosition
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState

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
    changed = dataclasses.replace(by_position, **{names[-1]: 999})  # every last field: an int
    assert changed != by_position and getattr(changed, names[-1]) == 999


def test_position_result_defaults_are_the_declared_ones() -> None:
    required = [f for f in dataclasses.fields(PositionResult)
                if f.default is dataclasses.MISSING]
    result = PositionResult(*RESULT_VALUES[:len(required)])
    for f in dataclasses.fields(PositionResult)[len(required):]:
        assert getattr(result, f.name) == f.default, f.name


def _records() -> list[Any]:
    axis = Axis("ETH", frozenset({"0xA"}), "0xA", 2_000 * 10**8, quote_price_8dec=1)
    market = AaveMarketState("m", 1, 10**8, 1, 1, {}, {})
    position = Position("m", "aave-v3", "0xPool", "0xA",
                        AavePosition(AaveAccount("0xA", 0, (), 0, 0, 0), market), 1)
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
    ]


@pytest.mark.parametrize("record", _records(), ids=lambda r: type(r).__name__)
def test_every_record_survives_a_serialised_copy(record: Any) -> None:
    for copied in (pickle.loads(pickle.dumps(record)), copy.deepcopy(record)):
        assert type(copied) is type(record)
        assert [getattr(copied, f.name) for f in dataclasses.fields(record)] == [
            getattr(record, f.name) for f in dataclasses.fields(record)]

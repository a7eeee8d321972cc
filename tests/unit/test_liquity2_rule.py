"""Liquity v2's integer rules (scanner.protocols.liquity_v2.rule) on hand-computed cases."""

from __future__ import annotations

import pytest

from scanner.errors import InconsistentDataError
from scanner.protocols.liquity_v2.rule import (
    ONE_YEAR_SECONDS,
    UINT256_MAX,
    calc_interest,
    collateral_ratio,
    interest_period,
    latest_trove_debt,
    liquidatable,
)
from scanner.protocols.liquity_v2.state import Liquity2Batch, Liquity2Trove

E18 = 10**18
PCT = 10**16
T0 = 1_700_000_000


def _trove(debt: int = 0, coll: int = 10 * E18, rate: int = 5 * PCT, batch: str | None = None,
           shares: int = 0, redist_debt: int = 0, redist_coll: int = 0) -> Liquity2Trove:
    return Liquity2Trove(1, "0x" + "11" * 20, 1, debt, coll, T0, rate, batch, shares,
                         redist_debt, redist_coll, 0, 0)


def test_a_year_of_simple_interest_is_the_rate() -> None:
    assert calc_interest(1_000 * E18 * 5 * PCT, ONE_YEAR_SECONDS) == 50 * E18


def test_interest_floors() -> None:
    # 1 wei of debt at 100% for a second is 1/31536000 wei: floored to 0
    assert calc_interest(1 * E18, 1) == 0
    assert calc_interest(ONE_YEAR_SECONDS * E18, 1) == 1


def test_the_period_stops_at_the_shutdown() -> None:
    assert interest_period(T0, T0 + 100, 0) == 100
    assert interest_period(T0, T0 + 100, T0 + 40) == 40
    assert interest_period(T0 + 50, T0 + 100, T0 + 40) == 0  # updated after the shutdown
    with pytest.raises(InconsistentDataError):
        interest_period(T0 + 1, T0, 0)


def test_an_individual_trove_accrues_on_its_recorded_debt() -> None:
    trove = _trove(debt=10_000 * E18, redist_debt=7, redist_coll=3)
    debt = latest_trove_debt(trove, None, T0 + ONE_YEAR_SECONDS // 2, 0)
    assert debt.accrued_interest == 250 * E18
    assert debt.entire_debt == 10_000 * E18 + 250 * E18 + 7
    assert debt.entire_coll == 10 * E18 + 3


def test_a_batched_trove_takes_each_term_pro_rata_floored() -> None:
    batch = Liquity2Batch("0x" + "22" * 20, 3_000 * E18 + 1, 10 * PCT, 1 * PCT, 3, T0)
    trove = _trove(batch=batch.manager, shares=1)
    debt = latest_trove_debt(trove, batch, T0 + ONE_YEAR_SECONDS, 0)
    assert debt.recorded_debt == (3_000 * E18 + 1) // 3
    assert debt.accrued_interest == (3_000 * E18 + 1) * 10 * PCT // E18 // 3
    assert debt.accrued_management_fee == (3_000 * E18 + 1) * PCT // E18 // 3
    assert debt.entire_debt == (debt.recorded_debt + debt.accrued_interest
                                + debt.accrued_management_fee)


def test_an_empty_batch_gives_no_debt() -> None:
    batch = Liquity2Batch("0x" + "22" * 20, 0, 10 * PCT, 1 * PCT, 0, T0)
    assert latest_trove_debt(_trove(batch=batch.manager), batch, T0 + 5, 0).entire_debt == 0


def test_liquidatable_below_mcr_exactly() -> None:
    mcr = 110 * PCT
    # 1 coll at 1,100 against 1,000 debt: ICR = 110% exactly, not liquidatable
    assert collateral_ratio(E18, 1_000 * E18, 1_100 * E18) == mcr
    assert not liquidatable(E18, 1_000 * E18, 1_100 * E18, mcr)
    assert liquidatable(E18, 1_000 * E18, 1_100 * E18 - 1, mcr)
    assert collateral_ratio(E18, 0, 1) == UINT256_MAX
    assert not liquidatable(E18, 0, 1, mcr)

"""The mirror of a derived Aave v3 account (aave_v3/derive.py `_Mirror`) against
`account_totals`, the mirror of getUserAccountData that a full read checks every account with.

A derived account's reported collateral, debt and health factor are the mirror's (no pool
summary is read for it), and a debt of 0 drops it as a full read drops it: the leg-table route
must give exactly `account_totals`' figures, or the same error where it raises -- on random
markets of every arithmetic (eMode categories with bitmaps and v3.0 price sources, a zero or
missing source price, reserve LT 0), with one mirror (its tables built once) reused across
accounts as in a block.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.protocols.aave_v3.derive import _Mirror
from scanner.protocols.aave_v3.generic_logic import account_totals
from scanner.protocols.aave_v3.state import AaveAccount, AaveMarketState
from tests.unit.test_aave_leg_table import accounts, markets, outcome


def reference(account: AaveAccount, market: AaveMarketState) -> object:
    def figures() -> tuple[int, int, int]:
        totals = account_totals(account, market)
        return totals.collateral_8dec, totals.debt_8dec, totals.health_factor_wad
    return outcome(figures)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market=markets(), held=st.lists(accounts(), min_size=1, max_size=6))
def test_derived_mirror_equals_account_totals(market: AaveMarketState,
                                              held: list[AaveAccount]) -> None:
    mirror = _Mirror.of(market)  # one per block: its tables serve every account
    for account in held:
        assert outcome(lambda a=account: mirror.totals(a, market)) == reference(account, market)
    assert mirror.tables.keys() == {account.emode_category for account in held}

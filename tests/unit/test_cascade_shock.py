"""`--shock` and `--to` parsing: signed percentages, one-line usage errors (exit 2)."""

from __future__ import annotations

import re

import pytest

from scanner.cascade.shock import parse_shock_bps, parse_to_price_8dec, shocked_price_8dec
from scanner.errors import UsageError


@pytest.mark.parametrize(("text", "bps"), [("-5%", -500), ("+12.5%", 1250), ("-40%", -4000),
                                           ("-0.01%", -1), ("+1000%", 100_000)])
def test_signed_percentages(text: str, bps: int) -> None:
    assert parse_shock_bps(text) == bps


@pytest.mark.parametrize(("text", "fix"), [
    ("abc", "signed percentage"), ("50%", "signed percentage"), ("-5", "signed percentage"),
    ("-%", "signed percentage"), ("-x%", "signed percentage"), ("-0%", "non-zero"),
    ("-100%", "at most -99%"), ("+2000%", "at most +1000%"), ("-0.001%", "at least 0.01%"),
    ("-nan%", "non-zero"),
])
def test_bad_shocks_name_the_fix(text: str, fix: str) -> None:
    with pytest.raises(UsageError, match=re.escape(fix)) as caught:
        parse_shock_bps(text)
    assert caught.value.exit_code == 2 and "\n" not in caught.value.message


def test_shocked_price() -> None:
    assert shocked_price_8dec(3_000 * 10**8, -500) == 2_850 * 10**8


@pytest.mark.parametrize("text", ["abc", "0", "-5", "inf"])
def test_bad_target_prices(text: str) -> None:
    with pytest.raises(UsageError, match="--to"):
        parse_to_price_8dec(text)


def test_target_price() -> None:
    assert parse_to_price_8dec("$2,500.5") == 250_050_000_000

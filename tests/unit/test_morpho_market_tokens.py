"""A Morpho token the USD source cannot price takes the price the market's oracle implies."""

from __future__ import annotations

import pytest

from scanner.errors import ConfigError
from scanner.protocols.morpho_blue.adapter import market_tokens
from scanner.protocols.morpho_blue.curve import Token
from scanner.protocols.morpho_blue.read import MarketAtBlock, MarketParams
from scanner.protocols.morpho_blue.rule import MarketTotals

COLL, LOAN = "0x" + "11" * 20, "0x" + "22" * 20


def _market(price_1e36: int) -> MarketAtBlock:
    params = MarketParams(LOAN, COLL, "0x" + "33" * 20, "0x" + "44" * 20, 86 * 10**16)
    return MarketAtBlock("0x" + "ab" * 32, params, MarketTotals(0, 0, 0, 0, 0, 0), 0,
                         price_1e36)


# 1 wstETH (18 dec) = 3,000 USDX (6 dec): P = 3000e6 * 1e36 / 1e18
PRICE = 3_000 * 10**6 * 10**36 // 10**18


def test_an_unpriced_loan_token_is_worth_the_collateral_over_the_oracle_price() -> None:
    tokens = {COLL: Token("wstETH", 18, 2_994 * 10**8), LOAN: Token("USDX", 6, 0)}
    collateral, loan = market_tokens(_market(PRICE), tokens, "m")
    assert collateral == tokens[COLL]
    assert loan.usd_8dec == 2_994 * 10**8 // 3_000  # 0.998 USD


def test_an_unpriced_collateral_token_is_worth_the_oracle_price_in_loan_dollars() -> None:
    tokens = {COLL: Token("LSTX", 18, 0), LOAN: Token("USDC", 6, 10**8)}
    collateral, loan = market_tokens(_market(PRICE), tokens, "m")
    assert (collateral.usd_8dec, loan) == (3_000 * 10**8, tokens[LOAN])


def test_priced_tokens_are_left_alone() -> None:
    tokens = {COLL: Token("wstETH", 18, 1), LOAN: Token("USDC", 6, 2)}
    assert market_tokens(_market(PRICE), tokens, "m") == (tokens[COLL], tokens[LOAN])


def test_no_priced_token_is_a_one_line_error_naming_the_key() -> None:
    tokens = {COLL: Token("LSTX", 18, 0), LOAN: Token("USDX", 6, 0)}
    with pytest.raises(ConfigError, match=r"markets\.m\.usd_price_oracle .* LSTX"):
        market_tokens(_market(PRICE), tokens, "m")

"""Query parameters of the HTTP API, checked before any database work.

    query = Query(request.query, allowed={"axis", "limit"})   # BadQuery for any other name
    limit = query.integer("limit", default=100, low=1, high=1000)
    price = query.usd_8dec("min_price")

Every failure is a `BadQuery` whose message is one line naming the parameter and what it
accepts: the app answers it with 400. Names and values are bounded in length, so an oversized
query is refused here instead of reaching SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

MAX_VALUE_CHARS = 200
MAX_PARAMS = 16
USD_DECIMALS = 8
# axis, market and protocol names as the config writes them: short, no spaces or quotes
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,127}$")
_DECIMAL = re.compile(r"^[0-9]{1,30}(\.[0-9]{1,8})?$")


class BadQuery(ValueError):
    """A query parameter the API does not accept (answered with 400)."""


class Query:
    """The parameters of one request: each may appear once, only known names."""

    def __init__(self, raw: Mapping[str, str] | Iterable[tuple[str, str]],
                 allowed: Iterable[str]) -> None:
        pairs = list(raw.items()) if isinstance(raw, Mapping) else list(raw)
        names = set(allowed)
        if len(pairs) > MAX_PARAMS:
            raise BadQuery(f"too many query parameters ({len(pairs)}; at most {MAX_PARAMS})")
        self._values: dict[str, str] = {}
        for name, value in pairs:
            if name not in names:
                known = ", ".join(sorted(names)) or "none"
                raise BadQuery(f"unknown query parameter {_show(name)} (known: {known})")
            if name in self._values:
                raise BadQuery(f"query parameter {name} given more than once")
            if len(value) > MAX_VALUE_CHARS:
                raise BadQuery(f"query parameter {name} is longer than {MAX_VALUE_CHARS} "
                               "characters")
            self._values[name] = value

    def has(self, name: str) -> bool:
        return name in self._values

    def name(self, key: str) -> str | None:
        """An axis, market, protocol or chain name (None when absent)."""
        value = self._values.get(key)
        if value is None:
            return None
        if not _NAME.match(value):
            raise BadQuery(f"{key}={_show(value)} is not a name (letters, digits, . _ : / + -)")
        return value

    def choice(self, key: str, choices: Iterable[str]) -> str | None:
        value = self._values.get(key)
        options = tuple(choices)
        if value is not None and value not in options:
            raise BadQuery(f"{key}={_show(value)} is not one of {', '.join(options)}")
        return value

    def integer(self, key: str, *, default: int | None = None, low: int = 0,
                high: int = 2**62) -> int | None:
        value = self._values.get(key)
        if value is None:
            return default
        if not value.isascii() or not value.isdigit() or len(value) > 19:
            raise BadQuery(f"{key}={_show(value)} is not a whole number")
        number = int(value)
        if not low <= number <= high:
            raise BadQuery(f"{key}={number} is out of range ({low} to {high})")
        return number

    def usd_8dec(self, key: str) -> int | None:
        """A USD price like 2500 or 2500.5, as an 8-decimal integer, exactly."""
        value = self._values.get(key)
        if value is None:
            return None
        if not _DECIMAL.match(value):
            raise BadQuery(f"{key}={_show(value)} is not a USD price (e.g. 2500 or 2500.25, "
                           "at most 8 decimals)")
        try:
            return int(Decimal(value).scaleb(USD_DECIMALS))
        except InvalidOperation:  # cannot happen after the pattern; kept one-line all the same
            raise BadQuery(f"{key}={_show(value)} is not a USD price") from None


def _show(text: str) -> str:
    """A value quoted for a message, cut short and on one line."""
    shown = text if len(text) <= 40 else text[:40] + "..."
    return repr(shown.replace("\n", " ").replace("\r", " "))

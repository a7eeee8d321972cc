"""Keep API keys out of every message: RPC and database URLs carry them in the user:password,
the path (`/v3/<key>`) or the query (`?apikey=<key>`).

    redact_url("https://u:pw@eth.example/v3/KEY?x=1")   # "https://eth.example/..."
    register_url(url)                                    # done by config loading
    scrub(text)                                          # every registered secret -> "***"

`redact_url` is for messages we build; `scrub` is the safety net applied to everything printed
or logged (cli.main, the logging filter), so a secret inside a third-party exception text
(aiohttp's InvalidURL, TooManyRedirects) or a message we forgot is hidden all the same.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import unquote, urlsplit

MASK = "***"
# A path segment or query value shorter than this is not treated as a key: masking "v3" or
# "mainnet" everywhere would garble messages, and real API keys are far longer.
MIN_SECRET_CHARS = 6

_secrets: set[str] = set()
_lock = threading.Lock()


def redact_url(url: str) -> str:
    """scheme://host[:port]/... : no user:password, no path, no query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:  # e.g. a port that is not a number: show nothing of it
        return "<invalid URL>"
    tail = "/..." if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{tail}"


def url_secrets(url: str, *, path_is_secret: bool = True) -> set[str]:
    """The parts of `url` that may be a credential, raw and percent-decoded. A database URL's
    path is a file or database name (`path_is_secret=False`); an RPC URL's is often a key."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return {url}
    path = parts.path if path_is_secret and parts.path.strip("/") else ""
    if not (path or parts.query or parts.fragment or "@" in parts.netloc):
        return set()  # nothing to hide, and hiding a plain host or file name would hurt
    found = {url} if path_is_secret else set()
    netloc_user = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if netloc_user:
        found.add(netloc_user + "@")  # however short, never show user:password@
    candidates = [netloc_user, *netloc_user.split(":")]
    if path:
        candidates += [path, *path.split("/")]
    if parts.query:
        candidates.append(parts.query)
        for pair in parts.query.split("&"):
            candidates += [pair, pair.partition("=")[2]]
    if parts.fragment:
        candidates.append(parts.fragment)
    for candidate in candidates:
        for form in (candidate, unquote(candidate)):
            if len(form) >= MIN_SECRET_CHARS and form.strip("/"):
                found.add(form)
    return found


def register_url(url: str, *, path_is_secret: bool = True) -> None:
    """Remember the secret parts of `url` so that `scrub` hides them from now on."""
    with _lock:
        _secrets.update(url_secrets(url, path_is_secret=path_is_secret))


def scrub(text: str) -> str:
    """`text` with every registered secret replaced by ***, longest first."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs the final message of each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True

"""Every answer of the HTTP app passes through the secret scrubber before it leaves.

The API reads only the database, which holds no RPC URL; the daemon's metrics text and error
messages are the places a key could slip in. `scrub_response` rewrites a text body with
`scanner.redact.scrub` (every secret registered when the config was loaded -> ***).
"""

from __future__ import annotations

from aiohttp import web

from scanner.redact import scrub


def scrub_response(response: web.StreamResponse) -> web.StreamResponse:
    """The same response, its body scrubbed (files served from the package are left alone)."""
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return response
    text = response.body.decode(response.charset or "utf-8", errors="replace")
    clean = scrub(text)
    if clean != text:
        response.body = clean.encode(response.charset or "utf-8")
    return response

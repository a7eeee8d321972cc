"""The HTTP app over stored snapshots: /healthz, /metrics, /api/*, the web page at /.

    app = build_app(engine)                      # `liqscan serve`: the database alone
    app = build_app(engine, live=daemon)         # the daemon: + lag behind head, its metrics
    web.run_app(app, host="127.0.0.1", port=8787)

Read-only: every route is GET (or HEAD); anything else answers 405. A request with a body, a
query longer than MAX_QUERY_CHARS or a parameter the route does not know answers 4xx with a
one-line JSON `{"error": ...}`, before the database is touched. Every answer passes through
the secret scrubber (scanner/redact.py), so an RPC key can never leave the process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from aiohttp import web
from sqlalchemy import Engine

from scanner.errors import DatabaseError, ScannerError, UsageError
from scanner.serve import health
from scanner.serve.api import Api, json_response
from scanner.serve.openapi import openapi_document
from scanner.serve.params import BadQuery
from scanner.serve.redaction import scrub_response
from scanner.serve.status import LiveStatus
from scanner.store.repository import Repository, ScanNotFoundError

log = logging.getLogger(__name__)
DEFAULT_STALE_AFTER_S = 600.0
MAX_QUERY_CHARS = 2048
STATIC_DIR = Path(__file__).with_name("static")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CLIENT_MAX_BODY_BYTES = 1024  # GET only: no route reads a body
_PAGE_HEADERS = {
    # the page and its scripts come from this server only; no inline script, no framing
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
}


def build_app(engine: Engine, live: LiveStatus | None = None, *,
              stale_after_s: float = DEFAULT_STALE_AFTER_S,
              clock: Callable[[], float] = time.time,
              axis_units: Mapping[str, str] | None = None) -> web.Application:
    """The app over `engine` (must be migrated: raises DatabaseError otherwise).
    `axis_units`: axis name -> what its prices count (config AxisConfig.unit; USD if absent)."""
    repo = Repository(engine)
    app = web.Application(middlewares=[_headers, _guard, _errors],
                          client_max_size=CLIENT_MAX_BODY_BYTES)
    api = Api(repo, axis_units)
    api.add_routes(app)
    checks = health.Health(repo, api.summaries, live, stale_after_s, clock)
    app.router.add_get("/healthz", checks.healthz)
    app.router.add_get("/metrics", checks.metrics)
    app.router.add_get("/api/openapi.json", _openapi)
    app.router.add_get("/", _page)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    return app


async def _openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document())


async def _page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers=_PAGE_HEADERS)


def _error(status: int, message: str, **headers: str) -> web.Response:
    response = json_response({"error": message}, status=status)
    response.headers.update(headers)
    return response


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse what a read-only API never needs, before routing."""
    if request.method not in ("GET", "HEAD"):
        return _error(405, f"{request.method} not allowed: this API is read-only (GET)",
                      Allow="GET, HEAD")
    if len(request.query_string) > MAX_QUERY_CHARS:
        return _error(414, f"query string longer than {MAX_QUERY_CHARS} characters")
    if request.body_exists:
        return _error(413, "a GET request carries no body")
    return await handler(request)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors as one-line JSON; an unexpected one is logged, its text never shown."""
    try:
        return await handler(request)
    except BadQuery as exc:
        return _error(400, str(exc))
    except ScanNotFoundError as exc:
        return _error(404, exc.message)
    except UsageError as exc:
        return _error(400, exc.message)
    except DatabaseError as exc:
        return _error(503, exc.message)
    except ScannerError as exc:
        return _error(500, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason, **{k: v for k, v in exc.headers.items()
                                                 if k == "Allow"})
    except Exception:
        log.exception("serving %s failed", request.path)
        return _error(500, "internal error (logged by the server)")


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path != "/" and not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return scrub_response(response)

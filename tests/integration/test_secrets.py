"""An API key in an RPC URL (user:password, path, query) never shows: not in messages, not in
`-v` logs, not in the database, not in exports -- on success and on every error path,
including aiohttp's own exceptions (an invalid port, a redirect loop).

The node is reached through a real HTTP server that accepts any path, query and credentials
(as a provider does) and forwards to the devnet, or misbehaves on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from scanner.devnet.network import Devnet, seeded_devnet, write_config
from tests.threaded_http import Handler, forwarding_handler, serve_in_thread

pytestmark = pytest.mark.integration
SECRETS = ("keyuser", "S3cretPassw0rd", "PATHKEY0123456789", "QUERYKEY987654")
CREDENTIALS = "keyuser:S3cretPassw0rd@"
KEYED_TAIL = "/v3/PATHKEY0123456789?apikey=QUERYKEY987654"


def liqscan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LIQSCAN_NO_PROGRESS": "1"}
    env.pop("LIQSCAN_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "scanner.cli", "-v", *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def keyed(base_url: str) -> str:
    """http://HOST:PORT -> http://user:password@HOST:PORT/v3/<key>?apikey=<key>"""
    scheme, rest = base_url.split("://", 1)
    return f"{scheme}://{CREDENTIALS}{rest.rstrip('/')}{KEYED_TAIL}"


def assert_no_secret(*texts: str | bytes) -> None:
    for text in texts:
        data = text if isinstance(text, bytes) else text.encode()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} leaked in {data[:3000]!r}"


@pytest.fixture(scope="module")
def devnet() -> Iterator[Devnet]:
    with seeded_devnet(seed=5, aave_positions=150) as net:
        yield net


def _config(devnet: Devnet, folder: Path, rpc_url: str) -> Path:
    path = folder / "config.toml"
    write_config(devnet, path, database_url=f"sqlite:///{folder / 'liqscan.db'}")
    assert liqscan("--config", str(path), "db", "upgrade", cwd=folder).returncode == 0
    path.write_text(path.read_text().replace(devnet.rpc_url, rpc_url))
    return path


def test_a_keyed_url_leaves_no_trace(devnet: Devnet, tmp_path: Path) -> None:
    with serve_in_thread(forwarding_handler(devnet.rpc_url)) as proxy:
        config = _config(devnet, tmp_path, keyed(proxy))
        scanned = liqscan("--config", str(config), "scan", cwd=tmp_path)
        assert scanned.returncode == 0, scanned.stderr
        outputs = [scanned.stdout, scanned.stderr]
        for what in ("positions", "bands"):
            out = tmp_path / f"{what}.json"
            done = liqscan("--config", str(config), "export", "--what", what, "--format", "json",
                           "--out", str(out), cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            outputs += [done.stdout, done.stderr, out.read_bytes()]
        listed = liqscan("--config", str(config), "positions", "--json", cwd=tmp_path)
        outputs += [listed.stdout, listed.stderr]
    assert_no_secret(*outputs, (tmp_path / "liqscan.db").read_bytes())


async def _redirect_loop(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(location=str(request.url))  # the same URL, key and all, forever


async def _unauthorized(request: web.Request) -> web.StreamResponse:
    return web.Response(status=401, text=f"invalid API key {request.path_qs}")


async def _always_503(request: web.Request) -> web.StreamResponse:
    return web.Response(status=503, text="<html>overloaded</html>", headers={"Retry-After": "0"})


async def _html_200(request: web.Request) -> web.StreamResponse:
    return web.Response(status=200, text=f"<html>{request.url}</html>")


async def _rpc_error_echo(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    message = f"unsupported method for key {request.path_qs}"
    return web.json_response([{"jsonrpc": "2.0", "id": item["id"],
                               "error": {"code": -32601, "message": message}} for item in body])


@pytest.mark.parametrize(("handler", "code"), [
    pytest.param(_redirect_loop, 75, id="redirect-loop"),
    pytest.param(_unauthorized, 75, id="http-401"),
    pytest.param(_always_503, 75, id="http-503"),
    pytest.param(_html_200, 75, id="html-200"),
    pytest.param(_rpc_error_echo, 65, id="error-echoing-the-url"),
])
def test_no_error_path_shows_the_key(devnet: Devnet, tmp_path: Path, handler: Handler,
                                     code: int) -> None:
    with serve_in_thread(handler) as server:
        config = _config(devnet, tmp_path, keyed(server))
        result = liqscan("--config", str(config), "scan", cwd=tmp_path)
    assert result.returncode == code and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("liqscan: error: ")
    assert_no_secret(result.stdout, result.stderr)


@pytest.mark.parametrize(("url", "code"), [
    pytest.param("http://{creds}127.0.0.1:9{tail}", 75, id="connection-refused"),
    pytest.param("http://{creds}127.0.0.1:99999{tail}", 78, id="port-out-of-range"),
    pytest.param("http://{creds}127.0.0.1:abc{tail}", 78, id="port-not-a-number"),
    pytest.param("http://{creds}no-such-host.invalid{tail}", 75, id="unknown-host"),
])
def test_unusable_urls_do_not_show_the_key(devnet: Devnet, tmp_path: Path, url: str,
                                           code: int) -> None:
    config = _config(devnet, tmp_path, url.format(creds=CREDENTIALS, tail=KEYED_TAIL))
    result = liqscan("--config", str(config), "scan", cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stdout, result.stderr)


def test_a_redirect_loop_is_refused_at_once(devnet: Devnet, tmp_path: Path) -> None:
    """A redirect loop answers the same on every attempt: no retries, exit 75, rpc_url named."""
    with serve_in_thread(_redirect_loop) as server:
        config = _config(devnet, tmp_path, keyed(server))
        result = liqscan("--config", str(config), "scan", cwd=tmp_path)
    assert result.returncode == 75, result.stderr
    assert "RPC retry" not in result.stderr  # -v logs every retry
    last = result.stderr.strip().splitlines()[-1]
    assert "answers with redirects that lead to no node (TooManyRedirects): check rpc_url" in last
    assert_no_secret(result.stdout, result.stderr)

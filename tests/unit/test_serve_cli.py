"""`liqscan serve` as a user runs it: a real process over a stored database, real HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scanner.serve.cli import is_loopback, parse_http_address
from scanner.store.repository import Repository
from tests.conftest import make_sample_scan

RPC_KEY = "k3yOfTheRpcProvider0123456789"
QUERY_KEY = "queryApiKey987654321"
RPC_URL = f"https://eth-mainnet.example.com/v2/{RPC_KEY}?apikey={QUERY_KEY}"
ROUTES = ["/", "/healthz", "/metrics", "/api/openapi.json", "/api/snapshots", "/api/axes",
          "/api/bands", "/api/histogram", "/api/positions", "/api/history?axis=ETH",
          "/static/app.js", f"/api/positions?limit={RPC_KEY}", f"/{RPC_KEY}"]


def write_config(path: Path, database_url: str) -> Path:
    path.write_text(f"""
[database]
url = "{database_url}"

[chains.devnet]
rpc_url = "{RPC_URL}"
chain_id = 31337

[[markets]]
key = "devnet-aave-v3"
chain = "devnet"
protocol = "aave-v3"
pool_addresses_provider = "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"
start_block = 1

[axes.ETH]
members = ["WETH"]
""")
    return path


@contextmanager
def liqscan_serve(*args: str, serve_args: tuple[str, ...] = ()) -> Iterator[str]:
    """Start `liqscan ARGS serve --http 127.0.0.1:0 SERVE_ARGS`; yield its base URL; stop it."""
    env = {**os.environ, "LIQSCAN_NO_PROGRESS": "1"}
    env.pop("LIQSCAN_CONFIG", None)
    command = [sys.executable, "-m", "scanner.cli", *args, "serve", "--http", "127.0.0.1:0",
               *serve_args]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # blocks until it listens (or dies: empty line)
        found = re.search(r"serving on (http://\S+)", line)
        assert found, f"liqscan serve did not start: {line}{process.stderr.read()}"
        yield found.group(1).rstrip("/")
    finally:
        process.terminate()
        process.wait(timeout=30)


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_serve_answers_every_route_and_never_shows_the_rpc_key(
        repo: Repository, db_url: str, tmp_path: Path) -> None:
    sample = make_sample_scan(block=100)
    repo.save_scan(sample.record, sample.positions, sample.bins, sample.bands,
                   sample.discovered, 100)
    config = write_config(tmp_path / "config.toml", db_url)
    # a snapshot is stale after 30 years: /healthz is 200 whatever the test machine's speed
    with liqscan_serve("--config", str(config), serve_args=("--stale-after", "1e9")) as base:
        answers = {route: fetch(base + route) for route in ROUTES}
    for route, (status, body) in answers.items():
        assert RPC_KEY not in body and QUERY_KEY not in body, route
        assert status == (404 if route == f"/{RPC_KEY}" else
                          400 if "limit=" in route else
                          200), (route, status, body)
    _, bands = answers["/api/bands"]
    assert len(json.loads(bands)["bands"]) == len(sample.bands)


def test_serve_refuses_a_bad_address(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path / 'x.db'}")
    done = subprocess.run([sys.executable, "-m", "scanner.cli", "--config", str(config),
                           "serve", "--http", "localhost"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "expected HOST:PORT" in done.stderr


def test_serve_an_unmigrated_database_exits_76(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path / 'empty.db'}")
    done = subprocess.run([sys.executable, "-m", "scanner.cli", "--config", str(config),
                           "serve"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 76 and "liqscan db upgrade" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:8787", ("127.0.0.1", 8787)), ("[::1]:80", ("::1", 80)),
    ("0.0.0.0:0", ("0.0.0.0", 0)),
])
def test_parse_http_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_http_address(text) == expected


def test_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")

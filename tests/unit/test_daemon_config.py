"""The [daemon] section and a chain's ws_url: defaults, values, and errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.daemon.settings import AlertRules, RetentionPolicy, require_http
from scanner.errors import ConfigError, UsageError
from tests.unit.test_config import VALID, load_text

DAEMON = """
[daemon]
http = ":9100"
scan_interval_blocks = 5
chains = ["ethereum"]

[daemon.retention]
keep_all_hours = 12

[daemon.alerts]
webhooks = ["https://hooks.example/liqscan"]
near_band_bps = 300
near_band_min_usd = 1000000
liquidatable_now_usd = 250000
"""


def test_defaults_without_a_daemon_section(tmp_path: Path) -> None:
    config = load_text(tmp_path, VALID)
    daemon = config.daemon
    assert (daemon.http, daemon.chains, daemon.scan_interval_blocks) == (None, (), 1)
    assert daemon.retention is None  # nothing is deleted unless asked for
    assert daemon.alerts == AlertRules() and not daemon.alerts.any_rule
    assert config.chains["ethereum"].ws_url is None


def test_daemon_section_values(tmp_path: Path) -> None:
    text = VALID.replace("confirmations = 12", 'confirmations = 12\nws_url = "wss://node/ws"')
    daemon = load_text(tmp_path, text + DAEMON).daemon
    assert daemon.http == ("127.0.0.1", 9100)
    assert (daemon.scan_interval_blocks, daemon.chains) == (5, ("ethereum",))
    assert daemon.retention == RetentionPolicy(keep_all_hours=12, keep_hourly_days=30)
    rules = daemon.alerts
    assert (rules.near_band_bps, rules.near_band_min_usd) == (300, 1_000_000)
    assert (rules.liquidatable_now_usd, rules.band_growth_bps) == (250_000, None)
    assert rules.webhooks == ("https://hooks.example/liqscan",)


@pytest.mark.parametrize(("edit", "message"), [
    pytest.param(("[daemon]", "[daemon]\nbogus = 1"), "daemon.bogus is not a known key",
                 id="unknown-key"),
    pytest.param(('http = ":9100"', 'http = "localhost"'), "daemon.http 'localhost' must be "
                 "HOST:PORT", id="http-without-port"),
    pytest.param(('chains = ["ethereum"]', 'chains = ["base"]'), "daemon.chains names 'base'",
                 id="unknown-chain"),
    pytest.param(("scan_interval_blocks = 5", "scan_interval_blocks = 0"),
                 "daemon.scan_interval_blocks must be >= 1", id="interval-zero"),
    pytest.param(('webhooks = ["https://hooks.example/liqscan"]', "webhooks = []"),
                 "daemon.alerts.webhooks is empty", id="rules-without-webhook"),
    pytest.param(('webhooks = ["https://hooks.example/liqscan"]', 'webhooks = ["ftp://x"]'),
                 "daemon.alerts.webhooks must be a list of http(s):// URLs", id="bad-webhook"),
    pytest.param(("keep_all_hours = 12", "keep_all_hours = 12\nkeep_hourly_days = 0"),
                 "daemon.retention.keep_hourly_days must cover", id="tiers-out-of-order"),
    pytest.param(("confirmations = 12", 'confirmations = 12\nws_url = "http://node"'),
                 "chains.ethereum.ws_url 'http://node' must be a ws:// or wss:// URL",
                 id="ws-url-scheme"),
])
def test_errors_name_the_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as error:
        load_text(tmp_path, (VALID + DAEMON).replace(*edit))
    assert message in error.value.message


def test_http_option() -> None:
    assert require_http("0.0.0.0:8080") == ("0.0.0.0", 8080)
    assert require_http("8080") == ("127.0.0.1", 8080)
    with pytest.raises(UsageError, match="--http 'x:99999' must be HOST:PORT"):
        require_http("x:99999")

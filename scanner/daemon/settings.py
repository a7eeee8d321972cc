"""The `[daemon]` section of config.toml: what the daemon follows, serves, keeps and alerts on.

    [daemon]
    http = "127.0.0.1:8080"        # also `liqscan daemon --http HOST:PORT`
    scan_interval_blocks = 1
    incremental = true             # derive untouched positions (scanner.pipeline.incremental)
    full_snapshot_every_blocks = 100
    [daemon.retention]             # absent: nothing is ever deleted
    keep_all_hours = 24
    [daemon.alerts]
    webhooks = ["https://hooks.example/liqscan"]
    near_band_bps = 300

Parsed with the same key-checking reader as the rest of the config (scanner/config.py), so
every error names the key and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scanner.errors import UsageError

if TYPE_CHECKING:
    from scanner.config import _Reader

DEFAULT_HTTP_HOST = "127.0.0.1"
_DAEMON_KEYS = ("http", "stale_after_seconds", "chains", "scan_interval_blocks",
                "poll_interval_seconds", "max_backoff_seconds", "takeover_interval_seconds",
                "retention", "alerts", "incremental", "full_snapshot_every_blocks")
_RETENTION_KEYS = ("keep_all_hours", "keep_hourly_days", "keep_daily_days")
_ALERT_KEYS = ("webhooks", "near_band_bps", "near_band_min_usd", "band_growth_bps",
               "band_growth_min_usd", "liquidatable_now_usd", "webhook_timeout_seconds",
               "webhook_max_attempts")


@dataclass(frozen=True)
class RetentionPolicy:
    """Every snapshot younger than `keep_all_hours`, the first of each hour younger than
    `keep_hourly_days`, the first of each day after that (for `keep_daily_days`; 0: forever).
    Ages are counted in block time from the chain's newest snapshot."""

    keep_all_hours: int = 24
    keep_hourly_days: int = 30
    keep_daily_days: int = 0


@dataclass(frozen=True)
class AlertRules:
    """Each rule is on when its threshold is set (None: off)."""

    webhooks: tuple[str, ...] = ()
    near_band_bps: int | None = None  # the axis price within this of a band's nearest edge
    near_band_min_usd: int = 0  # ... a band of at least this much collateral
    band_growth_bps: int | None = None  # a band's collateral grew this much since the last one
    band_growth_min_usd: int = 0  # ... to at least this much
    liquidatable_now_usd: int | None = None  # collateral liquidatable now on an axis
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 8  # per message and webhook before it waits for the next round

    @property
    def any_rule(self) -> bool:
        return any(v is not None for v in (self.near_band_bps, self.band_growth_bps,
                                           self.liquidatable_now_usd))


@dataclass(frozen=True)
class DaemonConfig:
    http: tuple[str, int] | None = None  # (host, port) of the HTTP API and page
    stale_after_seconds: float = 600.0  # /healthz answers 503 past this snapshot age
    chains: tuple[str, ...] = ()  # () = every chain that has a market
    scan_interval_blocks: int = 1
    poll_interval_seconds: float = 2.0  # head polling over HTTP (chains without ws_url)
    max_backoff_seconds: float = 60.0  # the RPC or database is down: 1, 2, 4 ... up to this
    takeover_interval_seconds: float = 5.0  # a standby daemon tries to take a chain this often
    retention: RetentionPolicy | None = None  # None: keep every snapshot
    alerts: AlertRules = field(default_factory=AlertRules)
    incremental: bool = True  # snapshots derive untouched positions from the previous one
    full_snapshot_every_blocks: int = 100  # ... and a full one at least this often


def parse_http(text: str, fail: Any) -> tuple[str, int]:
    """`HOST:PORT` or `:PORT` / `PORT` (host 127.0.0.1)."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        fail(f"{text!r} must be HOST:PORT with a port in 1-65535, e.g. 127.0.0.1:8080")
    return (host.strip("[]") or DEFAULT_HTTP_HOST, int(port))


def parse_daemon(r: _Reader, chain_names: tuple[str, ...]) -> DaemonConfig:
    r.check_keys(_DAEMON_KEYS)
    http = None
    if "http" in r.table:
        http = parse_http(r.str_("http"), lambda problem: r.fail(r.path("http"), problem))
    chains = r.table.get("chains", [])
    if not isinstance(chains, list) or not all(isinstance(c, str) for c in chains):
        r.fail(r.path("chains"), "must be a list of chain names")
    for name in chains:
        if name not in chain_names:
            r.fail(r.path("chains"), f"names {name!r}, which is not a [chains.*] table")
    return DaemonConfig(
        http=http, chains=tuple(chains),
        stale_after_seconds=_positive_seconds(r, "stale_after_seconds", 600.0),
        scan_interval_blocks=r.int_("scan_interval_blocks", 1, minimum=1),
        poll_interval_seconds=r.seconds("poll_interval_seconds", 2.0),
        max_backoff_seconds=r.seconds("max_backoff_seconds", 60.0),
        takeover_interval_seconds=r.seconds("takeover_interval_seconds", 5.0),
        retention=_retention(_sub(r, "retention")) if "retention" in r.table else None,
        alerts=_alerts(_sub(r, "alerts")) if "alerts" in r.table else AlertRules(),
        incremental=r.bool_("incremental", True),
        full_snapshot_every_blocks=r.int_("full_snapshot_every_blocks", 100, minimum=1),
    )


def _sub(r: _Reader, key: str) -> _Reader:
    from scanner.config import _Reader  # config.py imports this module

    return _Reader(r.source, r.path(key), r.table[key], r.env)


def _retention(r: _Reader) -> RetentionPolicy:
    r.check_keys(_RETENTION_KEYS)
    policy = RetentionPolicy(keep_all_hours=r.int_("keep_all_hours", 24),
                             keep_hourly_days=r.int_("keep_hourly_days", 30),
                             keep_daily_days=r.int_("keep_daily_days", 0))
    if policy.keep_hourly_days * 24 < policy.keep_all_hours:
        r.fail(r.path("keep_hourly_days"), "must cover keep_all_hours (days x 24 >= hours)")
    if policy.keep_daily_days and policy.keep_daily_days < policy.keep_hourly_days:
        r.fail(r.path("keep_daily_days"), "must be 0 (forever) or >= keep_hourly_days")
    return policy


def _alerts(r: _Reader) -> AlertRules:
    r.check_keys(_ALERT_KEYS)
    hooks = r.table.get("webhooks", [])
    if not isinstance(hooks, list) or not all(
            isinstance(h, str) and h.startswith(("http://", "https://")) for h in hooks):
        r.fail(r.path("webhooks"), "must be a list of http(s):// URLs")
    rules = AlertRules(
        webhooks=tuple(hooks),
        near_band_bps=_optional_int(r, "near_band_bps"),
        near_band_min_usd=r.int_("near_band_min_usd", 0),
        band_growth_bps=_optional_int(r, "band_growth_bps"),
        band_growth_min_usd=r.int_("band_growth_min_usd", 0),
        liquidatable_now_usd=_optional_int(r, "liquidatable_now_usd"),
        webhook_timeout_seconds=r.seconds("webhook_timeout_seconds", 10.0),
        webhook_max_attempts=r.int_("webhook_max_attempts", 8, minimum=1),
    )
    if rules.any_rule and not rules.webhooks:
        r.fail(r.path("webhooks"), "is empty: alert rules are set but there is nowhere to "
                                   "send them (add a webhook URL)")
    return rules


def _positive_seconds(r: _Reader, key: str, default: float) -> float:
    value = r.table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        r.fail(r.path(key), f"must be a positive number of seconds, not {value!r}")
    return float(value)


def _optional_int(r: _Reader, key: str) -> int | None:
    return r.int_(key) if key in r.table else None


def require_http(value: str) -> tuple[str, int]:
    """`--http HOST:PORT` from the command line."""
    def fail(problem: str) -> None:
        raise UsageError(f"--http {problem}")
    return parse_http(value, fail)

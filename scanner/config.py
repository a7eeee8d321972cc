"""config.toml: read once at start, validated completely, then frozen.

Where it comes from: the `path` argument, else $LIQSCAN_CONFIG, else ./config.toml, else the
packaged presets (scanner/presets/*.toml, merged), so that
`LIQSCAN_RPC_URL=... liqscan scan --market aave-v3-ethereum` needs no file at all.
Every error is a one-line ConfigError naming the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from scanner.cascade.depth_config import DepthConfig, parse_depth_config
from scanner.daemon.settings import DaemonConfig, parse_daemon
from scanner.dburl import UnparsableUrlError, parse_db_url
from scanner.eip55 import is_checksum_address, to_checksum_address
from scanner.errors import ConfigError
from scanner.pipeline.band_params import BandParams
from scanner.redact import register_url

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
GAS_CAP_PER_CALL = 2**24  # EIP-7825 (Osaka) per-transaction cap, applied to eth_call too
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SYMBOL_RE = re.compile(r"^[A-Za-z0-9._+-]{1,32}$")
_AXIS_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,31}$")  # stored in String(32) columns

_TOP_KEYS = ("database", "chains", "markets", "axes", "histogram", "bands", "daemon",
             "cascade")


@dataclass(frozen=True)
class ChainConfig:
    name: str
    rpc_url: str
    chain_id: int
    confirmations: int = 12
    max_concurrency: int = 8
    max_batch_size: int = 100
    logs_initial_window: int = 2_000
    logs_max_window: int = 200_000
    reorg_lookback_blocks: int = 64
    multicall_address: str = MULTICALL3_ADDRESS
    gas_limit_per_batch: int = 15_000_000
    request_timeout_seconds: float = 10.0  # one HTTP post; a held connection is abandoned
    max_retries: int = 8  # attempts per request before exit 75 (backoff capped at 4 s)
    ws_url: str | None = None  # ws(s):// endpoint the daemon follows new heads on (else polls)
    # Set when rpc_url names an unset ${VAR}: commands that only read the database still
    # work; anything that needs the node raises this message (see require_rpc_url).
    rpc_url_problem: str | None = None

    def require_rpc_url(self) -> str:
        if self.rpc_url_problem:
            raise ConfigError(self.rpc_url_problem)
        return self.rpc_url


@dataclass(frozen=True)
class MarketConfig:
    key: str
    chain: str
    protocol: str
    start_block: int
    # the protocol's own keys (its ProtocolSpec): contract addresses, checksummed ...
    addresses: Mapping[str, str] = field(default_factory=dict)
    # ... and lists of 0x-hex strings (e.g. Morpho market ids), lowercase
    lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # ... and true/false options (e.g. Aave's allow_unreviewed_revision: scan a pool whose
    # POOL_REVISION is newer than any liqscan was checked on, with the newest rule)
    flags: Mapping[str, bool] = field(default_factory=dict)
    # ... and lists of plain strings (e.g. Maker ilk names "ETH-A")
    texts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # every configured axis's members and quotes (symbols or addresses), for protocols that
    # choose their submarkets by collateral (Maker's default ilks); empty: no axis configured
    axis_assets: tuple[str, ...] = ()

    def address(self, name: str) -> str:
        if name not in self.addresses:
            raise ConfigError(f"markets.{self.key}.{name} is required for protocol "
                              f"{self.protocol!r}")
        return self.addresses[name]


@dataclass(frozen=True)
class AxisConfig:
    name: str
    members: tuple[str, ...]  # symbols, or checksummed addresses
    reference: str
    # A ratio axis (`quote = [...]`): the members move alone against these assets, which
    # keep their price; its price is the reference's price in the first quote asset listed.
    quote: tuple[str, ...] = ()
    # the market key whose oracle sets the axis price of a snapshot (None: the first market)
    price_source: str | None = None

    @property
    def unit(self) -> str:
        """What the axis price counts: USD, or the quote asset (a ratio axis)."""
        return self.quote[0] if self.quote else "USD"


@dataclass(frozen=True)
class HistogramConfig:
    mode: str = "log"
    bin_bps: int = 100
    bin_width_usd: float = 25.0
    range_bps: int = 9_000


@dataclass(frozen=True)
class BandsConfig:
    max_bands: int = 10
    params: BandParams = field(default_factory=BandParams)


@dataclass(frozen=True)
class Config:
    database_url: str
    chains: dict[str, ChainConfig]
    markets: tuple[MarketConfig, ...]
    axes: dict[str, AxisConfig]
    histogram: HistogramConfig = field(default_factory=HistogramConfig)
    bands: BandsConfig = field(default_factory=BandsConfig)
    source: Path = Path("config.toml")
    daemon: DaemonConfig = field(default_factory=DaemonConfig)  # `liqscan daemon` only
    cascade_depth: DepthConfig | None = None  # [cascade.depth]: `liqscan cascade` only

    def market(self, key: str) -> MarketConfig:
        for market in self.markets:
            if market.key == key:
                return market
        available = ", ".join(m.key for m in self.markets) or "none"
        raise ConfigError(f"{self.source.name}: no market {key!r}; available: {available}")

    def axis_units(self) -> dict[str, str]:
        """Axis name -> what its prices count (USD, or a ratio axis's quote asset)."""
        return {name: axis.unit for name, axis in self.axes.items()}

    def chain_of(self, market: MarketConfig) -> ChainConfig:
        return self.chains[market.chain]


# --- loading ------------------------------------------------------------------------------


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    if path is None and env.get("LIQSCAN_CONFIG"):
        path = Path(env["LIQSCAN_CONFIG"])
    if path is None and Path("config.toml").is_file():
        path = Path("config.toml")
    if path is None:
        return _load_presets(env)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found: check the path or LIQSCAN_CONFIG")
    data = _read_toml(path, _read_text(path))
    if not data:
        raise ConfigError(f"{path.name} is empty: add [database], [chains.*] and [[markets]] "
                          "tables (see the README's configuration reference)")
    return parse_config(data, path, env)


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path.name}: line {line} is not UTF-8 text (byte "
                          f"0x{raw[exc.start]:02x}): save the file as UTF-8") from exc


def preset_names() -> list[str]:
    folder = resources.files("scanner.presets")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _load_presets(env: Mapping[str, str]) -> Config:
    """Merge the packaged presets: chains/axes must agree, markets are concatenated."""
    merged: dict[str, Any] = {"chains": {}, "markets": [], "axes": {}}
    folder = resources.files("scanner.presets")
    for name in preset_names():
        source = Path("presets") / f"{name}.toml"
        data = _read_toml(source, folder.joinpath(f"{name}.toml").read_text())
        for section in ("database", "histogram", "bands"):
            if section in data:
                merged.setdefault(section, data[section])
        for section in ("chains", "axes"):
            for key, value in data.get(section, {}).items():
                if merged[section].setdefault(key, value) != value:
                    raise ConfigError(f"{source}: {section}.{key} differs between presets")
        merged["markets"].extend(data.get("markets", []))
    return parse_config(merged, Path("presets"), env)


def _read_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: {exc}") from exc


# --- validation ---------------------------------------------------------------------------


class _Reader:
    """Typed access to one table; every error names `<file>: <key path>`."""

    def __init__(self, source: Path, prefix: str, table: Any, env: Mapping[str, str]) -> None:
        self.source, self.prefix, self.env = source, prefix, env
        if not isinstance(table, dict):
            self.fail(prefix, "must be a table")
        self.table: dict[str, Any] = table

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(f"{self.source.name}: {key} {problem}")

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                allowed_list = ", ".join(allowed)
                hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {allowed_list}"
                self.fail(self.path(key), f"is not a known key{hint}")

    def int_(self, key: str, default: int | None = None, minimum: int = 0) -> int:
        value = self.table.get(key, default)
        if value is None:
            self.fail(self.path(key), "is required (an integer)")
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(self.path(key), f"must be an integer, not {value!r}")
        if value < minimum:
            self.fail(self.path(key), f"must be >= {minimum}, not {value}")
        return int(value)

    def bool_(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self.fail(self.path(key), f"must be true or false, not {value!r}")
        return value

    def str_(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            self.fail(self.path(key), "is required (a string)")
        if not isinstance(value, str):
            self.fail(self.path(key), f"must be a string, not {value!r}")
        return str(value)

    def expanded(self, key: str, default: str | None = None) -> str:
        """A string with ${VAR} replaced from the environment."""
        value = self.str_(key, default)
        for var in _ENV_RE.findall(value):
            if not self.env.get(var):
                self.fail(self.path(key), f"needs environment variable {var}, which is unset: "
                                          f"export {var}=...")
        return _ENV_RE.sub(lambda m: self.env[m.group(1)], value)

    def seconds(self, key: str, default: float) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 600:
            self.fail(self.path(key), f"must be a number of seconds in (0, 600], not {value!r}")
        return float(value)

    def address(self, key: str, default: str | None = None) -> str:
        value = self.str_(key, default)
        return _checksum(value, lambda problem: self.fail(self.path(key), problem))


def _checksum(value: str, fail: Callable[[str], NoReturn]) -> str:
    if not _ADDRESS_RE.match(value):
        fail(f"{json.dumps(value)} is not a 20-byte hex address")
    mixed = value[2:] != value[2:].lower() and value[2:] != value[2:].upper()
    if mixed and not is_checksum_address(value):
        fail(f"{json.dumps(value)} has a bad EIP-55 checksum: copy the address again")
    return str(to_checksum_address(value))


def parse_config(data: Mapping[str, Any], source: Path, env: Mapping[str, str]) -> Config:
    top = _Reader(source, "", dict(data), env)
    top.check_keys(_TOP_KEYS)
    database = _Reader(source, "database", data.get("database", {}), env)
    database.check_keys(("url",))
    database_url = _database_url(database)
    chains = _parse_chains(source, data.get("chains", {}), env)
    markets = _parse_markets(source, data.get("markets", []), chains, env)
    axes = {
        name: _parse_axis(_Reader(source, f"axes.{name}", table, env), name, markets)
        for name, table in _table(source, "axes", data.get("axes", {})).items()
    }
    axis_assets = tuple(sorted({a for axis in axes.values() for a in (*axis.members,
                                                                       *axis.quote)}))
    return Config(
        database_url=database_url,
        chains=chains,
        markets=tuple(replace(m, axis_assets=axis_assets) for m in markets),
        axes=axes,
        histogram=_parse_histogram(_Reader(source, "histogram", data.get("histogram", {}), env)),
        bands=_parse_bands(_Reader(source, "bands", data.get("bands", {}), env)),
        source=source,
        daemon=parse_daemon(_Reader(source, "daemon", data.get("daemon", {}), env),
                            tuple(chains)),
        cascade_depth=_cascade_depth(source, data.get("cascade", {}), chains),
    )


def _cascade_depth(source: Path, cascade: Any, chains: Mapping[str, ChainConfig]
                   ) -> DepthConfig | None:
    # only [cascade.depth] is read here; the rest of [cascade] belongs to the cascade engine
    if not isinstance(cascade, dict):
        raise ConfigError(f"{source.name}: cascade must be a table")
    if "depth" not in cascade:
        return None
    return parse_depth_config(source, cascade["depth"], chains)


def _database_url(r: _Reader) -> str:
    url = r.expanded("url", "sqlite:///liqscan.db")
    register_url(url, path_is_secret=False)  # its password never reaches a message
    try:
        parsed = parse_db_url(url)  # SQLAlchemy's grammar, without importing it (start-up)
    except ValueError as exc:
        # the text of these errors may quote the URL (and its password): never show it
        problem = "is not a database URL" if isinstance(exc, UnparsableUrlError) else (
            "has a port that is not a number")
        r.fail(r.path("url"), f"{problem}: use e.g. \"sqlite:///liqscan.db\" or "
                              "\"postgresql+psycopg://user:password@host:5432/liqscan\"")
    if parsed.backend not in ("sqlite", "postgresql"):
        r.fail(r.path("url"), f"uses {parsed.backend!r}: liqscan supports sqlite "
                              "and postgresql")
    return url


def _check_rpc_url(r: _Reader, url: str) -> None:
    """The URL is usable by the HTTP client: scheme, host and a numeric port. Messages never
    quote it: it may carry an API key."""
    register_url(url)
    key = r.path("rpc_url")
    if not url.startswith(("http://", "https://")):
        r.fail(key, "must be an http(s):// URL (websockets are not supported)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- parsing the port is the check
    except ValueError:
        r.fail(key, "has a port that is not a number between 0 and 65535: fix the URL")
    if not parts.hostname:
        r.fail(key, "has no host name: fix the URL")
    if any(c.isspace() for c in url):
        r.fail(key, "contains white space: fix the URL")


def _table(source: Path, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source.name}: {key} must be a table")
    return value


def _parse_chains(source: Path, tables: Any, env: Mapping[str, str]) -> dict[str, ChainConfig]:
    chains = {}
    for name, table in _table(source, "chains", tables).items():
        r = _Reader(source, f"chains.{name}", table, env)
        r.check_keys(tuple(ChainConfig.__dataclass_fields__)[1:-1])
        rpc_url, problem = "", None
        try:
            rpc_url = r.expanded("rpc_url")
        except ConfigError as exc:
            if not _ENV_RE.search(r.str_("rpc_url")):
                raise
            problem = exc.message  # an unset ${VAR}: only fatal once the node is needed
        if problem is None:
            _check_rpc_url(r, rpc_url)
        chains[name] = ChainConfig(
            name=name,
            rpc_url=rpc_url,
            rpc_url_problem=problem,
            chain_id=r.int_("chain_id", minimum=1),
            confirmations=r.int_("confirmations", 12),
            max_concurrency=r.int_("max_concurrency", 8, minimum=1),
            max_batch_size=r.int_("max_batch_size", 100, minimum=1),
            logs_initial_window=r.int_("logs_initial_window", 2_000, minimum=1),
            logs_max_window=r.int_("logs_max_window", 200_000, minimum=1),
            reorg_lookback_blocks=r.int_("reorg_lookback_blocks", 64),
            multicall_address=r.address("multicall_address", MULTICALL3_ADDRESS),
            gas_limit_per_batch=r.int_("gas_limit_per_batch", 15_000_000, minimum=100_000),
            request_timeout_seconds=r.seconds("request_timeout_seconds", 10.0),
            max_retries=r.int_("max_retries", 8, minimum=1),
            ws_url=_ws_url(r),
        )
        if chains[name].gas_limit_per_batch > GAS_CAP_PER_CALL:
            r.fail(r.path("gas_limit_per_batch"), f"must be <= {GAS_CAP_PER_CALL} (EIP-7825 cap)")
    return chains


def _ws_url(r: _Reader) -> str | None:
    if "ws_url" not in r.table:
        return None
    url = r.expanded("ws_url")
    if not url.startswith(("ws://", "wss://")):
        r.fail(r.path("ws_url"), f"{url!r} must be a ws:// or wss:// URL")
    return url


def _parse_markets(
    source: Path, items: Any, chains: Mapping[str, ChainConfig], env: Mapping[str, str]
) -> tuple[MarketConfig, ...]:
    if not isinstance(items, list):
        raise ConfigError(f"{source.name}: markets must be an array of tables ([[markets]])")
    from scanner.protocols import PROTOCOLS, protocol_spec  # the packages import this module

    markets: list[MarketConfig] = []
    for index, table in enumerate(items):
        r = _Reader(source, f"markets[{index}]", table, env)
        protocol = r.str_("protocol")
        if protocol not in PROTOCOLS:
            r.fail(r.path("protocol"), f"{protocol!r} is not supported: use one of "
                                       f"{', '.join(sorted(PROTOCOLS))}")
        spec = protocol_spec(protocol)
        r.check_keys(("key", "chain", "protocol", "start_block", *spec.address_keys,
                      *spec.optional_address_keys, *spec.list_keys, *spec.flag_keys,
                      *spec.text_list_keys))
        key = r.str_("key")
        if not _KEY_RE.match(key):
            r.fail(r.path("key"), f"{key!r} must be lowercase letters, digits, '-' or '_'")
        if any(m.key == key for m in markets):
            r.fail(r.path("key"), f"{key!r} is used by two markets: keys must be unique")
        chain = r.str_("chain")
        if chain not in chains:
            r.fail(r.path("chain"), f"{chain!r} is not defined: add a [chains.{chain}] table")
        markets.append(MarketConfig(
            key=key,
            chain=chain,
            protocol=protocol,
            start_block=r.int_("start_block"),
            addresses={name: r.address(name) for name in (
                *spec.address_keys, *(k for k in spec.optional_address_keys if k in r.table))},
            lists={name: _hex_list(r, name) for name in spec.list_keys if name in r.table},
            flags={name: r.bool_(name, False) for name in spec.flag_keys},
            texts={name: _text_list(r, name) for name in spec.text_list_keys if name in r.table},
        ))
    return tuple(markets)


def _hex_list(r: _Reader, key: str) -> tuple[str, ...]:
    values = r.table[key]
    if not isinstance(values, list) or not all(
            isinstance(v, str) and re.fullmatch(r"0x[0-9a-fA-F]+", v) for v in values):
        r.fail(r.path(key), "must be a list of 0x-prefixed hex strings")
    return tuple(str(v).lower() for v in values)


def _text_list(r: _Reader, key: str) -> tuple[str, ...]:
    values = r.table[key]
    if not isinstance(values, list) or not values or not all(
            isinstance(v, str) and 0 < len(v.encode()) <= 32 for v in values):
        r.fail(r.path(key), "must be a non-empty list of names of at most 32 bytes")
    if len(set(values)) != len(values):
        r.fail(r.path(key), "lists a name twice")
    return tuple(str(v) for v in values)


def _parse_axis(r: _Reader, name: str, markets: tuple[MarketConfig, ...]) -> AxisConfig:
    if not _AXIS_NAME_RE.match(name):
        r.fail(r.prefix, "is not a valid axis name: use up to 32 letters, digits, '.', '_', '+' "
                         "or '-' (e.g. [axes.wstETH-ETH])")
    r.check_keys(("members", "reference", "quote", "price_source"))
    normal = _token_list(r, "members")
    reference = _axis_member(r, "reference", r.table.get("reference", normal[0]))
    if reference not in normal:
        r.fail(r.path("reference"), f"{reference!r} must be one of the members")
    quote = _token_list(r, "quote") if "quote" in r.table else ()
    for i, asset in enumerate(quote):
        if asset.lower() in {m.lower() for m in normal}:
            r.fail(r.path(f"quote[{i}]"), f"{asset!r} is also a member: a ratio axis moves its "
                                          "members against the quote; list it in one of them")
    source = r.str_("price_source") if "price_source" in r.table else None
    if source is not None and all(m.key != source for m in markets):
        keys = ", ".join(m.key for m in markets) or "none"
        r.fail(r.path("price_source"), f"{source!r} is not a configured market key; "
                                       f"use one of: {keys}")
    return AxisConfig(name=name, members=normal, reference=reference, quote=quote,
                      price_source=source)


def _token_list(r: _Reader, key: str) -> tuple[str, ...]:
    values = r.table.get(key)
    if not isinstance(values, list) or not values:
        r.fail(r.path(key), "must be a non-empty list of token symbols or addresses")
    normal = tuple(_axis_member(r, f"{key}[{i}]", m) for i, m in enumerate(values))
    if len({v.lower() for v in normal}) != len(normal):
        r.fail(r.path(key), "lists a token twice")
    return normal


def _axis_member(r: _Reader, key: str, value: Any) -> str:
    if not isinstance(value, str):
        r.fail(r.path(key), f"must be a token symbol or address, not {value!r}")
    if str(value).startswith("0x"):
        return _checksum(str(value), lambda problem: r.fail(r.path(key), problem))
    if not _SYMBOL_RE.match(str(value)):
        r.fail(r.path(key), f"{value!r} is not a token symbol")
    return str(value)


def _parse_histogram(r: _Reader) -> HistogramConfig:
    r.check_keys(("mode", "bin_bps", "bin_width_usd", "range_bps"))
    mode = r.str_("mode", "log")
    if mode not in ("log", "linear"):
        r.fail(r.path("mode"), f"{mode!r} must be \"log\" or \"linear\"")
    width = r.table.get("bin_width_usd", 25.0)
    if isinstance(width, bool) or not isinstance(width, int | float) or width <= 0:
        r.fail(r.path("bin_width_usd"), f"must be a positive number, not {width!r}")
    range_bps = r.int_("range_bps", 9_000, minimum=1)
    if range_bps > 100_000:
        r.fail(r.path("range_bps"), f"must be <= 100000 (1000%), not {range_bps}")
    return HistogramConfig(mode, r.int_("bin_bps", 100, minimum=1), float(width), range_bps)


# [bands] keys a user may tune (README "How bands are found"); the rest of BandParams are
# internals of the method whose defaults the measurements rest on.
_BAND_FACTORS = ("density_factor", "edge_factor", "min_z", "mass_cap")
_BAND_SHARES_BPS = ("min_share_bps", "concentration_share_bps", "wall_share_bps")


def _parse_bands(r: _Reader) -> BandsConfig:
    r.check_keys(("max_bands", "min_positions", "wall_width_bps", *_BAND_FACTORS,
                  *_BAND_SHARES_BPS, "max_walls", "wall_median_factor"))  # fmt: skip
    defaults = BandParams()
    tuned: dict[str, Any] = {name: _positive_float(r, name, getattr(defaults, name))
                             for name in _BAND_FACTORS}  # fmt: skip
    for name in _BAND_SHARES_BPS:
        tuned[name] = r.int_(name, getattr(defaults, name), minimum=1)
        if tuned[name] > 10_000:
            r.fail(r.path(name), f"must be <= 10000 (100%), not {tuned[name]}")
    tuned["min_positions"] = r.int_("min_positions", defaults.min_positions, minimum=2)
    tuned["wall_width_bps"] = r.int_("wall_width_bps", defaults.wall_width_bps, minimum=1)
    tuned["max_walls"] = r.int_("max_walls", defaults.max_walls, minimum=0)
    tuned["wall_median_factor"] = r.int_("wall_median_factor", defaults.wall_median_factor,
                                         minimum=1)
    params = BandParams(**tuned)
    return BandsConfig(max_bands=r.int_("max_bands", 10, minimum=1), params=params)


def _positive_float(r: _Reader, key: str, default: float) -> float:
    value = r.table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e6:
        r.fail(r.path(key), f"must be a positive number, not {value!r}")
    return float(value)

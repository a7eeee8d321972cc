"""config.toml validation: the shipped file and presets load; every error names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.config import Config, load_config, preset_names
from scanner.devnet.toolchain import project_root
from scanner.errors import ConfigError
from scanner.pipeline.band_params import BandParams
from scanner.protocols import PROTOCOLS

ENV = {"LIQSCAN_RPC_URL": "https://eth-mainnet.example/v2/key"}

VALID = """
[database]
url = "sqlite:///liqscan.db"

[chains.ethereum]
rpc_url = "${LIQSCAN_RPC_URL}"
chain_id = 1
confirmations = 12

[[markets]]
key = "aave-v3-ethereum"
chain = "ethereum"
protocol = "aave-v3"
pool_addresses_provider = "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"
start_block = 16291127

[axes.ETH]
members = ["WETH", "wstETH"]
"""


def load_text(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path, ENV if env is None else env)


def test_valid_minimal_config_and_defaults(tmp_path: Path) -> None:
    config = load_text(tmp_path, VALID)
    chain = config.chains["ethereum"]
    assert chain.rpc_url == ENV["LIQSCAN_RPC_URL"]
    assert (chain.chain_id, chain.confirmations, chain.max_batch_size) == (1, 12, 100)
    assert chain.gas_limit_per_batch == 15_000_000
    assert (chain.request_timeout_seconds, chain.max_retries) == (10.0, 8)
    market = config.market("aave-v3-ethereum")
    assert market.start_block == 16291127
    assert config.chain_of(market) is chain
    assert config.axes["ETH"].reference == "WETH"  # the first member by default
    assert (config.histogram.mode, config.histogram.bin_bps, config.bands.max_bands) == (
        "log",
        100,
        10,
    )


def test_bands_section_tunes_detection(tmp_path: Path) -> None:
    text = VALID.replace("[axes.ETH]", "[bands]\nwall_share_bps = 500\nmin_z = 5\n"
                                       "density_factor = 3.5\n[axes.ETH]", 1)
    params = load_text(tmp_path, text).bands.params
    assert (params.wall_share_bps, params.min_z, params.density_factor) == (500, 5.0, 3.5)
    assert params.edge_factor == BandParams().edge_factor  # untouched keys keep defaults


def test_lowercase_address_is_checksummed(tmp_path: Path) -> None:
    text = VALID.replace(
        "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e", "0x2f39d218133afab8f2b819b1066c7e434ad94e9e"
    )
    market = load_text(tmp_path, text).markets[0]
    assert market.address("pool_addresses_provider") == "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"


def test_shipped_config_toml_loads() -> None:
    config = load_config(project_root() / "config.toml", ENV)
    assert [m.key for m in config.markets] == ["aave-v3-ethereum", "spark-ethereum"]
    assert config.market("spark-ethereum").address("pool_addresses_provider") == (
        "0x02C3eA4e34C0cBd694D2adFa2c690EECbC1793eE"
    )
    assert config.database_url == "sqlite:///liqscan.db"
    # every market sees every axis's members and quotes (Maker picks its default ilks by them)
    members = {a for axis in config.axes.values() for a in (*axis.members, *axis.quote)}
    assert members and all(set(m.axis_assets) == members for m in config.markets)


def test_presets_are_used_when_there_is_no_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml here
    config = load_config(None, ENV)
    assert config.source == Path("presets")
    assert set(preset_names()) == {"aave-v3-ethereum", "spark-ethereum", "compound-v3-ethereum",
                                   "morpho-blue-ethereum", "aave-v2-ethereum",
                                   "maker-ethereum", "liquity-v1-ethereum",
                                   "liquity-v2-ethereum"}
    assert {"aave-v3-ethereum", "spark-ethereum"} <= {m.key for m in config.markets}
    assert config.market("aave-v3-ethereum").start_block == 16291127
    assert config.market("spark-ethereum").start_block == 16776401


def test_liqscan_config_env_var_is_used(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text(VALID)
    config = load_config(None, {**ENV, "LIQSCAN_CONFIG": str(path)})
    assert config.source == path
    with pytest.raises(ConfigError, match=r"config file .*missing.toml not found"):
        load_config(None, {**ENV, "LIQSCAN_CONFIG": str(tmp_path / "missing.toml")})


def test_unknown_market_lists_available(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no market 'aave'; available: aave-v3-ethereum"):
        load_text(tmp_path, VALID).market("aave")


def test_unset_env_var_is_named_when_the_node_is_needed(tmp_path: Path) -> None:
    # Loading works (database-only commands need no node); asking for the URL fails.
    config = load_text(tmp_path, VALID, env={})
    with pytest.raises(ConfigError) as info:
        config.chains["ethereum"].require_rpc_url()
    assert str(info.value) == (
        "config.toml: chains.ethereum.rpc_url needs environment variable LIQSCAN_RPC_URL, "
        "which is unset: export LIQSCAN_RPC_URL=..."
    )
    assert info.value.exit_code == 78


BAD_ADDRESS = "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            BAD_ADDRESS,
            "0x12",
            'markets[0].pool_addresses_provider "0x12" is not a 20-byte hex address',
            id="short-address",
        ),
        pytest.param(
            BAD_ADDRESS,
            BAD_ADDRESS[:-1] + "E",
            'markets[0].pool_addresses_provider "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9E"'
            " has a bad EIP-55 checksum",
            id="bad-checksum",
        ),
        pytest.param(
            "confirmations = 12",
            "confirmation = 12",
            "chains.ethereum.confirmation is not a known key; did you mean 'confirmations'?",
            id="unknown-key-hint",
        ),
        pytest.param(
            "[database]",
            "[databse]",
            "databse is not a known key; did you mean 'database'?",
            id="unknown-section",
        ),
        pytest.param(
            "chain_id = 1",
            'chain_id = "1"',
            "chains.ethereum.chain_id must be an integer",
            id="chain-id-type",
        ),
        pytest.param(
            "chain_id = 1",
            "chain_id = true",
            "chains.ethereum.chain_id must be an integer",
            id="bool-is-not-int",
        ),
        pytest.param(
            "chain_id = 1\n", "", "chains.ethereum.chain_id is required", id="missing-key"
        ),
        pytest.param(
            "confirmations = 12",
            "confirmations = -1",
            "chains.ethereum.confirmations must be >= 0",
            id="negative",
        ),
        pytest.param(
            'rpc_url = "${LIQSCAN_RPC_URL}"',
            'rpc_url = "wss://node.example"',
            "chains.ethereum.rpc_url must be an http(s):// URL",
            id="not-http",
        ),
        pytest.param(
            'chain = "ethereum"',
            'chain = "base"',
            "markets[0].chain 'base' is not defined: add a [chains.base] table",
            id="undefined-chain",
        ),
        pytest.param(
            'protocol = "aave-v3"',
            'protocol = "aave-v9"',
            "markets[0].protocol 'aave-v9' is not supported: use one of "
            + ", ".join(sorted(PROTOCOLS)),
            id="protocol",
        ),
        pytest.param(
            'key = "aave-v3-ethereum"',
            'key = "Aave V3"',
            "markets[0].key 'Aave V3' must be lowercase",
            id="market-key-format",
        ),
        pytest.param(
            "confirmations = 12",
            "confirmations = 12\ngas_limit_per_batch = 30000000",
            "chains.ethereum.gas_limit_per_batch must be <= 16777216",
            id="gas-cap",
        ),
        pytest.param(
            "confirmations = 12",
            "confirmations = 12\nrequest_timeout_seconds = 0",
            "chains.ethereum.request_timeout_seconds must be a number of seconds in (0, 600]",
            id="request-timeout",
        ),
        pytest.param(
            "confirmations = 12",
            "confirmations = 12\nmax_retries = 0",
            "chains.ethereum.max_retries must be >= 1, not 0",
            id="max-retries",
        ),
        pytest.param(
            'members = ["WETH", "wstETH"]',
            "members = []",
            "axes.ETH.members must be a non-empty list",
            id="empty-axis",
        ),
        pytest.param(
            'members = ["WETH", "wstETH"]',
            'members = ["WETH", "WETH"]',
            "axes.ETH.members lists a token twice",
            id="duplicate-member",
        ),
        pytest.param(
            'members = ["WETH", "wstETH"]',
            'members = ["WETH", 3]',
            "axes.ETH.members[1] must be a token symbol or address",
            id="member-type",
        ),
        pytest.param(
            'members = ["WETH", "wstETH"]',
            'members = ["WETH", "0xabc"]',
            'axes.ETH.members[1] "0xabc" is not a 20-byte hex address',
            id="member-address",
        ),
        pytest.param(
            'members = ["WETH", "wstETH"]',
            'members = ["WETH"]\nreference = "rETH"',
            "axes.ETH.reference 'rETH' must be one of the members",
            id="reference",
        ),
        pytest.param(
            "[axes.ETH]",
            '[histogram]\nmode = "cubic"\n[axes.ETH]',
            'histogram.mode \'cubic\' must be "log" or "linear"',
            id="histogram-mode",
        ),
        pytest.param(
            "[axes.ETH]",
            "[histogram]\nbin_width_usd = 0\n[axes.ETH]",
            "histogram.bin_width_usd must be a positive number",
            id="bin-width",
        ),
        pytest.param(
            "[axes.ETH]",
            "[histogram]\nrange_bps = 200000\n[axes.ETH]",
            "histogram.range_bps must be <= 100000",
            id="range-bps",
        ),
        pytest.param(
            "[axes.ETH]",
            "[bands]\nmax_bands = 0\n[axes.ETH]",
            "bands.max_bands must be >= 1",
            id="max-bands",
        ),
        pytest.param(
            "[axes.ETH]",
            "[bands]\nmax_band = 3\n[axes.ETH]",
            "bands.max_band is not a known key; did you mean 'max_bands'?",
            id="bands-typo",
        ),
        pytest.param(
            "[axes.ETH]",
            "[bands]\nwall_share_bps = 20000\n[axes.ETH]",
            "bands.wall_share_bps must be <= 10000 (100%), not 20000",
            id="wall-share-over-100pct",
        ),
        pytest.param(
            "[axes.ETH]",
            '[bands]\ndensity_factor = "high"\n[axes.ETH]',
            "bands.density_factor must be a positive number, not 'high'",
            id="density-factor-not-number",
        ),
        pytest.param(
            "[axes.ETH]",
            "[bands]\nmin_positions = 1\n[axes.ETH]",
            "bands.min_positions must be >= 2",
            id="min-positions",
        ),
        pytest.param("[database]", "[database", "invalid TOML", id="bad-toml"),
        pytest.param(
            "start_block = 16291127",
            'start_block = 16291127\nallow_unreviewed_revision = "yes"',
            "markets[0].allow_unreviewed_revision must be true or false, not 'yes'",
            id="allow-unreviewed-not-bool",
        ),
    ],
)
def test_each_error_names_its_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in VALID
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, VALID.replace(old, new, 1))
    text = str(info.value)
    assert text.startswith("config.toml: ")
    assert message in text
    assert "\n" not in text


def test_allow_unreviewed_revision_defaults_off_and_can_be_set(tmp_path: Path) -> None:
    assert load_text(tmp_path, VALID).markets[0].flags["allow_unreviewed_revision"] is False
    opted = VALID.replace("start_block = 16291127",
                          "start_block = 16291127\nallow_unreviewed_revision = true")
    assert load_text(tmp_path, opted).markets[0].flags["allow_unreviewed_revision"] is True


def test_duplicate_market_key(tmp_path: Path) -> None:
    market = VALID[VALID.index("[[markets]]") : VALID.index("[axes.ETH]")]
    with pytest.raises(ConfigError, match=r"markets\[1\]\.key 'aave-v3-ethereum' is used by two"):
        load_text(tmp_path, VALID + market)


def test_markets_must_be_an_array_of_tables(tmp_path: Path) -> None:
    text = 'markets = "aave"\n' + VALID[: VALID.index("[[markets]]")]
    with pytest.raises(ConfigError, match=r"markets must be an array of tables"):
        load_text(tmp_path, text)


def test_every_registered_protocol_has_an_adapter_and_config_keys() -> None:
    from scanner.protocols import PROTOCOLS, protocol_spec

    assert {"aave-v3", "spark"} <= set(PROTOCOLS)
    for key in PROTOCOLS:
        spec = protocol_spec(key)
        assert callable(spec.adapter) and (spec.address_keys or spec.optional_address_keys), key


def test_a_key_of_another_protocol_is_refused(tmp_path: Path) -> None:
    text = VALID.replace("start_block =", 'comet = "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"\n'
                         "start_block =", 1)
    with pytest.raises(ConfigError, match=r"markets\[0\]\.comet is not a known key"):
        load_text(tmp_path, text)

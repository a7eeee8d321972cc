"""The `liqscan` command as a user runs it: a real process, a real devnet, a real database."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scanner.devnet.network import Devnet, seeded_devnet, write_config
from scanner.devnet.rpc import DevnetRpc

pytestmark = pytest.mark.integration
BAND_FIELDS = {"axis", "low_usd", "high_usd", "collateral_usd", "debt_usd", "positions"}
DEAD = "0x000000000000000000000000000000000000dEaD"


def liqscan(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "LIQSCAN_NO_PROGRESS": "1", **(env or {})}
    full_env.pop("LIQSCAN_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=full_env, timeout=600)


@pytest.fixture(scope="module")
def devnet() -> Iterator[Devnet]:
    with seeded_devnet(seed=5, aave_positions=150) as net:
        yield net


@pytest.fixture
def config_path(devnet: Devnet, db_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    write_config(devnet, path, database_url=db_url)
    return path


def test_scan_then_bands_positions_and_exports(config_path: Path, tmp_path: Path) -> None:
    cfg = str(config_path)
    scanned = liqscan("--config", cfg, "scan", "--json")
    assert scanned.returncode == 0, scanned.stderr
    (summary,) = json.loads(scanned.stdout)
    (market,) = summary["markets"]
    assert market["positions_with_debt"] > 100 and market["unverified_accounts"] == []

    bands = liqscan("--config", cfg, "bands", "--axis", "ETH", "--json")
    assert bands.returncode == 0, bands.stderr
    rows = json.loads(bands.stdout)
    assert rows, "the devnet population has ETH bands"
    for row in rows:
        assert set(row) >= BAND_FIELDS
        assert row["axis"] == "ETH" and float(row["low_usd"]) <= float(row["high_usd"])

    table = liqscan("--config", cfg, "bands", "--axis", "ETH")
    assert table.returncode == 0 and "collateral" in table.stdout and "positions" in table.stdout

    near = liqscan("--config", cfg, "positions", "--axis", "ETH", "--near", "2500", "--json",
                   "--limit", "5")
    assert near.returncode == 0, near.stderr
    listed = json.loads(near.stdout)
    assert len(listed) == 5

    out = tmp_path / "positions.json"
    exported = liqscan("--config", cfg, "export", "--what", "positions", "--format", "json",
                       "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    records = json.loads(out.read_text())
    needed = {"market", "protocol", "account", "axis", "status", "direction",
              "liquidation_price_usd", "health_factor", "collateral_usd", "debt_usd", "block",
              "submarket", "liquidation_price_native", "liquidation_price_native_unit"}
    assert records and all(needed <= set(r) for r in records)
    assert all(r["submarket"].startswith("0x") and r["liquidation_price_native_unit"] == "USD"
               and r["liquidation_price_native"] == r["liquidation_price_usd"] for r in records)
    assert {r["block"] for r in records} == {summary["block"]}

    for fmt in ("csv", "parquet"):
        target = tmp_path / f"bands.{fmt}"
        done = liqscan("--config", cfg, "export", "--what", "bands", "--format", fmt,
                       "--out", str(target))
        assert done.returncode == 0, done.stderr
        count = (len(list(csv.DictReader(target.open()))) if fmt == "csv"
                 else pq.read_table(target).num_rows)
        assert count == len(json.loads(liqscan("--config", cfg, "bands", "--json").stdout))


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("liqscan: error: ")
    return lines[0]


def test_bad_inputs_give_one_line_errors(config_path: Path, tmp_path: Path) -> None:
    missing = liqscan("--config", str(tmp_path / "nope.toml"), "bands")
    assert missing.returncode == 78 and "not found" in _error_line(missing)

    broken = tmp_path / "broken.toml"
    broken.write_text(config_path.read_text().replace("pool_addresses_provider = \"0x",
                                                      "pool_addresses_provider = \"0xzz"))
    bad = liqscan("--config", str(broken), "scan")
    assert bad.returncode == 78 and "pool_addresses_provider" in _error_line(bad)

    no_code = tmp_path / "nocode.toml"
    text = config_path.read_text()
    start = text.index('pool_addresses_provider = "') + len('pool_addresses_provider = "')
    no_code.write_text(text[:start] + DEAD + text[start + 42:])
    empty = liqscan("--config", str(no_code), "scan")
    assert empty.returncode == 78 and "has no code" in _error_line(empty)

    unmarket = liqscan("--config", str(config_path), "scan", "--market", "nope")
    assert unmarket.returncode == 78 and "available" in _error_line(unmarket)

    no_scan = liqscan("--config", str(config_path), "bands")
    assert no_scan.returncode == 2 and "liqscan scan" in _error_line(no_scan)


def test_unreachable_rpc_exits_75(config_path: Path, tmp_path: Path) -> None:
    dead = tmp_path / "dead.toml"
    text = config_path.read_text()
    start = text.index('rpc_url = "') + len('rpc_url = "')
    end = text.index('"', start)
    dead.write_text(text[:start] + "http://127.0.0.1:9" + text[end:])
    result = liqscan("--config", str(dead), "scan")
    assert result.returncode == 75 and "retry later" in _error_line(result)


def test_db_upgrade_on_a_new_sqlite_file(config_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "new.db"
    cfg = tmp_path / "sqlite.toml"
    text = config_path.read_text()
    start = text.index('[database]\nurl = "') + len('[database]\nurl = "')
    end = text.index('"', start)
    cfg.write_text(text[:start] + f"sqlite:///{target}" + text[end:])
    not_migrated = liqscan("--config", str(cfg), "bands")
    assert not_migrated.returncode == 76 and "liqscan db upgrade" in _error_line(not_migrated)
    upgraded = liqscan("--config", str(cfg), "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert target.is_file()


def _with_second_market(config_path: Path, key: str, provider: str | None = None) -> None:
    """Add a second [[markets]] entry: a copy of the first (same pool unless `provider`)."""
    text = config_path.read_text()
    start = text.index("[[markets]]")
    end = text.index("[axes.")
    second = text[start:end].replace('key = "aave-v3-devnet"', f'key = "{key}"')
    if provider is not None:
        second = second.replace('pool_addresses_provider = "0x',
                                f'pool_addresses_provider = "{provider}" #')
    config_path.write_text(text[:end] + second + text[end:])


def test_one_failing_market_leaves_the_snapshot_absent(config_path: Path) -> None:
    _with_second_market(config_path, "broken", provider=DEAD)
    result = liqscan("--config", str(config_path), "scan")
    line = _error_line(result)
    assert result.returncode == 78, result.stderr
    assert "market broken:" in line and "has no code" in line and "not written" in line
    bands = liqscan("--config", str(config_path), "bands", "--json")
    assert bands.returncode == 2 and "no snapshot" in _error_line(bands)  # nothing half-stored


def test_two_markets_are_one_snapshot_summed_with_a_breakdown(
    config_path: Path, db_url: str, devnet: Devnet
) -> None:
    # The same pool configured twice: every band holds each position twice, half per market.
    _with_second_market(config_path, "aave-copy")
    cfg = str(config_path)
    rpc = DevnetRpc(devnet.rpc_url)
    rpc.mine(1)
    lower = rpc.block_number()  # a cached devnet keeps no history before it was loaded
    rpc.mine(3)
    scanned = liqscan("--config", cfg, "scan", "--json")
    assert scanned.returncode == 0, scanned.stderr
    (summary,) = json.loads(scanned.stdout)
    assert [m["market"] for m in summary["markets"]] == ["aave-v3-devnet", "aave-copy"]
    block = summary["block"]
    bands = json.loads(liqscan("--config", cfg, "bands", "--axis", "ETH", "--json").stdout)
    assert bands
    for band in bands:
        parts = {part["market"]: part for part in band["by_market"]}
        assert set(parts) == {"aave-v3-devnet", "aave-copy"}
        assert parts["aave-v3-devnet"]["collateral_usd"] == parts["aave-copy"]["collateral_usd"]
        assert band["positions"] == sum(p["positions"] for p in parts.values())
        (protocol,) = band["by_protocol"]
        assert protocol["protocol"] == "aave-v3" and protocol["positions"] == band["positions"]
    table = liqscan("--config", cfg, "bands", "--axis", "ETH").stdout
    assert "aave-v3-devnet" in table and "aave-copy" in table
    one = json.loads(liqscan("--config", cfg, "positions", "--market", "aave-copy", "--json",
                             "--limit", "1000").stdout)
    assert one and {r["market"] for r in one} == {"aave-copy"}

    # an older block scanned afterwards: a newer snapshot id, but not the latest one
    older = liqscan("--config", cfg, "scan", "--block", str(lower), "--json")
    assert older.returncode == 0, older.stderr
    assert json.loads(older.stdout)[0]["snapshot_id"] > summary["snapshot_id"]
    for what in ("bands", "positions"):
        rows = json.loads(liqscan("--config", cfg, what, "--json").stdout)
        assert {r["block"] for r in rows} == {block}, what
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, block FROM v_latest_snapshots")).one() == (
            summary["snapshot_id"], block)
    engine.dispose()

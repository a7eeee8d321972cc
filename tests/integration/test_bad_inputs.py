"""The bad-input corpus of issue 8, one test each, through `liqscan`'s main() as a user runs it
(a real devnet, a real database): a one-line message naming what to fix, the documented exit
code, no traceback, nothing written.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.devnet.network import Devnet, seeded_devnet, write_config
from scanner.store import db
from scanner.store.repository import stored_scan_count

pytestmark = pytest.mark.integration
DEAD = "0x000000000000000000000000000000000000dEaD"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def error_line(self) -> str:
        """The single stderr line of a refused command (nothing else on stderr)."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("liqscan: error: "), self.err
        assert "Traceback" not in self.err
        return lines[0]


def liqscan(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def devnet() -> Iterator[Devnet]:
    with seeded_devnet(seed=5, aave_positions=150) as net:
        yield net


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a stray ./liqscan.db or ./config.toml would show here
    monkeypatch.delenv("LIQSCAN_CONFIG", raising=False)
    monkeypatch.setenv("LIQSCAN_NO_PROGRESS", "1")


@pytest.fixture
def config(devnet: Devnet, db_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    write_config(devnet, path, database_url=db_url)
    return path


@pytest.fixture(scope="module")
def scanned(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose SQLite database holds one scan of the devnet (for read commands)."""
    folder = tmp_path_factory.mktemp("scanned")
    path = folder / "config.toml"
    write_config(devnet, path, database_url=f"sqlite:///{folder / 'liqscan.db'}")
    db.upgrade(f"sqlite:///{folder / 'liqscan.db'}")
    done = liqscan("--config", str(path), "scan")
    assert done.code == 0, done.err
    return path


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def _scans(db_url: str) -> int:
    engine = db.make_engine(db_url)
    try:
        return stored_scan_count(engine)
    finally:
        engine.dispose()


def _refused_scan(config: Path, db_url: str, code: int, pattern: str) -> str:
    result = liqscan("--config", str(config), "scan")
    line = result.error_line()
    assert result.code == code, result.err
    assert re.search(pattern, line), line
    assert _scans(db_url) == 0  # nothing written
    return line


# --- the config file itself ---------------------------------------------------------------


def test_malformed_toml(config: Path, db_url: str) -> None:
    config.write_text(config.read_text() + "\n[markets\n")
    _refused_scan(config, db_url, 78, r"config.toml: invalid TOML")


def test_non_utf8_config(config: Path, db_url: str) -> None:
    config.write_bytes(config.read_bytes() + b"\n# caf\xe9\n")
    _refused_scan(config, db_url, 78, r"config.toml: line \d+ is not UTF-8 .*save the file as")


def test_empty_config(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing yet\n")
    result = liqscan("--config", str(empty), "scan")
    assert result.code == 78 and "empty.toml is empty" in result.error_line()


def test_config_without_markets_scans_nothing_loudly(config: Path, db_url: str) -> None:
    text = config.read_text()
    config.write_text(text[: text.index("[[markets]]")])
    _refused_scan(config, db_url, 78, r"defines no markets: add a \[\[markets\]\] table")


def test_wrong_type(config: Path, db_url: str) -> None:
    _edit(config, "confirmations = 0", 'confirmations = "zero"')
    _refused_scan(config, db_url, 78, r"chains\.devnet\.confirmations must be an integer")


def test_unknown_key(config: Path, db_url: str) -> None:
    _edit(config, "confirmations = 0", "confirmation = 0")
    _refused_scan(config, db_url, 78, r"chains\.devnet\.confirmation is not a known key; did "
                                      r"you mean 'confirmations'")


def test_unknown_protocol(config: Path, db_url: str) -> None:
    _edit(config, 'protocol = "aave-v3"', 'protocol = "aave-v4"')
    _refused_scan(config, db_url, 78, r"markets\[0\]\.protocol 'aave-v4' is not supported")


def test_bad_address(config: Path, db_url: str) -> None:
    _edit(config, 'pool_addresses_provider = "0x', 'pool_addresses_provider = "0xzz')
    _refused_scan(config, db_url, 78, r"markets\[0\]\.pool_addresses_provider .* is not a "
                                      r"20-byte hex address")


def test_bad_checksum(config: Path, db_url: str, devnet: Devnet) -> None:
    address = devnet.aave.provider
    flipped = address[:2] + "".join(
        c.swapcase() if c.isalpha() else c for c in address[2:])
    _edit(config, address, flipped)
    _refused_scan(config, db_url, 78, r"markets\[0\]\.pool_addresses_provider .* bad EIP-55 "
                                      r"checksum")


def test_unset_env_var(config: Path, db_url: str, devnet: Devnet,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIQSCAN_TEST_UNSET", raising=False)
    _edit(config, devnet.rpc_url, "${LIQSCAN_TEST_UNSET}")
    _refused_scan(config, db_url, 78, r"chains\.devnet\.rpc_url needs environment variable "
                                      r"LIQSCAN_TEST_UNSET, which is unset: export")


def test_postgresql_url_with_a_non_numeric_port(config: Path, tmp_path: Path) -> None:
    text = config.read_text()
    start = text.index('url = "') + len('url = "')
    config.write_text(text[:start] + "postgresql+psycopg://me:hunter2secret@db:abc/liqscan"
                      + text[text.index('"', start):])
    result = liqscan("--config", str(config), "bands")
    line = result.error_line()
    assert result.code == 78 and "database.url has a port that is not a number" in line
    assert "hunter2secret" not in result.err


# --- the node -----------------------------------------------------------------------------


def test_unreachable_rpc(config: Path, db_url: str, devnet: Devnet) -> None:
    _edit(config, devnet.rpc_url, "http://127.0.0.1:9")
    _refused_scan(config, db_url, 75, r"RPC http://127\.0\.0\.1:9 unavailable .*retry later")


def test_chain_id_mismatch_names_the_key_once(config: Path, db_url: str) -> None:
    _edit(config, "chain_id = 31337", "chain_id = 1")
    line = _refused_scan(config, db_url, 78, r"chains\.devnet\.chain_id is 1 but .* serves "
                                             r"chain 31337")
    assert line.count("chains.") == 1, line


def test_invalid_rpc_port(config: Path, db_url: str, devnet: Devnet) -> None:
    _edit(config, devnet.rpc_url, "http://user:pw123456@127.0.0.1:99999999/v3/KEY1234567")
    line = _refused_scan(config, db_url, 78, r"chains\.devnet\.rpc_url has a port that is not")
    assert "pw123456" not in line and "KEY1234567" not in line


def test_provider_without_code(config: Path, db_url: str, devnet: Devnet) -> None:
    _edit(config, devnet.aave.provider, DEAD)
    _refused_scan(config, db_url, 78, r"pool_addresses_provider 0x0+dEaD has no code")


def test_provider_that_is_another_contract(config: Path, db_url: str, devnet: Devnet) -> None:
    weth = devnet.aave.tokens["WETH"]
    _edit(config, devnet.aave.provider, weth)
    _refused_scan(config, db_url, 78, rf"markets\[0\]\.pool_addresses_provider {weth} "
                                      r"\(market 'aave-v3-devnet'\) is a contract but not "
                                      r"a aave-v3 pool_addresses_provider")


def test_start_block_beyond_the_head(config: Path, db_url: str, devnet: Devnet) -> None:
    _edit(config, f"start_block = {devnet.aave.deploy_block}", "start_block = 999999999")
    _refused_scan(config, db_url, 78, r"markets\[0\]\.start_block 999999999 is beyond the "
                                      r"chain head")


def test_no_chain_of_two_scanned_is_not_partial(config: Path, db_url: str) -> None:
    """Each chain is one snapshot: when the snapshots of both chains fail, nothing was stored
    and the exit code is the failure's own, not 3 ("partial")."""
    text = config.read_text()
    start, end = text.index("[[markets]]"), text.index("[axes.")
    second = (text[start:end].replace('key = "aave-v3-devnet"', 'key = "second"')
              .replace('chain = "devnet"', 'chain = "other"'))
    chain_start = text.index("[chains.devnet]")
    other = text[chain_start:start].replace("[chains.devnet]", "[chains.other]")
    text = text[:start] + other + text[start:end] + second + text[end:]
    config.write_text(text.replace("chain_id = 31337", "chain_id = 5"))
    result = liqscan("--config", str(config), "scan")
    assert result.code == 78, result.err  # the failure's own code, not 3 ("partial")
    assert "no chain scanned (2 failed: devnet, other)" in result.err
    assert _scans(db_url) == 0


# --- axes ---------------------------------------------------------------------------------


def test_axis_no_member_of_which_the_market_lists(config: Path, db_url: str) -> None:
    config.write_text(config.read_text() + '\n[axes.SOL]\nmembers = ["SOL", "jitoSOL"]\n')
    _refused_scan(config, db_url, 78, r"axes\.SOL\.members: aave-v3-devnet lists none of SOL, "
                                      r"jitoSOL \(it lists .*WETH")


def test_axis_member_typo_is_named_in_a_warning(config: Path, db_url: str) -> None:
    _edit(config, '"wstETH"', '"wstETh_"')
    # a real process: the warning goes through logging to stderr, as a user sees it
    environment = {**os.environ, "LIQSCAN_NO_PROGRESS": "1"}
    result = subprocess.run([sys.executable, "-m", "scanner.cli", "--config", str(config),
                             "scan"], capture_output=True, text=True, env=environment,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ("liqscan: axes.ETH.members: aave-v3-devnet does not list "
                             "wstETh_; the axis uses the others\n")
    assert _scans(db_url) == 1


def test_axis_reference_the_market_does_not_list(config: Path, db_url: str) -> None:
    _edit(config, '[axes.ETH]\n', '[axes.ETH]\nreference = "rETH2"\n')
    text = config.read_text()
    config.write_text(text.replace('members = ["WETH"', 'members = ["rETH2", "WETH"', 1))
    _refused_scan(config, db_url, 78, r"axes\.ETH\.reference rETH2 is not listed by "
                                      r"aave-v3-devnet: choose a member")


def test_bands_of_an_unknown_axis(scanned: Path) -> None:
    result = liqscan("--config", str(scanned), "bands", "--axis", "NOPE")
    assert result.code == 2
    assert re.search(r"--axis NOPE: snapshot \d+ has no such axis; its axes are BTC, ETH",
                     result.error_line())


# --- command-line values ------------------------------------------------------------------


@pytest.mark.parametrize("near", ["nan", "inf", "-inf", "1e400", "0", "-5", "abc"])
def test_positions_near_a_non_price(scanned: Path, near: str) -> None:
    result = liqscan("--config", str(scanned), "positions", f"--near={near}")
    assert result.code == 2
    assert "argument --near" in result.error_line()


def test_db_downgrade_needs_a_revision(scanned: Path) -> None:
    result = liqscan("--config", str(scanned), "db", "downgrade")
    assert result.code == 2 and "--revision" in result.error_line()


def test_db_downgrade_to_an_unknown_revision(scanned: Path) -> None:
    result = liqscan("--config", str(scanned), "db", "downgrade", "--revision", "zzz")
    assert result.code == 2
    assert "--revision 'zzz' is not a migration: use -1" in result.error_line()


# --- the database and outputs ---------------------------------------------------------------


def test_read_commands_create_no_database(devnet: Devnet, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "work"
    config = folder / "config.toml"
    write_config(devnet, config)  # database.url: the default ./liqscan.db
    monkeypatch.chdir(folder)
    for command in (["bands"], ["positions"], ["scan"],
                    ["export", "--what", "bands", "--format", "csv", "--out", "b.csv"]):
        result = liqscan("--config", str(config), *command)
        assert result.code == 76, (command, result.err)
        assert "database file liqscan.db does not exist" in result.error_line()
        assert sorted(p.name for p in folder.iterdir()) == ["config.toml"], command


def test_unopenable_database(config: Path, db_url: str, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    text = config.read_text()
    start = text.index('url = "') + len('url = "')
    config.write_text(text[:start] + f"sqlite:///{garbage}" + text[text.index('"', start):])
    result = liqscan("--config", str(config), "bands")
    assert result.code == 76 and "garbage.db" in result.error_line()
    assert garbage.read_bytes() == b"this is not a database" * 100


def test_export_to_an_existing_directory(scanned: Path, tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    result = liqscan("--config", str(scanned), "export", "--what", "bands", "--format", "csv",
                     "--out", str(target))
    assert result.code == 73 and "is a directory: give a file name" in result.error_line()
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("where", ["/proc/liqscan-bands.csv", "{tmp}/missing/bands.csv",
                                   "{tmp}/file/bands.csv"])
def test_export_to_an_unwritable_place(scanned: Path, tmp_path: Path, where: str) -> None:
    (tmp_path / "file").write_text("a file, not a directory")
    out = where.format(tmp=tmp_path)
    result = liqscan("--config", str(scanned), "export", "--what", "bands", "--format", "csv",
                     "--out", out)
    assert result.code == 73, result.err
    assert out in result.error_line()
    leftovers = [p for p in tmp_path.rglob("*") if p.name not in ("file", "config.toml")]
    assert leftovers == []


def test_demo_refuses_a_directory_with_other_files(tmp_path: Path) -> None:
    keep = tmp_path / "precious.txt"
    keep.write_text("mine")
    result = liqscan("demo", "--out", str(tmp_path))
    assert result.code == 73
    assert "is not empty and is not a previous demo output" in result.error_line()
    assert keep.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == [
        "precious.txt"]


@pytest.mark.parametrize("hostile", ["ETH' OR '1'='1", "x'; DROP TABLE scans; --",
                                     'ETH" --', "%"])
def test_hostile_values_are_bound_not_spliced(scanned: Path, hostile: str) -> None:
    for option in ("--axis", "--market"):
        result = liqscan("--config", str(scanned), "positions", option, hostile, "--json")
        assert result.code == 2, result.err
        assert hostile in result.error_line() and result.out == ""
    listed = liqscan("--config", str(scanned), "bands", "--json")
    assert listed.code == 0 and listed.out.strip() != "[]"  # the scan and its tables are intact

"""The analyst's CLI (issue 12, items 2-4) as a user runs it: `liqscan` processes against a
database holding a real scan of the session devnet (every market: Aave v3.0 and v3.6,
Morpho Blue, two Comets; a planted ETH cluster)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from scanner.devnet.network import Devnet, write_config
from scanner.devnet.prices import get_price_usd_8dec, set_prices
from scanner.devnet.rpc import DevnetRpc
from tests.integration.test_cli import liqscan

pytestmark = pytest.mark.integration
README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass(frozen=True)
class Scanned:
    config: Path
    db: Path
    snapshot_id: int
    block: int

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return liqscan("--config", str(self.config), *args)

    def json(self, *args: str) -> object:
        done = self.run(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def _scanned(devnet: Devnet, where: Path) -> Scanned:
    db = where / "liqscan.db"
    config = where / "config.toml"
    write_config(devnet, config, database_url=f"sqlite:///{db}")
    assert liqscan("--config", str(config), "db", "upgrade").returncode == 0
    done = liqscan("--config", str(config), "scan", "--json")
    assert done.returncode == 0, done.stderr
    (summary,) = json.loads(done.stdout)
    return Scanned(config, db, summary["snapshot_id"], summary["block"])


@pytest.fixture(scope="module")
def scanned(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    return _scanned(devnet, tmp_path_factory.mktemp("analyst"))


def _usd(text: str | None) -> Decimal:
    assert text is not None
    return Decimal(text)


def _move(row: dict[str, str]) -> Decimal:
    return _usd(row["liquidation_price_usd"]) / _usd(row["axis_price_now_usd"]) - 1


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("liqscan: error: "), result.stderr
    return lines[0]


# --- bands -------------------------------------------------------------------------------


def test_bands_header_sides_protocols_walls_and_liquidatable_now(scanned: Scanned) -> None:
    # global options after the subcommand, as well as before it
    done = liqscan("bands", "--axis", "ETH", "--config", str(scanned.config))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert f"snapshot {scanned.snapshot_id}  devnet block {scanned.block:,}" in text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(", text)  # time and age
    assert "ETH $3,000.00" in text  # the devnet's ETH price
    assert "longs: liquidated as ETH falls" in text and "shorts: liquidated as ETH rises" in text
    for protocol in ("aave-v3", "morpho-blue", "compound-v3"):
        assert protocol in text
    now = scanned.json("positions", "--axis", "ETH", "--status", "liquidatable_now",
                       "--limit", "100000")
    assert isinstance(now, list) and now
    total = sum(_usd(r["collateral_usd"]) for r in now)
    line = next(x for x in text.splitlines() if x.startswith("ETH $"))
    compact = f"${total / 10**6:,.1f}M" if total >= 10**6 else f"${total / 10**3:,.1f}K"
    count = f"{len(now):,} position" + ("" if len(now) == 1 else "s")
    assert f"liquidatable now {compact} in {count}" in line
    bands = scanned.json("bands", "--axis", "ETH")
    assert isinstance(bands, list)
    cluster = [b for b in bands if 2_300 <= float(b["low_usd"]) <= 2_400]
    assert cluster and cluster[0]["kind"] == "band"
    btc = scanned.run("bands", "--axis", "BTC").stdout
    walls = [b for b in scanned.json("bands", "--axis", "BTC") if b["kind"] == "wall"]
    assert all(re.search(rf"\s{w['rank']}\s+wall\s", btc) for w in walls)


def test_positions_sort_and_filters(scanned: Scanned) -> None:
    nearest = scanned.json("positions", "--axis", "ETH", "--limit", "400")
    assert isinstance(nearest, list) and len(nearest) == 400
    statuses = [r["status"] for r in nearest]
    assert set(statuses) <= {"liquidatable_now", "at_risk"}  # not_sensitive left out
    first_at_risk = statuses.index("at_risk")
    assert set(statuses[:first_at_risk]) == {"liquidatable_now"}
    now = [_usd(r["collateral_usd"]) for r in nearest[:first_at_risk]]
    assert now == sorted(now, reverse=True)  # the largest liquidatable position first
    moves = [abs(_move(r)) for r in nearest[first_at_risk:]]
    assert moves == sorted(moves)
    size = scanned.json("positions", "--sort", "size", "--limit", "50")
    collateral = [_usd(r["collateral_usd"]) for r in size]
    assert collateral == sorted(collateral, reverse=True)
    health = scanned.json("positions", "--sort", "health", "--limit", "50")
    factors = [_usd(r["health_factor"]) for r in health]
    assert factors == sorted(factors)
    hedged = scanned.json("positions", "--status", "not_sensitive", "--limit", "20")
    assert hedged and {r["status"] for r in hedged} == {"not_sensitive"}
    rich = scanned.json("positions", "--min-collateral", "$250,000", "--limit", "100000")
    assert rich and min(_usd(r["collateral_usd"]) for r in rich) >= 250_000
    morpho = scanned.json("positions", "--protocol", "morpho-blue", "--limit", "100000")
    assert morpho and {r["protocol"] for r in morpho} == {"morpho-blue"}
    table = scanned.run("positions", "--axis", "ETH", "--limit", "5").stdout
    assert "market" in table and "move" in table and "aave-v3-devnet" in table
    bad = scanned.run("positions", "--min-collateral", "lots")
    assert bad.returncode == 2 and "--min-collateral" in bad.stderr
    # a misspelt protocol used to list 0 positions with exit 0
    typo = scanned.run("positions", "--protocol", "makerdao")
    assert typo.returncode == 2 and "liquity-v2" in _error_line(typo)
    # --near orders every position by one price: a filter beside it used to be ignored
    ignored = scanned.run("positions", "--near", "2500", "--protocol", "maker")
    assert ignored.returncode == 2 and "--near cannot be combined with --protocol" in \
        _error_line(ignored)


# --- summary -----------------------------------------------------------------------------


def test_summary_moves_match_the_positions(scanned: Scanned) -> None:
    report = scanned.json("summary", "--axis", "ETH")
    assert isinstance(report, dict)
    (axis,) = report["axes"]
    at_risk = scanned.json("positions", "--axis", "ETH", "--status", "at_risk",
                           "--limit", "100000")
    assert isinstance(at_risk, list)
    for move in axis["within"]:
        pct = Decimal(move["move_bps"]) / 10_000
        chosen = [r for r in at_risk if (
            pct <= _usd(r["liquidation_price_usd"]) / _usd(r["axis_price_now_usd"]) - 1 < 0
            if pct < 0 else
            0 < _usd(r["liquidation_price_usd"]) / _usd(r["axis_price_now_usd"]) - 1 <= pct)]
        assert move["positions"] == len(chosen), move
        assert _usd(move["collateral_usd"]) == sum(_usd(r["collateral_usd"]) for r in chosen)
    assert [m["move_bps"] for m in axis["within"]] == [-500, 500, -1000, 1000, -2000, 2000]
    assert axis["within"][4]["positions"] > 0  # the planted cluster at -20%..-23%
    text = scanned.run("summary").stdout
    assert "collateral liquidated if ETH falls by" in text and "BTC" in text
    assert "liquidatable now:" in text and "top bands:" in text


# --- chart -------------------------------------------------------------------------------


def test_chart_png_and_svg_and_a_bad_suffix(scanned: Scanned, tmp_path: Path) -> None:
    png, svg = tmp_path / "eth.png", tmp_path / "eth.svg"
    for out in (png, svg):
        done = scanned.run("chart", "--axis", "ETH", "--out", str(out))
        assert done.returncode == 0, done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text()[:1000] and "#1 band" in svg.read_text()
    linear = scanned.run("chart", "--axis", "BTC", "--linear", "--out", str(tmp_path / "b.png"))
    assert linear.returncode == 0, linear.stderr
    bad = scanned.run("chart", "--axis", "ETH", "--out", str(tmp_path / "eth.jpg"))
    assert bad.returncode == 2 and ".png or .svg" in _error_line(bad)
    assert not (tmp_path / "eth.jpg").exists()
    # an --out that is a directory used to end in matplotlib's IsADirectoryError traceback
    folder = tmp_path / "map.png"
    folder.mkdir()
    into_dir = scanned.run("chart", "--axis", "ETH", "--out", str(folder))
    assert into_dir.returncode == 73 and "is a directory" in _error_line(into_dir)
    assert not any(folder.iterdir())


# --- export ------------------------------------------------------------------------------


def test_export_axis_ndjson_and_stdout(scanned: Scanned, tmp_path: Path) -> None:
    done = scanned.run("export", "--what", "positions", "--axis", "BTC", "--format", "ndjson",
                       "--out", "-")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert rows and {r["axis"] for r in rows} == {"BTC"}
    assert f"wrote {len(rows):,} positions" in done.stderr
    out = tmp_path / "bands.ndjson"
    assert scanned.run("export", "--what", "bands", "--axis", "ETH", "--format", "ndjson",
                       "--out", str(out)).returncode == 0
    lines = out.read_text().splitlines()
    assert lines and {json.loads(x)["axis"] for x in lines} == {"ETH"}
    bins = scanned.run("export", "--what", "bins", "--axis", "ETH", "--format", "csv",
                       "--out", "-")
    assert bins.returncode == 0 and bins.stdout.startswith("chain,block,axis")
    parquet = scanned.run("export", "--what", "bands", "--format", "parquet", "--out", "-")
    assert parquet.returncode == 2 and "--out FILE" in _error_line(parquet)
    unknown = scanned.run("export", "--what", "bands", "--format", "csv", "--axis", "DOGE",
                          "--out", "-")
    assert unknown.returncode == 2 and "DOGE" in _error_line(unknown)


# --- version, completion, help -------------------------------------------------------------


def test_version_completion_and_help_on_every_option() -> None:
    version = liqscan("--version")
    assert version.returncode == 0 and re.fullmatch(r"liqscan \d+\.\d+\.\d+\n", version.stdout)
    bash = liqscan("completion", "bash")
    assert bash.returncode == 0
    assert all(word in bash.stdout for word in ("summary", "chart", "--sort", "--min-collateral"))
    assert liqscan("completion", "zsh").returncode == 0
    from scanner.cli import build_parser
    from scanner.cli_analyst import _subparsers

    parser = build_parser()
    for command in [parser, *_subparsers(parser)]:
        for action in command._actions:
            if action.option_strings:
                assert action.help, f"{command.prog} {action.option_strings} has no help"
    helps = liqscan("summary", "--help")
    assert helps.returncode == 0 and "--top N" in helps.stdout


# --- item 4: SQL of the README, views ---------------------------------------------------------


def _readme_queries() -> list[str]:
    text = README.read_text()
    block = text[text.index("```sql\n", text.index("## SQL")) + 7:]
    block = block[:block.index("```")]
    statements, current = [], []
    for line in block.splitlines():
        if line.startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    return statements


def test_readme_sql_examples_return_what_they_say(scanned: Scanned) -> None:
    queries = _readme_queries()
    assert len(queries) >= 6
    with sqlite3.connect(scanned.db) as conn:
        results = [conn.execute(q).fetchall() for q in queries]
    assert all(results), "every example returns rows on the devnet scan"
    riskiest = next(r for q, r in zip(queries, results, strict=True) if "riskiest" in q.lower()
                    or "distance_pct" in q)
    at_risk = scanned.json("positions", "--axis", "ETH", "--status", "at_risk", "--limit", "20")
    assert isinstance(at_risk, list)
    assert [row[0] for row in riskiest] == [r["account"] for r in at_risk]
    with sqlite3.connect(scanned.db) as conn:
        for view in ("v_latest_bins", "v_latest_bands", "v_band_history"):
            price, time = conn.execute(
                f"SELECT axis_price_usd, snapshot_time FROM {view} WHERE axis = 'ETH'").fetchone()
            assert price == 3_000.0 and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", time)
        total = conn.execute("SELECT at_risk_collateral_usd FROM v_latest_axes"
                             " WHERE axis = 'ETH'").fetchone()[0]
        top = conn.execute("SELECT MAX(cumulative_collateral_usd) FROM v_latest_bins"
                           " WHERE axis = 'ETH' GROUP BY direction").fetchall()
    assert sum(t[0] for t in top) == pytest.approx(total, rel=1e-12)  # no truncation
    # "where is ETH collateral concentrated": ETH only (it used to list every axis)
    assert {row[0] for row in results[0]} == {"ETH"}
    # the markets of the largest ETH band: readable amounts, largest first, summing to it
    (shares,) = [r for q, r in zip(queries, results, strict=True) if "band_shares" in q]
    amounts = [row[2] for row in shares]
    assert amounts == sorted(amounts, reverse=True)
    with sqlite3.connect(scanned.db) as conn:
        (band_total,) = conn.execute("SELECT collateral_usd FROM v_latest_bands"
                                     " WHERE axis = 'ETH' AND rank = 1").fetchone()
    assert sum(amounts) == pytest.approx(band_total, rel=1e-9)


# --- item 2: band history ----------------------------------------------------------------


@pytest.fixture
def history_copy(scanned: Scanned, tmp_path: Path, devnet_rpc: DevnetRpc) -> Iterator[Scanned]:
    """The scanned database copied (later scans stay out of the shared one), the chain
    reverted after the test."""
    db = tmp_path / "liqscan.db"
    shutil.copyfile(scanned.db, db)
    config = tmp_path / "config.toml"
    config.write_text(scanned.config.read_text().replace(str(scanned.db), str(db)))
    chain_state = devnet_rpc.call("evm_snapshot")
    try:
        yield Scanned(config, db, scanned.snapshot_id, scanned.block)
    finally:
        assert devnet_rpc.call("evm_revert", [chain_state]) is True


def test_band_history_follows_a_band_as_the_price_moves(
    history_copy: Scanned, devnet: Devnet, devnet_rpc: DevnetRpc
) -> None:
    before = history_copy.json("bands", "--axis", "ETH")
    assert isinstance(before, list)
    prices = {s: get_price_usd_8dec(devnet_rpc, devnet.aave, s) for s in ("WETH", "wstETH")}
    set_prices(devnet_rpc, devnet.aave, {s: p * 99 // 100 for s, p in prices.items()})
    done = history_copy.run("scan", "--json")
    assert done.returncode == 0, done.stderr
    history = history_copy.json("bands", "--axis", "ETH", "--history")
    assert isinstance(history, list)
    cluster = [r for r in history if 2_250 <= float(r["low_usd"]) <= 2_400
               and r["kind"] == "band"]
    blocks = [r["block"] for r in cluster]
    assert len(set(blocks)) == 2 and len({r["track_id"] for r in cluster}) == 1, cluster
    first, second = sorted(cluster, key=lambda r: r["block"])
    assert Decimal(first["axis_price_usd"]) == 3_000
    assert Decimal(second["axis_price_usd"]) == 2_970
    table = history_copy.run("bands", "--axis", "ETH", "--history").stdout
    assert "band history over 2 snapshots" in table and "collateral" in table
    with sqlite3.connect(history_copy.db) as conn:
        rows = conn.execute("SELECT block, track_id FROM v_band_history WHERE track_id = ?"
                            " ORDER BY block", (first["track_id"],)).fetchall()
    assert [r[0] for r in rows] == [first["block"], second["block"]]


def test_the_planted_cluster_is_one_band_at_its_edges(scanned: Scanned, devnet: Devnet) -> None:
    """Item 1 on the real devnet: one band holds (nearly) every planted position, and its
    edges are within 1% of the planted positions' outermost liquidation prices. Not 0.5% (the
    synthetic target) and not every position: the $3M cluster is a low-contrast one among
    eight protocols' background positions interleaved with it (measured with Liquity v1/v2 on
    the devnet: low edge +0.17%, leaving out three small planted positions worth $52K amid
    background ones; high edge +0.54%, Comet and Aave positions just above joining)."""
    planted = {p.account.lower() for p in devnet.aave_plans if p.cluster is not None}
    done = scanned.run("export", "--what", "positions", "--axis", "ETH", "--market",
                       "aave-v3-devnet", "--format", "ndjson", "--out", "-")
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    prices = [_usd(r["liquidation_price_usd"]) for r in rows
              if r["account"].lower() in planted and r["status"] == "at_risk"]
    assert len(prices) == len(planted)
    bands = scanned.json("bands", "--axis", "ETH")
    assert isinstance(bands, list)
    (band,) = [b for b in bands if _usd(b["low_usd"]) <= max(prices)
               and _usd(b["high_usd"]) >= min(prices)]
    # a dense band, not a wall (its rank depends on the other markets' bands: Maker's and
    # Aave v2's can be larger)
    assert band["kind"] == "band"
    inside = [p for p in prices if _usd(band["low_usd"]) <= p <= _usd(band["high_usd"])]
    assert len(inside) >= 0.9 * len(prices), (len(inside), len(prices))
    assert abs(_usd(band["low_usd"]) / min(prices) - 1) < Decimal("0.01")
    assert abs(_usd(band["high_usd"]) / max(prices) - 1) < Decimal("0.01")


# --- no traceback into a closed pipe ----------------------------------------------------------


def test_analyst_commands_into_a_closed_pipe(scanned: Scanned) -> None:
    """`liqscan summary | head -0` and the like: exit 0, no traceback (scan, bands and
    positions: tests/integration/test_cli_safety.py)."""
    base = [sys.executable, "-m", "scanner.cli", "--config", str(scanned.config)]
    for args in (["summary"], ["summary", "--json"], ["bands", "--history"],
                 ["export", "--what", "positions", "--format", "ndjson", "--out", "-"],
                 ["positions", "--status", "all", "--limit", "100000"]):
        run = subprocess.Popen(base + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert run.stdout is not None and run.stderr is not None
        run.stdout.close()  # the reader is gone before the command writes
        err = run.stderr.read().decode()
        assert run.wait(timeout=600) == 0, (args, err)
        assert "Traceback" not in err and "Exception ignored" not in err, (args, err)

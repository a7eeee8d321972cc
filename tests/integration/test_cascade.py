"""`liqscan cascade` on a scanned devnet snapshot (every protocol of the session devnet),
each round checked against an independent recomputation from the STORED snapshot.

The cascade reads the snapshot's markets again at its block and follows the protocols' own
liquidation rules; the check uses only what the scan stored (each position's exact level,
status and direction, the bands) and the depth model's arithmetic redone in fractions:
- round k liquidates, for the first time, exactly the stored longs whose level lies in
  (price_k, price_{k-1}] (round 0: above the shocked price, and those liquidatable now),
  except a few a protocol refuses at that price (Aave v3.3+'s dust rule, Maker's room);
- price_{k+1} = price_k x (1 - k x tokens sold) per axis asset, as the linear market says;
- the bands crossed are the stored bands overlapping [price_{k+1}, price_k];
- the totals are the sums of the rounds, and what the CLI printed is what was stored and
  what the library computes.
The depth is a deterministic linear-impact market (tests/unit/cascade_fixtures.py): a model
of a market, not a stand-in for the node.
"""

from __future__ import annotations

import asyncio
import json
from fractions import Fraction
from pathlib import Path

import pytest

from scanner.cascade import depth_source
from scanner.cascade.exposures import axis_book
from scanner.cascade.live import reread_snapshot
from scanner.cascade.run import cascade_to
from scanner.cascade.shock import shocked_price_8dec
from scanner.cli import main
from scanner.config import ChainConfig, Config
from scanner.devnet.network import Devnet
from scanner.domain import Direction, PositionStatus
from scanner.store.cascades import load_cascades
from scanner.store.repository import Repository
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan
from tests.unit.cascade_fixtures import LinearDepth

pytestmark = pytest.mark.integration

IMPACT_PER_TOKEN = 0.00001  # 1% per 1,000 ETH-like tokens sold
SHOCK = "-12%"


@pytest.fixture(scope="module")
def scanned(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Config, Repository, int, Path]:
    folder = tmp_path_factory.mktemp("cascade")
    config = devnet_config(devnet, folder, f"sqlite:///{folder / 'scan.db'}")
    repo = fresh_repo(config)
    outcome = scan(config, repo)
    return config, repo, outcome.snapshot_id, folder / "config.toml"


def _linear(config: Config, chain: ChainConfig, rpc: object, block: int) -> LinearDepth:
    return LinearDepth(IMPACT_PER_TOKEN)


async def _linear_factory(config: Config, chain: ChainConfig, rpc: object, block: int
                          ) -> LinearDepth:
    return _linear(config, chain, rpc, block)


def test_cascade_rounds_match_a_recomputation_from_the_stored_snapshot(
        scanned: tuple[Config, Repository, int, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    config, repo, snapshot_id, config_path = scanned
    monkeypatch.setattr(depth_source, "build_depth", _linear_factory)
    assert main(["--config", str(config_path), "cascade", "--axis", "ETH", "--shock", SHOCK,
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    (stored,) = load_cascades(repo, snapshot_id, "ETH")
    assert {k: v for k, v in stored.items() if k != "id"} == printed

    record = repo.get_snapshot(snapshot_id).record
    outcome, depth = asyncio.run(reread_snapshot(config, repo, snapshot_id, record,
                                                 _linear_factory))
    book = axis_book(outcome.markets, outcome.axes, "ETH")
    bands = repo.load_bands(snapshot_id, axis="ETH")
    now = book.axis.reference_price_8dec
    result = cascade_to(book, depth, shocked_price_8dec(now, -1_200), bands)
    assert printed["final_price_8dec"] == result.final_price_8dec
    assert len(result.rounds) >= 2, "the devnet's book and this market make a spiral"

    rows = [r for r in repo.load_positions(snapshot_id, axis="ETH")
            if r.direction is Direction.DOWN
            and r.status in (PositionStatus.AT_RISK, PositionStatus.LIQUIDATABLE_NOW)]
    seen: set[tuple[str, str]] = set()
    refused: list[tuple[str, str]] = []
    previous = None
    for r in result.rounds:
        first_time = {(x.market_key, x.account) for x in r.liquidations} - seen
        expected = {(p.market_key, p.account) for p in rows
                    if (p.market_key, p.account) not in seen and _reached(p, r.price_8dec,
                                                                           previous)}
        assert first_time <= expected, f"round {r.index}: liquidated above its stored level"
        refused += sorted(expected - first_time)
        seen |= first_time
        # the linear market, redone exactly: each axis asset's sale moves the price by its ratio
        after = Fraction(r.price_8dec)
        for s in r.sold:
            if s.asset in book.member_usd_now_8dec:
                after *= 1 - Fraction(IMPACT_PER_TOKEN) * Fraction(s.amount_raw, 10**s.decimals)
        assert abs(Fraction(r.price_after_8dec) - after) <= 2 + after / 10**12
        crossed = sorted(b.rank for b in bands if b.direction is Direction.DOWN
                         and b.low_8dec <= r.price_8dec and b.high_8dec >= r.price_after_8dec)
        assert list(r.bands_crossed) == crossed
        previous = r.price_8dec
    # a protocol may refuse a liquidation the level allows: only these rules do
    protocols = {market: p.protocol for p in rows for market in [p.market_key]}
    assert all(protocols[m] in ("aave-v3", "maker") for m, _ in refused), refused
    assert len(refused) <= len(seen) // 20
    assert printed["positions_liquidated"] == len(seen) == result.positions_liquidated
    assert printed["sold_usd_8dec"] == sum(x["sold_usd_8dec"] for x in printed["path"])


def _reached(p: object, price_8dec: int, previous: int | None) -> bool:
    from scanner.domain import PositionResult

    assert isinstance(p, PositionResult)
    if p.status is PositionStatus.LIQUIDATABLE_NOW:
        return previous is None
    assert p.liquidation_price_8dec is not None
    upper = previous if previous is not None else 2**256
    return price_8dec < p.liquidation_price_8dec <= upper


def test_cascade_bad_inputs_are_one_line_errors(
        scanned: tuple[Config, Repository, int, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, _, config_path = scanned
    for argv, code, fix in [
        (["--shock", "abc"], 2, "--shock 'abc': write a signed percentage"),
        (["--shock", "50%"], 2, "--shock '50%': write a signed percentage"),
        (["--shock", "-100%"], 2, "at most -99%"),
        (["--to", "zero"], 2, "--to 'zero': not a price"),
        (["--axis", "DOGE", "--shock", "-5%"], 2, "--axis DOGE: snapshot"),
    ]:
        args = ["--config", str(config_path), "cascade", *argv]
        if "--axis" not in argv:
            args += ["--axis", "ETH"]
        assert main(args) == code, argv
        err = capsys.readouterr().err
        assert fix in err and err.count("\n") == 1 and "Traceback" not in err, err

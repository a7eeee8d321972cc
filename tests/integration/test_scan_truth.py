"""The product's truth test: every reported liquidation price is checked by the real Aave Pools,
on both devnet markets -- v3.0 (npm @aave/core-v3) and v3.6 (npm @aave-dao/aave-v3-origin) --
after 31 days of interest.

For each at-risk position the axis members' oracle prices are moved (eth_call state overrides
on the MockAggregators' answer slot, at the scan block) around the reported price x, and the
Pool's own getUserAccountData must agree:
- healthy at x and at x(1+1e-4) (the side of today's price; x(1-1e-4) for shorts);
- liquidatable one oracle unit past x, and at x(1-1e-4).
The last point has one principled exception, on v3.0 only. v3.0-3.4 floor the average
liquidation threshold, so when collateral mixes axis and non-axis assets of different LTs the
health factor is not monotone: a falling price can first make such a position liquidatable in a
window narrower than 1e-4, then healthy again just below it. x is where the price, moving from
today, FIRST liquidates the position (exact to one unit, checked above); the Pool itself then
shows the narrow window, and the test requires every such case to be of that mixed kind. v3.6
sums value x LT without averaging, so there it must never happen.
A sample (on v3.6 including accounts whose only collateral is eMode-only wstETH) is then
liquidated by a real `liquidationCall`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import pytest
from eth_abi.abi import decode
from eth_utils.crypto import keccak

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.aave36_spec import load_market36_spec
from scanner.devnet.aave_spec import load_market_spec
from scanner.devnet.network import AAVE36_MARKET_KEY, AAVE_MARKET_KEY, Devnet, seeded_devnet
from scanner.devnet.population import AavePositionPlan, ClusterSpec
from scanner.devnet.prices import ANSWER_SLOT, set_prices
from scanner.devnet.rpc import DevnetRpc, RpcCallError, Tx, calldata
from scanner.domain import Direction, PositionResult, PositionStatus
from scanner.pipeline.scan import SnapshotOutcome as ScanOutcome
from scanner.pipeline.scan import scan_market
from tests.integration.scan_helpers import devnet_config, fresh_repo

pytestmark = pytest.mark.integration

WAD = 10**18
CLUSTER = ClusterSpec(asset="WETH", total_usd=8_000_000, low_usd=2_380, high_usd=2_470)
TOLERANCE_PPM = 100  # 1e-4
INTEREST_SECONDS = 31 * 24 * 3600
LIQUIDATION_CALL_TOPIC = "0xe413a321e8681d831f4dbccbca790d2952b56f977908e45be37335533e005286"
MARKETS = (AAVE_MARKET_KEY, AAVE36_MARKET_KEY)
EMODE_ONLY_KINDS = {"emode_only_stable", "emode_only_wbtc", "emode_only_usdc", "emode_stable_mix"}


@dataclass(frozen=True)
class Market:
    """One scanned devnet market: its contracts, its planned borrowers, the scan, its LT rule."""

    key: str
    aave: AaveDeployment
    plans: Mapping[str, AavePositionPlan]  # account -> plan
    outcome: ScanOutcome
    lt_bps: Callable[[AavePositionPlan, str], int]  # the LT a plan's collateral asset counts at
    min_checked: int  # at-risk positions the test must check at least


def _lt_v30(plan: AavePositionPlan, symbol: str) -> int:
    spec = load_market_spec()
    reserve = spec.reserve(symbol)
    if plan.emode and reserve.emode_category == plan.emode:
        return spec.emode(plan.emode).lt_bps
    return reserve.lt_bps


def _lt_v36(plan: AavePositionPlan, symbol: str) -> int:
    return load_market36_spec().lt_ltv_bps(symbol, plan.emode)[0]


@pytest.fixture(scope="module")
def devnet() -> Iterator[Devnet]:
    with seeded_devnet(seed=11, aave_positions=900, clusters=(CLUSTER,),
                       aave36_positions=300) as net:
        # a month of interest: indexes and balances move away from their seeded values
        rpc = DevnetRpc(net.rpc_url)
        rpc.call("evm_increaseTime", [INTEREST_SECONDS])
        rpc.mine()
        yield net


@pytest.fixture(scope="module")
def markets(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Market]:
    folder = tmp_path_factory.mktemp("truth")
    config = devnet_config(devnet, folder, f"sqlite:///{folder / 'truth.db'}")
    repo = fresh_repo(config)
    assert devnet.aave36 is not None
    deployments = {AAVE_MARKET_KEY: (devnet.aave, devnet.aave_plans, _lt_v30, 500),
                   AAVE36_MARKET_KEY: (devnet.aave36, devnet.aave36_plans, _lt_v36, 150)}
    scanned = {}
    for key, (aave, plans, lt_bps, min_checked) in deployments.items():
        outcome = asyncio.run(scan_market(config, config.market(key), repo))
        scanned[key] = Market(key, aave, {p.account: p for p in plans}, outcome, lt_bps,
                              min_checked)
    return scanned


def _member_symbols(devnet: Devnet, market: Market, axis: str) -> dict[str, int]:
    """Axis member symbol -> its oracle price at the scan block."""
    (resolved,) = [a for a in market.outcome.axes if a.name == axis]
    symbols = {addr: sym for sym, addr in market.aave.tokens.items()}
    rpc = DevnetRpc(devnet.rpc_url)
    prices = {}
    for address in resolved.members:
        raw = rpc.eth_call(market.aave.oracle, calldata("getAssetPrice(address)", address),
                           market.outcome.record.block)
        prices[symbols[address]] = int(decode(["uint256"], raw)[0])
    return prices


def _axis_prices(member_prices: Mapping[str, int], reference_8dec: int, x_8dec: int
                 ) -> dict[str, int]:
    """Every member moved together: the same scaling the scanner applies."""
    return {s: p * x_8dec // reference_8dec for s, p in member_prices.items()}


def _health_factors(devnet: Devnet, market: Market, checks: list[tuple[str, dict[str, int]]]
                    ) -> list[int]:
    """Pool.getUserAccountData(user).healthFactor with oracle answers overridden, one batch."""
    requests = []
    for account, prices in checks:
        overrides = {
            market.aave.aggregators[symbol]: {
                "stateDiff": {_slot(ANSWER_SLOT): "0x" + price.to_bytes(32, "big").hex()}
            }
            for symbol, price in prices.items()
        }
        call = {"to": market.aave.pool, "data": calldata("getUserAccountData(address)", account)}
        requests.append(("eth_call", [call, hex(market.outcome.record.block), overrides]))
    results = DevnetRpc(devnet.rpc_url).batch(requests)
    return [int(decode(["uint256"] * 6, bytes.fromhex(r[2:]))[5]) for r in results]


def _slot(slot: str) -> str:
    return "0x" + int(slot, 16).to_bytes(32, "big").hex()


def _shifted(x_8dec: int, ppm: int) -> int:
    return x_8dec * (1_000_000 + ppm) // 1_000_000


def _at_risk(outcome: ScanOutcome, axis: str) -> list[PositionResult]:
    return [r for r in outcome.results
            if r.axis == axis and r.status == PositionStatus.AT_RISK]


@pytest.mark.parametrize("key", MARKETS)
def test_mirror_matches_the_pool_for_every_account(markets: dict[str, Market], key: str) -> None:
    market = markets[key]
    assert market.outcome.accounts_with_debt >= market.min_checked
    assert market.outcome.mirror_mismatches == ()
    assert market.outcome.markets[0].record.pool_revision == (10 if key == AAVE36_MARKET_KEY else 1)


def _probe_prices(p: PositionResult) -> list[int]:
    """x, x(1+1e-4) toward today's price, one unit past x, x(1-1e-4) past it."""
    assert p.liquidation_price_8dec is not None
    x, step = p.liquidation_price_8dec, 1 if p.direction == Direction.DOWN else -1
    return [x, _shifted(x, step * TOLERANCE_PPM), x - step, _shifted(x, -step * TOLERANCE_PPM)]


def _mixes_lts_across_the_axis(market: Market, account: str, axis: str) -> bool:
    """Collateral in an axis member and in a non-member of another LT (the average LT moves)."""
    members = set(load_market_spec().axis_members(axis))
    plan = market.plans[account]
    lts = {(s in members, market.lt_bps(plan, s)) for s, _ in plan.supplies}
    return {m for m, _ in lts} == {True, False} and len({lt for _, lt in lts}) > 1


@pytest.mark.parametrize("key", MARKETS)
@pytest.mark.parametrize("axis", ["ETH", "BTC"])
def test_pool_agrees_with_every_liquidation_price(
    devnet: Devnet, markets: dict[str, Market], key: str, axis: str
) -> None:
    market = markets[key]
    members = _member_symbols(devnet, market, axis)
    (resolved,) = [a for a in market.outcome.axes if a.name == axis]
    positions = _at_risk(market.outcome, axis)
    checks = [
        (p.account, _axis_prices(members, resolved.reference_price_8dec, x))
        for p in positions
        for x in _probe_prices(p)
    ]
    hfs = _health_factors(devnet, market, checks)
    wrong, narrow = [], []
    for k, p in enumerate(positions):
        at_x, safe, one_past, tolerance_past = hfs[4 * k : 4 * k + 4]
        if not (at_x >= WAD and safe >= WAD and one_past < WAD):
            wrong.append((p.account, p.direction, p.liquidation_price_8dec))
        elif tolerance_past >= WAD:
            narrow.append(p.account)
    assert wrong == []
    if key == AAVE36_MARKET_KEY:
        assert narrow == []  # no averaged, floored LT: the health factor is monotone
    assert all(_mixes_lts_across_the_axis(market, a, axis) for a in narrow), narrow
    assert len(narrow) <= len(positions) // 50  # the floored-avgLT window is rare


@pytest.mark.parametrize("key", MARKETS)
def test_every_position_kind_is_checked(markets: dict[str, Market], key: str) -> None:
    market, outcome = markets[key], markets[key].outcome
    kind_of = {account: plan.kind for account, plan in market.plans.items()}
    checked = {r.account for axis in ("ETH", "BTC") for r in _at_risk(outcome, axis)}
    assert len(checked) >= market.min_checked
    kinds_with_debt = Counter(kind_of[r.account] for r in outcome.results if r.axis == "ETH")
    kinds_checked = Counter(kind_of[a] for a in checked)
    # every kind is either checked on an axis or (hedged / no exposure) not sensitive at all
    for kind in kinds_with_debt:
        statuses = {r.status for r in outcome.results if kind_of[r.account] == kind}
        assert kind in kinds_checked or PositionStatus.AT_RISK not in statuses, kind
    assert {PositionStatus.AT_RISK, PositionStatus.NOT_SENSITIVE,
            PositionStatus.LIQUIDATABLE_NOW} <= {r.status for r in outcome.results}
    assert any(r.direction == Direction.UP for r in outcome.results), "no short was scanned"
    if key == AAVE36_MARKET_KEY:  # collateral that only counts inside an eMode is judged too
        assert set(kinds_checked) >= EMODE_ONLY_KINDS, kinds_checked


@pytest.mark.parametrize("key", MARKETS)
def test_liquidatable_now_is_below_one_now(devnet: Devnet, markets: dict[str, Market],
                                           key: str) -> None:
    market = markets[key]
    now = [r for r in market.outcome.results if r.status == PositionStatus.LIQUIDATABLE_NOW]
    assert now
    hfs = _health_factors(devnet, market, [(r.account, {}) for r in now])
    assert all(hf < WAD for hf in hfs)


@pytest.mark.parametrize("key", MARKETS)
def test_not_sensitive_positions_stay_healthy(devnet: Devnet, markets: dict[str, Market],
                                              key: str) -> None:
    market = markets[key]
    members = _member_symbols(devnet, market, "ETH")
    hedged = [r for r in market.outcome.results
              if r.axis == "ETH" and r.status == PositionStatus.NOT_SENSITIVE]
    assert hedged, "the population has hedged / non-ETH positions"
    checks = []
    for r in hedged:
        for factor_ppm in (10_000, 100_000_000):  # 0.01x and 100x
            checks.append((r.account, {s: p * factor_ppm // 1_000_000 for s, p in members.items()}))
    assert all(hf >= WAD for hf in _health_factors(devnet, market, checks))


def test_planted_cluster_is_found_as_a_band(markets: dict[str, Market]) -> None:
    outcome = markets[AAVE_MARKET_KEY].outcome
    bands = [b for b in outcome.bands if b.axis == "ETH" and b.direction == Direction.DOWN]
    low_8dec, high_8dec = int(CLUSTER.low_usd * 10**8), int(CLUSTER.high_usd * 10**8)
    matching = [b for b in bands
                if abs(b.low_8dec - low_8dec) <= low_8dec // 200
                and abs(b.high_8dec - high_8dec) <= high_8dec // 200]
    assert matching, [(b.low_8dec, b.high_8dec) for b in bands]
    assert matching[0].rank == 1


def test_planted_cluster_band_edges_hug_the_cluster(markets: dict[str, Market]) -> None:
    # Edges weighted by collateral land on the cluster's own outermost positions, or on a
    # background position so close beside them (< 0.5%) that nothing tells it apart.
    market = markets[AAVE_MARKET_KEY]
    outcome = market.outcome
    planted = {plan.account for plan in market.plans.values() if plan.cluster is not None}
    prices = [r.liquidation_price_8dec for r in _at_risk(outcome, "ETH")
              if r.account in planted and r.liquidation_price_8dec is not None]
    assert len(prices) == len(planted) > 0
    (band,) = [b for b in outcome.bands if b.axis == "ETH" and b.rank == 1]
    assert band.kind == "band"
    assert min(prices) * 995 // 1000 <= band.low_8dec <= min(prices)
    assert max(prices) <= band.high_8dec <= max(prices) * 1005 // 1000


LIQUIDATOR = "0x00000000000000000000000000000000000Ba5ed"
# v3.0 reverts with the string "45"; v3.6 with the custom error HealthFactorNotBelowThreshold()
NOT_LIQUIDATABLE = {
    AAVE_MARKET_KEY: "45",
    AAVE36_MARKET_KEY: keccak(b"HealthFactorNotBelowThreshold()")[:4].hex(),
}


def _liquidation_tx(devnet: Devnet, market: Market, account: str) -> Tx:
    """A liquidationCall of the account's largest debt against its largest collateral,
    from a liquidator funded with plenty of the debt token."""
    rpc = DevnetRpc(devnet.rpc_url)
    plan = market.plans[account]
    debt_token = market.aave.tokens[max(plan.borrows, key=lambda b: b[1])[0]]
    collateral_token = market.aave.tokens[max(plan.supplies, key=lambda s: s[1])[0]]
    amount_raw = 10**30
    rpc.send_many([
        Tx(LIQUIDATOR, debt_token, calldata("mint(uint256)", amount_raw)),
        Tx(LIQUIDATOR, debt_token, calldata("approve(address,uint256)", market.aave.pool,
                                            amount_raw)),
    ])
    return Tx(LIQUIDATOR, market.aave.pool, calldata(
        "liquidationCall(address,address,address,uint256,bool)",
        collateral_token, debt_token, account, 2**256 - 1, False))


def _boundary_sample(market: Market) -> list[PositionResult]:
    """Four long positions with a monotone health factor near x (see the module docstring),
    plus, on v3.6, two whose only collateral is eMode-only wstETH."""
    longs = sorted((r for r in _at_risk(market.outcome, "ETH") if r.direction == Direction.DOWN
                    and not _mixes_lts_across_the_axis(market, r.account, "ETH")),
                   key=lambda r: r.account)
    sample = longs[:: max(1, len(longs) // 4)][:4]
    emode_only = [r for r in longs if market.plans[r.account].kind == "emode_only_stable"]
    if market.key == AAVE36_MARKET_KEY:
        assert len(emode_only) >= 2
    return sample + emode_only[:2]


@pytest.mark.parametrize("key", MARKETS)
def test_real_liquidation_call_at_the_boundary(devnet: Devnet, markets: dict[str, Market],
                                               key: str) -> None:
    market = markets[key]
    rpc = DevnetRpc(devnet.rpc_url)
    members = _member_symbols(devnet, market, "ETH")
    (axis,) = [a for a in market.outcome.axes if a.name == "ETH"]
    for position in _boundary_sample(market):
        assert position.liquidation_price_8dec is not None
        snapshot = rpc.call("evm_snapshot")
        try:
            tx = _liquidation_tx(devnet, market, position.account)
            safe = _shifted(position.liquidation_price_8dec, TOLERANCE_PPM)
            set_prices(rpc, market.aave, _axis_prices(members, axis.reference_price_8dec, safe))
            with pytest.raises(RpcCallError, match=NOT_LIQUIDATABLE[key]):
                rpc.call("eth_call", [{"from": tx.sender, "to": tx.to, "data": tx.data}])
            with pytest.raises(RpcCallError, match="reverted"):
                rpc.send(tx)
            past = _shifted(position.liquidation_price_8dec, -TOLERANCE_PPM)
            set_prices(rpc, market.aave, _axis_prices(members, axis.reference_price_8dec, past))
            receipt = rpc.send(tx)
            assert any(log["topics"][0] == LIQUIDATION_CALL_TOPIC for log in receipt["logs"])
        finally:
            rpc.call("evm_revert", [snapshot])

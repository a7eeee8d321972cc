"""The Maker adapter against the devnet's own dss contracts (DevnetMaker*.sol, see their
headers): the shared adapter contract, every urn shape, the ChainLog and the explicit
addresses giving the same read, and the stale-rate trap."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from scanner.devnet.maker_population import ROUTES
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc
from scanner.protocols.maker.curve import MakerPosition
from scanner.protocols.maker.rule import unsafe
from tests.integration.adapter_contract import AdapterContract, AdapterEnv, read_all, run
from tests.integration.maker_helpers import advance_osms, maker_env, maker_of

pytestmark = pytest.mark.integration
DAY = 86_400


@pytest.fixture
def adapter_env(devnet: Devnet) -> AdapterEnv:
    return maker_env(devnet)


@pytest.fixture
def move_prices(devnet: Devnet, devnet_snapshot: DevnetRpc) -> Callable[[], int]:
    return lambda: advance_osms(devnet_snapshot, maker_of(devnet), factor_bps=9_000)


def _read(env: AdapterEnv) -> list[MakerPosition]:
    read = run(env, lambda a: read_all(a, sorted(env.borrowers), env.head_block))
    assert read.mirror_mismatches == ()
    states = [p.state for p in read.positions]
    assert all(isinstance(s, MakerPosition) for s in states)
    return [s for s in states if isinstance(s, MakerPosition)]


class TestMakerAdapter(AdapterContract):
    def test_at_least_200_urns_of_every_shape(self, adapter_env: AdapterEnv,
                                              devnet: Devnet) -> None:
        maker = maker_of(devnet)
        assert len(maker.borrowers) >= 200
        assert {p.route for p in devnet.maker_plans} == set(ROUTES)
        positions = _read(adapter_env)
        assert {(s.ilk.name, s.urn.urn) for s in positions} == set(maker.borrowers)
        by_route = {p.route: p for p in devnet.maker_plans}
        cdp_owners = {s.urn.owner for s in positions if s.urn.cdp is not None}
        # a vault given away reports its new owner; a vault forked away is found at its
        # destination (named only by the fork note's topic 3)
        assert by_route["cdp_give"].other in cdp_owners
        assert by_route["cdp_give"].owner not in cdp_owners
        urns = {s.urn.urn for s in positions}
        assert by_route["vat_fork_whole"].other in urns
        assert by_route["vat_fork_whole"].owner not in urns
        assert {by_route["vat_fork_half"].owner, by_route["vat_fork_half"].other} <= urns
        assert {s.ilk.symbol for s in positions} == {"WETH", "wstETH", "WBTC"}

    def test_the_8_decimal_gem_is_a_wad(self, adapter_env: AdapterEnv, devnet: Devnet) -> None:
        wbtc = [s for s in _read(adapter_env) if s.ilk.name == "WBTC-A"]
        assert wbtc and all(s.urn.ink_wad % 10**10 == 0 for s in wbtc)
        assert max(s.urn.ink_wad for s in wbtc) > 10**18  # whole WBTC, in wad


def test_chainlog_and_explicit_addresses_read_the_same(devnet: Devnet) -> None:
    by_chainlog, explicit = maker_env(devnet), maker_env(devnet, explicit=True)
    first = run(by_chainlog, lambda a: read_all(a, sorted(by_chainlog.borrowers),
                                                by_chainlog.head_block))
    second = run(explicit, lambda a: read_all(a, sorted(explicit.borrowers),
                                              explicit.head_block))
    assert first.positions == second.positions and first.assets == second.assets


def test_stale_rate_is_accrued_as_drip_would(devnet: Devnet) -> None:
    """WBTC-A was not dripped for 35 days: the stored rate says its edge urns are safe, the
    rate a keeper's drip sets (the rule's) says they are not -- and the Vat agrees once dripped
    (checked in test_maker_truth)."""
    positions = _read(maker_env(devnet))
    wbtc = [s for s in positions if s.ilk.name == "WBTC-A"]
    ilk = wbtc[0].ilk
    assert ilk.timestamp - ilk.rho >= 30 * DAY
    assert ilk.rate_ray > ilk.stored_rate_ray
    trapped = [s for s in wbtc
               if not unsafe(s.urn.ink_wad, s.urn.art_wad, ilk.stored_spot_ray,
                             ilk.stored_rate_ray)
               and unsafe(s.urn.ink_wad, s.urn.art_wad, ilk.spot_ray, ilk.rate_ray)]
    assert trapped


def test_default_ilks_are_those_whose_gem_is_on_a_configured_axis(devnet: Devnet) -> None:
    """Without `ilks`, only ilks whose gem an axis moves are read: with the ETH axis alone,
    WBTC-A is left out; named in `ilks`, it is read again."""
    env = maker_env(devnet)
    eth_only = dataclasses.replace(env.market, axis_assets=("WETH", "wstETH", "rETH"))
    read = run(env, lambda a: read_all(a, sorted(env.borrowers), env.head_block), eth_only)
    assert {p.submarket for p in read.positions} == {"ETH-A", "WSTETH-A"}
    assert "WBTC" not in {asset.symbol for asset in read.assets}
    named = dataclasses.replace(eth_only, texts={"ilks": ("WBTC-A",)})
    read = run(env, lambda a: read_all(a, sorted(env.borrowers), env.head_block), named)
    assert {p.submarket for p in read.positions} == {"WBTC-A"}

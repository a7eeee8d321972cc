"""Maker's liquidation prices judged by the contracts themselves (the devnet's own dss:
DevnetMakerJug, Spotter, Dog and Vat, see their headers).

For every urn with debt: with its gem's OSM answering the reported price x (1 + 1e-4), a
keeper's `jug.drip`, `spotter.poke` and `dog.bark` leave it alone ("Dog/not-unsafe"); at
x (1 - 1e-4) bark liquidates it. `liquidatable_next` is the Dog's verdict once the OSM moves
its next price to current. Every call is an eth_call pinned to the block (the OSM's current
value overridden in the call), so the devnet is unchanged.
"""

from __future__ import annotations

import pytest

from scanner.devnet.maker import b32
from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.domain import Axis, PositionResult, PositionStatus
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.liquidation import liquidation_result
from scanner.protocols.maker.curve import MakerPosition
from tests.integration.adapter_contract import read_all, run
from tests.integration.maker_helpers import (
    MAKER_AXES,
    advance_osms,
    keeper_verdicts,
    maker_env,
    maker_of,
    uint,
)

pytestmark = pytest.mark.integration
STEP_BPS = 1  # 1e-4


def _own_axis_results(devnet: Devnet, block: int | None = None
                      ) -> list[tuple[MakerPosition, PositionResult, Axis]]:
    """Each urn with its result on the axis of its own gem."""
    env = maker_env(devnet)
    at = env.head_block if block is None else block
    read = run(env, lambda a: read_all(a, sorted(env.borrowers), at))
    axes = resolve_axes(MAKER_AXES, read.assets)
    out = []
    for p in read.positions:
        assert isinstance(p.state, MakerPosition)
        (axis,) = [a for a in axes if p.state.ilk.gem in a.members]
        result = liquidation_result(p, axis)
        assert result is not None
        out.append((p.state, result, axis))
    return out


def test_bark_judges_every_reported_liquidation_price(devnet: Devnet,
                                                      devnet_rpc: DevnetRpc) -> None:
    maker = maker_of(devnet)
    found = _own_axis_results(devnet)
    assert len(found) == len(maker.borrowers) >= 200
    cases, expected = [], []
    for state, result, axis in found:
        native = result.liquidation_price_native
        assert native is not None, f"urn {state.urn.urn} of {state.ilk.name} has no price"
        curve = state.curve(axis)
        for x, barks in ((native * (10_000 + STEP_BPS) // 10_000, False),
                         (native * (10_000 - STEP_BPS) // 10_000, True)):
            cases.append((state.ilk.name, state.urn.urn, curve.val_wad(x)))
            expected.append((state, barks))
    verdicts = keeper_verdicts(devnet_rpc, maker, cases, devnet.head_block)
    for (state, barks), verdict in zip(expected, verdicts, strict=True):
        assert verdict.rate_ray == state.ilk.rate_ray  # the Jug drips what the rule accrued
        assert verdict.barked is barks, (state.ilk.name, state.urn.urn)
    statuses = {r.status for _, r, _ in found}
    assert {PositionStatus.AT_RISK, PositionStatus.LIQUIDATABLE_NOW} <= statuses


def test_liquidatable_now_is_barked_at_todays_price(devnet: Devnet,
                                                    devnet_rpc: DevnetRpc) -> None:
    found = _own_axis_results(devnet)
    cases = [(s.ilk.name, s.urn.urn, None) for s, _, _ in found]
    verdicts = keeper_verdicts(devnet_rpc, maker_of(devnet), cases, devnet.head_block)
    now = [(r.status is PositionStatus.LIQUIDATABLE_NOW) for _, r, _ in found]
    assert [v.barked for v in verdicts] == now
    assert any(now)


def test_liquidatable_next_is_the_dogs_verdict_once_the_osm_advances(
        devnet: Devnet, devnet_snapshot: DevnetRpc) -> None:
    found = _own_axis_results(devnet)
    predicted = [s.liquidatable_next for s, _, _ in found]
    assert None not in predicted
    # some urns are safe today and liquidatable at the next price: the hour of warning
    assert any(nxt and r.status is PositionStatus.AT_RISK
               for nxt, (_, r, _) in zip(predicted, found, strict=True))
    assert not all(predicted)
    block = advance_osms(devnet_snapshot, maker_of(devnet))
    cases = [(s.ilk.name, s.urn.urn, None) for s, _, _ in found]
    verdicts = keeper_verdicts(devnet_snapshot, maker_of(devnet), cases, block)
    for (state, _, _), verdict in zip(found, verdicts, strict=True):
        assert verdict.rate_ray == state.ilk.rate_next_ray
    assert [v.barked for v in verdicts] == predicted


def test_a_real_keeper_liquidates_below_the_reported_price(
        devnet: Devnet, devnet_snapshot: DevnetRpc) -> None:
    """No override: the medians fall 40%, two OSM hops pass, a keeper drips, pokes and barks
    with real transactions every urn whose reported price is above the new one."""
    maker = maker_of(devnet)
    found = _own_axis_results(devnet)
    advance_osms(devnet_snapshot, maker, factor_bps=6_000)
    advance_osms(devnet_snapshot, maker)
    rpc, keeper = devnet_snapshot, maker.deployer
    rpc.send_many([Tx(keeper, maker.jug, calldata("drip(bytes32)", b32(i.name)))
                   for i in maker.ilks]
                  + [Tx(keeper, maker.spotter, calldata("poke(bytes32)", b32(i.name)))
                     for i in maker.ilks])
    doomed = []
    for state, result, axis in found:
        assert result.liquidation_price_native is not None
        boundary_val = state.curve(axis).val_wad(result.liquidation_price_native)
        new_val = uint(rpc, maker.ilk(state.ilk.name).median, "val()")
        if new_val < boundary_val * 9_999 // 10_000:  # below the reported price
            doomed.append(state)
    assert doomed
    rpc.send_many([Tx(keeper, maker.dog, calldata("bark(bytes32,address,address)",
                                                 b32(s.ilk.name), s.urn.urn, keeper))
                   for s in doomed[:20]])
    for s in doomed[:20]:
        ink = uint(rpc, maker.vat, "urns(bytes32,address)", b32(s.ilk.name), s.urn.urn)
        assert ink < s.urn.ink_wad

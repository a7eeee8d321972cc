"""The Liquity v1 adapter against the devnet's own contracts (DevnetLiquity*.sol, see their
headers): the shared adapter contract, troves of every shape (pending rewards of two, one or
no redistribution), the rule's entire debt and coll equal to getEntireDebtAndColl, and the
TroveManager's own ICR and TCR."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_abi.abi import decode

from scanner.devnet.network import Devnet
from scanner.devnet.rpc import DevnetRpc, calldata
from scanner.protocols.liquity_v1.curve import LiquityPosition
from scanner.protocols.liquity_v1.rule import CCR, compute_cr
from tests.integration.adapter_contract import AdapterContract, AdapterEnv, read_all, run
from tests.integration.liquity1_helpers import liquity1_env, liquity_of, move_price

pytestmark = pytest.mark.integration


@pytest.fixture
def adapter_env(devnet: Devnet) -> AdapterEnv:
    return liquity1_env(devnet)


@pytest.fixture
def move_prices(devnet: Devnet, devnet_snapshot: DevnetRpc) -> Callable[[], int]:
    return lambda: move_price(devnet_snapshot, liquity_of(devnet), factor_bps=9_000)


def _read(env: AdapterEnv) -> list[LiquityPosition]:
    read = run(env, lambda a: read_all(a, sorted(env.borrowers), env.head_block))
    assert read.mirror_mismatches == ()
    states = [p.state for p in read.positions]
    assert all(isinstance(s, LiquityPosition) for s in states)
    return [s for s in states if isinstance(s, LiquityPosition)]


def _uint(rpc: DevnetRpc, to: str, signature: str, *args: object, block: int) -> int:
    (value,) = decode(["uint256"], rpc.eth_call(to, calldata(signature, *args), block))
    return int(value)


class TestLiquityV1Adapter(AdapterContract):
    def test_at_least_200_troves_of_every_shape(self, adapter_env: AdapterEnv,
                                                devnet: Devnet) -> None:
        positions = _read(adapter_env)
        assert len(positions) == len(liquity_of(devnet).borrowers) >= 200
        system = positions[0].system
        pending = [s for s in positions if s.trove.pending_debt_wad(system) > 0]
        assert pending and len(pending) < len(positions)  # the last wave has none
        # two redistributions: the first wave's snapshots are older than the second's
        assert len({s.trove.snapshot_lusd_debt for s in pending}) >= 2
        covered = [s for s in positions if s.entire()[0] <= system.lusd_in_sp_wad]
        assert covered and len(covered) < len(positions)
        assert system.trove_count == len(positions)

    def test_entire_debt_icr_and_tcr_are_the_trove_managers(self, adapter_env: AdapterEnv,
                                                            devnet: Devnet,
                                                            devnet_rpc: DevnetRpc) -> None:
        liquity, block = liquity_of(devnet), adapter_env.head_block
        positions = _read(adapter_env)
        system = positions[0].system
        for state in positions[:60]:
            debt, coll = state.entire()
            icr = _uint(devnet_rpc, liquity.trove_manager, "getCurrentICR(address,uint256)",
                        state.trove.owner, system.price_wad, block=block)
            assert compute_cr(coll, debt, system.price_wad) == icr
        tcr = _uint(devnet_rpc, liquity.trove_manager, "getTCR(uint256)", system.price_wad,
                    block=block)
        assert compute_cr(system.system_coll_wei, system.system_debt_wad,
                          system.price_wad) == tcr
        assert CCR < tcr < CCR * 13 // 10  # near recovery mode, not in it

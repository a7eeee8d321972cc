"""Liquity v1 on the devnet: our own contracts (contracts/src/DevnetLiquity*.sol, see their
headers), priced from the Aave devnet's WETH feed once, seeded with troves of every shape.

    liquity = deploy_and_seed_liquity1(rpc, aave, plans)

Timeline (all real transactions):
 1. deploy and wire TroveManager, SortedTroves, PriceFeed (the Aave WETH price), the pools and
    LUSD;
 2. wave 0 opens, the price falls 5%, wave 0's victims are liquidated with an empty Stability
    Pool (a pure redistribution: every open trove now has pending rewards), the price returns;
 3. wave 1 opens, a second round (wave 1's victims) redistributes again; wave 2 opens after it
    (no pending rewards);
 4. a whale opens a trove sized to put the system's TCR near TARGET_TCR_BPS and deposits into
    the Stability Pool enough LUSD to cover most troves (not the largest);
 5. the price moves FINAL_MOVE_BPS, so the edge troves are liquidatable now.
The Liquity feed is its own: moving it never touches the other markets' prices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.keepout import Keepout
from scanner.devnet.liquity1_population import (
    FINAL_MOVE_BPS,
    TrovePlan,
    account,
    icr_clear_of,
)
from scanner.devnet.own_contracts import compile_own, deploy, read_uint
from scanner.devnet.prices import get_price_usd_8dec
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.solc import CompiledContract

SOURCES = ("DevnetLiquityTroveManager.sol", "DevnetLiquitySortedTroves.sol",
           "DevnetLiquityPools.sol")
WAD = 10**18
FEE_BPS = 50  # the 0.5% borrowing fee floor
GAS_RESERVE_LUSD = 200
REDISTRIBUTION_FALL_BPS = 500
TARGET_TCR_BPS = 16_800
SP_COVER_QUANTILE = 0.9  # the Stability Pool covers the debt of ~90% of the troves
MAX_FEE_WAD = WAD  # openTrove's maximum fee: anything
WHALE = account("whale")


@dataclass(frozen=True)
class Liquity1Deployment:
    deployer: str
    trove_manager: str
    sorted_troves: str
    price_feed: str
    active_pool: str
    default_pool: str
    stability_pool: str
    lusd: str
    borrowers: tuple[str, ...]  # trove owners left active by the seeding (whale included)
    deploy_block: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Liquity1Deployment:
        return cls(**{**data, "borrowers": tuple(str(b) for b in data["borrowers"])})


def compile_liquity1_contracts() -> dict[str, CompiledContract]:
    return compile_own(SOURCES)


def deploy_liquity1(rpc: DevnetRpc, aave: AaveDeployment) -> Liquity1Deployment:
    c = compile_liquity1_contracts()
    d = aave.deployer
    price_wad = get_price_usd_8dec(rpc, aave, "WETH") * 10**10
    tm = deploy(rpc, c, d, "DevnetLiquityTroveManager")
    sorted_troves = deploy(rpc, c, d, "DevnetLiquitySortedTroves")
    feed = deploy(rpc, c, d, "DevnetLiquityPriceFeed", ["uint256"], [price_wad])
    sp = deploy(rpc, c, d, "DevnetLiquityStabilityPool")
    active = deploy(rpc, c, d, "DevnetLiquityActivePool")
    default = deploy(rpc, c, d, "DevnetLiquityDefaultPool")
    lusd = deploy(rpc, c, d, "DevnetLiquityLUSD", ["address", "address"], [tm, sp])
    deploy_block = rpc.block_number()
    rpc.send_many([
        Tx(d, tm, calldata("setAddresses(address,address,address,address,address,address)",
                           feed, active, default, sp, sorted_troves, lusd)),
        Tx(d, sorted_troves, calldata("setTroveManager(address)", tm)),
        Tx(d, sp, calldata("setAddresses(address,address,address)", tm, active, lusd)),
        Tx(d, active, calldata("setAddresses(address,address,address)", tm, sp, default)),
        Tx(d, default, calldata("setAddresses(address,address)", tm, active)),
    ])
    return Liquity1Deployment(d, tm, sorted_troves, feed, active, default, sp, lusd, (),
                              deploy_block)


def _entire_debt(rpc: DevnetRpc, liquity: Liquity1Deployment, owner: str) -> int:
    debt, _coll, _pending_debt, _pending_coll = decode(
        ["uint256"] * 4, rpc.eth_call(liquity.trove_manager, calldata(
            "getEntireDebtAndColl(address)", owner)))
    return int(debt)


def set_price(rpc: DevnetRpc, liquity: Liquity1Deployment, price_wad: int) -> None:
    rpc.send(Tx(liquity.deployer, liquity.price_feed, calldata("setPrice(uint256)", price_wad)))


def price_of(rpc: DevnetRpc, liquity: Liquity1Deployment) -> int:
    return read_uint(rpc, liquity.price_feed, "lastGoodPrice()")


def _open_txs(rpc: DevnetRpc, liquity: Liquity1Deployment, owner: str, lusd: int,
              icr_bps: int, price_wad: int) -> list[Tx]:
    """Fund `owner` and open its trove: coll = icr * (lusd + fee + reserve) / price."""
    debt_wad = lusd * WAD * (10_000 + FEE_BPS) // 10_000 + GAS_RESERVE_LUSD * WAD
    coll_wei = debt_wad * icr_bps // 10_000 * WAD // price_wad + 1
    rpc.call("anvil_setBalance", [owner, hex(coll_wei + WAD)])
    return [Tx(owner, liquity.trove_manager, calldata(
        "openTrove(uint256,uint256,address,address)", MAX_FEE_WAD, lusd * WAD, owner, owner),
        value=coll_wei, gas=30_000_000)]


def _open(rpc: DevnetRpc, liquity: Liquity1Deployment, plans: Sequence[TrovePlan]) -> None:
    price = price_of(rpc, liquity)
    txs = [tx for p in plans for tx in _open_txs(rpc, liquity, p.owner, p.lusd, p.icr_bps, price)]
    rpc.send_many(txs, per_block=20)


def _redistribute(rpc: DevnetRpc, liquity: Liquity1Deployment, victims: Sequence[TrovePlan]
                  ) -> None:
    """Liquidate `victims` after a fall, with nothing in the Stability Pool: redistribution."""
    price = price_of(rpc, liquity)
    set_price(rpc, liquity, price * (10_000 - REDISTRIBUTION_FALL_BPS) // 10_000)
    rpc.send_many([Tx(liquity.deployer, liquity.trove_manager,
                      calldata("liquidate(address)", v.owner), gas=30_000_000)
                   for v in victims])
    set_price(rpc, liquity, price)


def _whale_and_pool(rpc: DevnetRpc, liquity: Liquity1Deployment, owners: Sequence[str],
                    keepout: Keepout | None) -> None:
    """The whale's trove brings the TCR to the target; its LUSD covers most troves."""
    debts = sorted(_entire_debt(rpc, liquity, o) for o in owners)
    deposit_lusd = debts[int(len(debts) * SP_COVER_QUANTILE)] // WAD + 1
    price = price_of(rpc, liquity)
    coll = read_uint(rpc, liquity.trove_manager, "getEntireSystemColl()")
    debt = read_uint(rpc, liquity.trove_manager, "getEntireSystemDebt()")
    whale_lusd = deposit_lusd + 10_000
    whale_debt = whale_lusd * WAD * (10_000 + FEE_BPS) // 10_000 + GAS_RESERVE_LUSD * WAD
    # (coll + whale coll) * price / (debt + whale debt) = target, with the whale over 130%
    whale_coll = (debt + whale_debt) * TARGET_TCR_BPS // 10_000 * WAD // price - coll
    icr_bps = max(13_000, whale_coll * price // WAD * 10_000 // whale_debt)
    if keepout is not None:  # the whale is sized by the chain, so it is moved, not redrawn
        icr_bps = icr_clear_of(keepout, icr_bps)
    txs = _open_txs(rpc, liquity, WHALE, whale_lusd, icr_bps, price)
    txs.append(Tx(WHALE, liquity.stability_pool, calldata(
        "provideToSP(uint256,address)", deposit_lusd * WAD, "0x" + "00" * 20)))
    rpc.send_many(txs)


def seed_liquity1(rpc: DevnetRpc, liquity: Liquity1Deployment, plans: Sequence[TrovePlan],
                  keepout: Keepout | None = None) -> Liquity1Deployment:
    """With a `keepout` (planted clusters), the whale's ICR keeps its level clear too."""
    scanned = [p for p in plans if p.bucket != "victim"]
    victims = [p for p in plans if p.bucket == "victim"]
    for wave in range(3):
        _open(rpc, liquity, [p for p in plans if p.wave == wave])
        round_victims = [v for v in victims if v.wave == wave]
        if round_victims:
            _redistribute(rpc, liquity, round_victims)
    _whale_and_pool(rpc, liquity, [p.owner for p in scanned], keepout)
    price = price_of(rpc, liquity)
    set_price(rpc, liquity, price * (10_000 + FINAL_MOVE_BPS) // 10_000)
    return Liquity1Deployment(**{**asdict(liquity), "borrowers": _active(rpc, liquity)})


def _active(rpc: DevnetRpc, liquity: Liquity1Deployment) -> tuple[str, ...]:
    count = read_uint(rpc, liquity.trove_manager, "getTroveOwnersCount()")
    out = []
    for i in range(count):
        (owner,) = decode(["address"], rpc.eth_call(liquity.trove_manager, calldata(
            "getTroveFromTroveOwnersArray(uint256)", i)))
        out.append(str(to_checksum_address(owner)))
    return tuple(sorted(out))


def deploy_and_seed_liquity1(rpc: DevnetRpc, aave: AaveDeployment, plans: Sequence[TrovePlan],
                             keepout: Keepout | None = None) -> Liquity1Deployment:
    return seed_liquity1(rpc, deploy_liquity1(rpc, aave), plans, keepout)

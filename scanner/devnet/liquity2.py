"""Liquity v2 (BOLD) on the devnet: our own contracts (contracts/src/DevnetBold*.sol, see
their headers) over the Aave devnet's WETH, wstETH and rETH, seeded with troves of every shape.

    liquity2 = deploy_and_seed_liquity2(rpc, aave, plans)

Timeline (all real transactions; the clock moves with evm_increaseTime):
 1. deploy a branch per collateral (prices from the Aave feeds, set once: moving them never
    touches another market) and the CollateralRegistry; three batch managers per branch;
 2. open the early troves and, per live branch, a few victims just above MCR; 10 days pass;
 3. each live feed drops 5%, the victims are liquidated (`batchLiquidateTroves`: the pools are
    still empty, so everything is redistributed and every early trove carries a pending
    gain), the feeds come back;
 4. the rETH feed fails (the branch shuts down: its interest stops, its price freezes);
 5. the late troves open (no pending gains; batch joiners get shares at a grown debt/share);
 6. each branch's Stability Pool gets its deposits (`provideToSP`, SP_DEPOSITS_BOLD): enough
    to offset part of a cascade's liquidations, not all, so both the offset and the
    redistribution happen in it.
The builder then runs Maker, whose 35-day warp leaves every trove's recorded debt stale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.aave import AaveDeployment
from scanner.devnet.liquity2_population import (
    BATCHES_PER_BRANCH,
    LIVE_BRANCHES,
    SHUT_BRANCH,
    TrovePlan,
    account,
    batch_manager,
)
from scanner.devnet.own_contracts import advance, compile_own, deploy, read_uint, send
from scanner.devnet.prices import get_price_usd_8dec
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.solc import CompiledContract
from scanner.errors import ConfigError

SOURCES = ("DevnetBoldTroveManager.sol", "DevnetBoldBranch.sol", "DevnetBoldStabilityPool.sol")
WAD = 10**18
PCT = 10**16
DAY = 86_400


@dataclass(frozen=True)
class BranchParams:
    mcr_pct: int
    ccr_pct: int
    scr_pct: int
    penalty_redistribution_pct: int
    penalty_sp_pct: int = 5


# liquity/bold Dependencies/Constants.sol: WETH and the staked-ETH branches
BRANCH_PARAMS = {"WETH": BranchParams(110, 150, 110, 10),
                 "wstETH": BranchParams(120, 160, 120, 20),
                 "rETH": BranchParams(120, 160, 120, 20)}
# BOLD deposited in each branch's Stability Pool at the end of the seeding
SP_DEPOSITS_BOLD = {"WETH": 400_000, "wstETH": 300_000, "rETH": 20_000}
BRANCHES = (*LIVE_BRANCHES, SHUT_BRANCH)
# batch number -> (annual interest rate, annual management fee), in bps
BATCH_TERMS = ((400, 50), (700, 100), (1_200, 250))
VICTIMS_PER_BRANCH = 3
VICTIM_USD = 60_000
VICTIM_RATIO_OVER_MCR_BPS = 10_150
LIQUIDATION_DROP_BPS = 500


@dataclass(frozen=True)
class Liquity2BranchDeployment:
    symbol: str
    token: str
    trove_manager: str
    borrower_operations: str
    trove_nft: str
    price_feed: str
    active_pool: str
    stability_pool: str


@dataclass(frozen=True)
class Liquity2Deployment:
    deployer: str
    collateral_registry: str
    branches: tuple[Liquity2BranchDeployment, ...]
    borrowers: tuple[tuple[str, str], ...]  # (symbol, trove id in hex) open after the seeding
    deploy_block: int

    def branch(self, symbol: str) -> Liquity2BranchDeployment:
        for branch in self.branches:
            if branch.symbol == symbol:
                return branch
        raise ConfigError(f"no devnet Liquity v2 branch {symbol!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Liquity2Deployment:
        return cls(**{**data, "branches": tuple(Liquity2BranchDeployment(**b)
                                                for b in data["branches"]),
                      "borrowers": tuple((str(a), str(b)) for a, b in data["borrowers"])})


def compile_liquity2_contracts() -> dict[str, CompiledContract]:
    return compile_own(SOURCES)


def _deploy_branch(rpc: DevnetRpc, c: Mapping[str, CompiledContract], aave: AaveDeployment,
                   symbol: str) -> Liquity2BranchDeployment:
    d, p = aave.deployer, BRANCH_PARAMS[symbol]
    price = get_price_usd_8dec(rpc, aave, symbol) * 10**10
    bo = deploy(rpc, c, d, "DevnetBoldBorrowerOperations", ["uint256"] * 3,
                 [p.ccr_pct * PCT, p.scr_pct * PCT, p.mcr_pct * PCT])
    nft = deploy(rpc, c, d, "DevnetBoldTroveNFT")
    pool = deploy(rpc, c, d, "DevnetBoldActivePool")
    feed = deploy(rpc, c, d, "DevnetBoldPriceFeed", ["uint256", "address"], [price, bo])
    sp = deploy(rpc, c, d, "DevnetBoldStabilityPool")
    tm = deploy(rpc, c, d, "DevnetBoldTroveManager", ["address"] * 5 + ["uint256"] * 2,
                 [pool, feed, nft, bo, sp, p.penalty_sp_pct * PCT,
                  p.penalty_redistribution_pct * PCT])
    send(rpc, d, [(bo, "setAddresses(address,address)", (tm, feed)),
                   (sp, "setTroveManager(address)", (tm,)),
                   (nft, "setTroveManager(address)", (tm,)),
                   (pool, "setTroveManager(address)", (tm,)),
                   *((tm, "registerBatchManager(address,uint256,uint256)",
                      (batch_manager(symbol, n), rate * 10**14, fee * 10**14))
                     for n, (rate, fee) in enumerate(BATCH_TERMS[:BATCHES_PER_BRANCH]))])
    return Liquity2BranchDeployment(symbol, aave.tokens[symbol], tm, bo, nft, feed, pool, sp)


def deploy_liquity2(rpc: DevnetRpc, aave: AaveDeployment) -> Liquity2Deployment:
    c = compile_liquity2_contracts()
    deploy_block = rpc.block_number()
    branches = tuple(_deploy_branch(rpc, c, aave, symbol) for symbol in BRANCHES)
    registry = deploy(rpc, c, aave.deployer, "DevnetBoldCollateralRegistry",
                       ["address[]", "address[]"],
                       [[b.token for b in branches], [b.trove_manager for b in branches]])
    return Liquity2Deployment(aave.deployer, registry, branches, (), deploy_block)


def _open_tx(rpc: DevnetRpc, net: Liquity2Deployment, plan: TrovePlan) -> Tx:
    branch = net.branch(plan.branch)
    price = read_uint(rpc, branch.price_feed, "lastGoodPrice()")
    coll = plan.collateral_usd * WAD * WAD // price
    debt = plan.collateral_usd * WAD * 100 * 10_000 // (
        BRANCH_PARAMS[plan.branch].mcr_pct * plan.ratio_over_mcr_bps)
    if plan.batch is None:
        return Tx(net.deployer, branch.trove_manager, calldata(
            "openTrove(address,uint256,uint256,uint256,uint256)", plan.owner, plan.owner_index,
            coll, debt, plan.rate_bps * 10**14))
    return Tx(net.deployer, branch.trove_manager, calldata(
        "openTroveInBatch(address,uint256,uint256,uint256,address)", plan.owner,
        plan.owner_index, coll, debt, batch_manager(plan.branch, plan.batch)))


def _victims(first_index: int) -> list[TrovePlan]:
    return [TrovePlan(first_index + n, symbol, account("victim"), first_index + n, None,
                      600, True, VICTIM_USD, VICTIM_RATIO_OVER_MCR_BPS, "victim")
            for n, symbol in enumerate(s for s in LIVE_BRANCHES
                                       for _ in range(VICTIMS_PER_BRANCH))]


def trove_id(opener: str, owner: str, owner_index: int) -> int:
    """BorrowerOperations' id: uint256(keccak256(abi.encode(opener, owner, ownerIndex)))."""
    return int.from_bytes(keccak(encode(["address", "address", "uint256"],
                                        [opener, owner, owner_index])), "big")


def _redistribute(rpc: DevnetRpc, net: Liquity2Deployment, victims: Sequence[TrovePlan]) -> None:
    """Drop each live feed, liquidate its victims (all redistributed), restore the feed."""
    for symbol in LIVE_BRANCHES:
        branch = net.branch(symbol)
        price = read_uint(rpc, branch.price_feed, "lastGoodPrice()")
        ids = [trove_id(net.deployer, v.owner, v.owner_index) for v in victims
               if v.branch == symbol]
        send(rpc, net.deployer, [
            (branch.price_feed, "setPrice(uint256)",
             (price * (10_000 - LIQUIDATION_DROP_BPS) // 10_000,)),
            (branch.trove_manager, "batchLiquidateTroves(uint256[])", (ids,)),
            (branch.price_feed, "setPrice(uint256)", (price,))])


def seed_liquity2(rpc: DevnetRpc, net: Liquity2Deployment, plans: Sequence[TrovePlan]
                  ) -> Liquity2Deployment:
    early = [p for p in plans if p.early or p.branch == SHUT_BRANCH]
    late = [p for p in plans if p not in early]
    victims = _victims(len(plans))
    rpc.send_many([_open_tx(rpc, net, p) for p in (*early, *victims)])
    advance(rpc, 10 * DAY)
    _redistribute(rpc, net, victims)
    send(rpc, net.deployer, [(net.branch(SHUT_BRANCH).price_feed, "failOracle()", ())])
    advance(rpc, DAY)
    rpc.send_many([_open_tx(rpc, net, p) for p in late])
    send(rpc, net.deployer, [(net.branch(symbol).stability_pool, "provideToSP(uint256,bool)",
                              (SP_DEPOSITS_BOLD[symbol] * WAD, False)) for symbol in BRANCHES])
    return Liquity2Deployment(**{**asdict(net), "branches": net.branches,
                                 "borrowers": _borrowers(rpc, net)})


def _borrowers(rpc: DevnetRpc, net: Liquity2Deployment) -> tuple[tuple[str, str], ...]:
    out = []
    for branch in net.branches:
        count = read_uint(rpc, branch.trove_manager, "getTroveIdsCount()")
        out += [(branch.symbol, hex(read_uint(rpc, branch.trove_manager,
                                          "getTroveFromTroveIdsArray(uint256)", i)))
                for i in range(count)]
    return tuple(out)


def deploy_and_seed_liquity2(rpc: DevnetRpc, aave: AaveDeployment,
                             plans: Sequence[TrovePlan]) -> Liquity2Deployment:
    return seed_liquity2(rpc, deploy_liquity2(rpc, aave), plans)


def trove_account(trove_id_hex: str) -> str:
    """The adapter's account for a trove (its id's low 160 bits)."""
    return str(to_checksum_address((int(trove_id_hex, 16) % 2**160).to_bytes(20, "big")))

"""One scan of one market, as a recipe: discover -> read at a pinned block -> liquidation
prices -> histogram -> bands -> store (atomically).

Only this module talks to both the chain and the database; the steps between are pure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from scanner.chain.logs import confirmed_head
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, Config, MarketConfig
from scanner.domain import (
    AaveAccount,
    AaveMarketState,
    Address,
    Axis,
    Band,
    HistogramBin,
    PositionResult,
    PositionStatus,
    ScanRecord,
)
from scanner.errors import ConfigError, MirrorMismatchError, UsageError
from scanner.pipeline.aave_math import account_totals, arithmetic_for_revision
from scanner.pipeline.axes import resolve_axes
from scanner.pipeline.bands import detect_bands
from scanner.pipeline.discovery import plan_discovery
from scanner.pipeline.histogram import build_histogram
from scanner.pipeline.liquidation import liquidation_result
from scanner.pipeline.persist import store_snapshot
from scanner.pipeline.resolve import resolve_market
from scanner.protocols import ADAPTERS
from scanner.store.repository import Repository

log = logging.getLogger(__name__)

# Called with (stage, done, total); total 0 means unknown.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ScanOutcome:
    scan_id: int
    record: ScanRecord
    axes: tuple[Axis, ...]
    results: tuple[PositionResult, ...]
    bins: tuple[HistogramBin, ...]
    bands: tuple[Band, ...]
    accounts_known: int
    accounts_new: int
    accounts_with_debt: int
    mirror_mismatches: tuple[Address, ...] = field(default_factory=tuple)  # stored unverified
    already_stored: bool = False  # the same block was scanned before; the snapshot matched
    discovered_from_block: int | None = None  # first block of this scan's log search (None: none)


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


async def scan_market(
    config: Config,
    market: MarketConfig,
    repo: Repository,
    block: int | None = None,
    progress: Progress = _no_progress,
    store_unverified: bool = False,
) -> ScanOutcome:
    """Scan `market` at `block` and store the snapshot whole, or raise and store nothing.

    An account whose integer mirror does not reproduce the pool's own getUserAccountData
    gets no price: the scan fails (exit 65) unless `store_unverified`, which stores such
    accounts with status `unverified`, outside every bin and band.
    """
    chain = config.chains[market.chain]
    async with RpcClient(chain.require_rpc_url(), max_concurrency=chain.max_concurrency,
                         max_batch_size=chain.max_batch_size) as rpc:
        await rpc.check_chain(chain.chain_id, chain.name)
        block = await _pin_block(rpc, chain, block)
        plan = await plan_discovery(rpc, repo, config, market, block)
        adapter = ADAPTERS[market.protocol](rpc, market, chain)
        progress("resolve", 0, 0)
        addresses = await resolve_market(adapter, config, market, block)

        # 1. every borrower up to `block`: known accounts + new Borrow logs (discovery.py)
        known = {a: b for a, b in repo.known_accounts(market.key).items() if b <= block}
        new: dict[Address, int] = {}
        if plan.from_block is not None:
            new = await adapter.discover_accounts(
                addresses.pool, plan.from_block, block,
                on_progress=lambda done, total: progress("discover", done, total),
            )
        discovered = {a: b for a, b in new.items() if a not in known}
        accounts = sorted(set(known) | set(new))

        # 2. every position at exactly `block`
        progress("read", 0, len(accounts))
        state = await adapter.read_market(addresses, block)
        _require_reviewed_revision(market, state)
        positions = await adapter.read_accounts(addresses, state, accounts, block)
        progress("read", len(accounts), len(accounts))

    # 3-5. pure: liquidation prices -> bins -> bands
    axes = resolve_axes(config.axes, state, market.key)
    mismatches = set(_check_mirror(positions, state))
    if mismatches and not store_unverified:
        raise MirrorMismatchError(_mismatch_message(market, state, mismatches, len(positions)))
    verified = [p for p in positions if p.account not in mismatches]
    results = liquidation_results(verified, state, axes, market.protocol)
    results += unverified_results(
        [p for p in positions if p.account in mismatches], state, axes, market.protocol)
    bins, bands = histogram_and_bands(results, axes, config)
    record = ScanRecord(
        chain=chain.name, chain_id=chain.chain_id, market_key=market.key,
        protocol=market.protocol, block=block, block_timestamp=state.block_timestamp,
        pool_revision=state.pool_revision,
    )
    common = dict(record=record, axes=tuple(axes), results=tuple(results), bins=tuple(bins),
                  bands=tuple(bands), accounts_known=len(accounts), accounts_new=len(discovered),
                  accounts_with_debt=len(positions), mirror_mismatches=tuple(sorted(mismatches)),
                  discovered_from_block=plan.from_block)

    # 6. store: the whole snapshot or nothing (persist.py)
    scan_id, already = store_snapshot(repo, record, results, bins, bands, discovered, plan)
    return ScanOutcome(scan_id=scan_id, already_stored=already, **common)  # type: ignore[arg-type]


async def _pin_block(rpc: RpcClient, chain: ChainConfig, block: int | None) -> int:
    """The block every read of this scan uses: the one asked for, else head - confirmations."""
    head = await rpc.block_number()
    if block is None:
        return confirmed_head(head, chain.confirmations)
    if block < 0 or block > head:
        raise UsageError(f"--block {block} is outside the chain (head is {head})")
    return block


def _require_reviewed_revision(market: MarketConfig, state: AaveMarketState) -> None:
    """Refuse a pool revision newer than any reviewed before reading every account."""
    try:
        arithmetic_for_revision(state.pool_revision, state.allow_unreviewed_revision)
    except ConfigError as exc:
        raise type(exc)(f"market {market.key}: {exc.message}") from None


def _check_mirror(positions: Sequence[AaveAccount], state: AaveMarketState) -> list[Address]:
    """Accounts whose integer mirror disagrees with Pool.getUserAccountData at the block."""
    mismatches = []
    for account in positions:
        totals = account_totals(account, state)
        if (totals.collateral_8dec, totals.debt_8dec, totals.health_factor_wad) != (
            account.reported_collateral_8dec, account.reported_debt_8dec,
            account.reported_health_factor_wad,
        ):
            mismatches.append(account.account)
    if mismatches:
        log.info("%d accounts differ from the pool's own account data (revision %d): %s",
                    len(mismatches), state.pool_revision, ", ".join(mismatches[:5]))
    return mismatches


def _mismatch_message(market: MarketConfig, state: AaveMarketState, mismatches: set[Address],
                      accounts: int) -> str:
    example = min(mismatches)
    return (
        f"market {market.key}: liqscan's health-factor mirror for pool revision "
        f"{state.pool_revision} disagrees with the pool's own getUserAccountData at block "
        f"{state.block} for {len(mismatches)} of {accounts} accounts (e.g. {example}); "
        "nothing was stored. Rerun with --store-unverified to store them flagged "
        "unverified, without prices, outside bins and bands"
    )


def unverified_results(
    positions: Sequence[AaveAccount], state: AaveMarketState, axes: Sequence[Axis],
    protocol: str,
) -> list[PositionResult]:
    """Accounts the mirror cannot reproduce: the pool's own totals, no price, no direction."""
    return [
        PositionResult(
            market_key=state.market_key, protocol=protocol, account=account.account,
            axis=axis.name, status=PositionStatus.UNVERIFIED, direction=None,
            liquidation_price_8dec=None, axis_price_now_8dec=axis.reference_price_8dec,
            health_factor_wad=account.reported_health_factor_wad,
            collateral_usd_8dec=account.reported_collateral_8dec,
            debt_usd_8dec=account.reported_debt_8dec, axis_collateral_usd_8dec=0,
            seizable_usd_8dec=0, emode_category=account.emode_category,
        )
        for axis in axes for account in positions
    ]


def liquidation_results(
    positions: Sequence[AaveAccount], state: AaveMarketState, axes: Sequence[Axis],
    protocol: str,
) -> list[PositionResult]:
    results = []
    for axis in axes:
        for account in positions:
            result = liquidation_result(account, state, axis, protocol)
            if result is not None:
                results.append(result)
    return results


def histogram_and_bands(
    results: Sequence[PositionResult], axes: Sequence[Axis], config: Config
) -> tuple[list[HistogramBin], list[Band]]:
    bins: list[HistogramBin] = []
    bands: list[Band] = []
    hist = config.histogram
    for axis in axes:
        on_axis = [r for r in results if r.axis == axis.name]
        bins += build_histogram(
            on_axis, axis.name, axis.reference_price_8dec,
            mode=_histogram_mode(hist.mode), bin_bps=hist.bin_bps,
            bin_width_8dec=round(hist.bin_width_usd * 10**8), range_bps=hist.range_bps,
        )
        bands += detect_bands(on_axis, axis.name, axis.reference_price_8dec,
                              max_bands=config.bands.max_bands, params=config.bands.params)
    return bins, bands


def _histogram_mode(mode: str) -> Literal["log", "linear"]:
    return "linear" if mode == "linear" else "log"  # config.py accepts only these two

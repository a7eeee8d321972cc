"""Reading every borrower's Pool.getUserAccountData at one pinned block, four ways.

    .venv/bin/python bench/bench_reads.py [--positions 2000] [--seed 7] [--repeat 3]

Baseline: one `eth_call` per account, sequentially (RpcClient.eth_call in a loop). Compared
in the same process, on the same accounts and block: a JSON-RPC batch of eth_calls
(aggregate3 with use_multicall=False), Multicall3 aggregate3 batches (use_multicall=True),
and the adapter's full read (AaveV3Adapter.read_accounts: account data, user configuration,
eMode and every a/debt-token balance). Prints the median of `--repeat` runs, HTTP posts per
run (RpcClient.stats) and the speed-up over the baseline. Asserts nothing about time; every way
must return the same bytes, or the bench raises.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner import aio
from scanner.chain import Call, RpcClient, aggregate3, encode_call, require_data
from scanner.config import load_config
from scanner.devnet.network import Devnet, seeded_devnet, write_config
from scanner.domain import Address
from scanner.errors import InconsistentDataError
from scanner.protocols.aave_v3.read import POOL, AaveAddresses, AaveV3Adapter

ACCOUNT_DATA_GAS = 380_000  # the adapter's per-call estimate for getUserAccountData


@dataclass(frozen=True)
class Measured:
    way: str
    seconds: float  # median over the repeats
    http_posts: int  # per run
    rows: int  # accounts (or, for the adapter, positions with debt) returned


async def _timed(
    rpc: RpcClient, repeat: int, run: Callable[[], Awaitable[list[bytes]]]
) -> tuple[float, int, list[bytes]]:
    """Median seconds, HTTP posts of the last run, and the last run's output."""
    times: list[float] = []
    out: list[bytes] = []
    posts = 0
    for _ in range(repeat):
        before = rpc.stats.http_posts
        start = time.perf_counter()
        out = await run()
        times.append(time.perf_counter() - start)
        posts = rpc.stats.http_posts - before
    return statistics.median(times), posts, out


async def _one_by_one(rpc: RpcClient, pool: Address, calls: Sequence[Call], block: int
                      ) -> list[bytes]:
    return [await rpc.eth_call(pool, call.data, block) for call in calls]


async def _aggregated(rpc: RpcClient, calls: Sequence[Call], block: int, multicall: bool
                      ) -> list[bytes]:
    results = await aggregate3(rpc, calls, block, use_multicall=multicall)
    return [require_data(r, "getUserAccountData") for r in results]


async def measure(devnet: Devnet, repeat: int) -> tuple[int, int, list[Measured]]:
    """(block, accounts, rows) for every way, against the running devnet."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        write_config(devnet, path)
        config = load_config(path)
    market = config.markets[0]
    chain = config.chains[market.chain]
    async with RpcClient(devnet.rpc_url, max_concurrency=chain.max_concurrency,
                         max_batch_size=chain.max_batch_size) as rpc:
        block = await rpc.block_number()  # pinned: every read below names this block
        adapter = AaveV3Adapter(rpc, market, chain)
        addresses: AaveAddresses = await adapter.resolve(block)
        found = await adapter.discover_accounts(addresses, market.start_block, block)
        accounts = sorted(found)
        calls = [Call(addresses.pool, encode_call(POOL, "getUserAccountData", [a]), False,
                      ACCOUNT_DATA_GAS) for a in accounts]
        # Warm-up: the multicall code check is cached per client; do not bill it to one way.
        await aggregate3(rpc, calls[:1], block)

        rows: list[Measured] = []
        reference: list[bytes] | None = None
        ways: list[tuple[str, Callable[[], Awaitable[list[bytes]]]]] = [
            ("eth_call one by one (baseline)", lambda: _one_by_one(rpc, addresses.pool, calls,
                                                                    block)),
            ("JSON-RPC batch of eth_calls", lambda: _aggregated(rpc, calls, block, False)),
            ("Multicall3 aggregate3", lambda: _aggregated(rpc, calls, block, True)),
        ]
        for way, run in ways:
            seconds, posts, out = await _timed(rpc, repeat, run)
            if reference is not None and out != reference:
                raise InconsistentDataError(f"{way} returned other data than the baseline")
            reference = reference or out
            rows.append(Measured(way, seconds, posts, len(out)))

        state = await adapter.read_market(addresses, block)

        async def full_read() -> list[bytes]:
            positions = await adapter.read_accounts(addresses, state, accounts, block)
            return [p.account.encode() for p in positions]

        seconds, posts, out = await _timed(rpc, repeat, full_read)
        rows.append(Measured("AaveV3Adapter.read_accounts (full)", seconds, posts, len(out)))
    return block, len(accounts), rows


def print_table(rows: Sequence[Measured]) -> None:
    baseline = rows[0].seconds
    print(f"{'way':<38} {'seconds':>8} {'posts':>6} {'rows':>6} {'speed-up':>9}")
    for row in rows:
        ratio = baseline / row.seconds if row.seconds else float("inf")
        print(f"{row.way:<38} {row.seconds:>8.3f} {row.http_posts:>6} {row.rows:>6} "
              f"{ratio:>8.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--positions", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    with seeded_devnet(seed=args.seed, aave_positions=args.positions) as devnet:
        ready = time.perf_counter() - start
        how = "loaded from the cache" if devnet.from_cache else "built"
        print(f"bench_reads: devnet of {args.positions} Aave positions (seed {args.seed}) "
              f"{how} in {ready:.1f} s")
        block, n_accounts, rows = aio.run(measure(devnet, args.repeat))
    print(f"getUserAccountData of {n_accounts} borrowers at block {block}, "
          f"median of {args.repeat} runs (speed-up = baseline seconds / seconds):")
    print_table(rows)
    print("(the full read also fetches user configuration, eMode and every token balance: "
          "rows = accounts with debt)")


if __name__ == "__main__":
    main()

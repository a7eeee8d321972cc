"""The naive baseline: what most bots do, with plain web3.py contract calls.

Per Aave borrower: `Pool.getUserAccountData(user)`, then per (user, reserve)
`AaveProtocolDataProvider.getUserReserveData(asset, user)` and the reserve's oracle price,
one HTTP request each, in sequence. It runs on a sample of borrowers; the time per borrower
is extrapolated to the snapshot's position count and labelled so.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from scanner.chain.abi import load_abi


@dataclass(frozen=True)
class Naive:
    sample: int
    seconds: float
    calls: int

    @property
    def seconds_per_position(self) -> float:
        return self.seconds / self.sample


def naive_read(rpc_url: str, pool: str, data_provider: str, oracle: str,
               users: Sequence[str], block: int) -> Naive:
    from web3 import Web3  # only the baseline uses web3.py

    w3 = Web3(Web3.HTTPProvider(rpc_url))
    pool_c = w3.eth.contract(address=Web3.to_checksum_address(pool),
                             abi=list(load_abi("aave-v3", "Pool")))
    data_c = w3.eth.contract(address=Web3.to_checksum_address(data_provider),
                             abi=list(load_abi("aave-v3", "AaveProtocolDataProvider")))
    oracle_c = w3.eth.contract(address=Web3.to_checksum_address(oracle),
                               abi=list(load_abi("aave-v3", "AaveOracle")))
    reserves = pool_c.functions.getReservesList().call(block_identifier=block)
    calls = 0
    start = time.perf_counter()
    for user in users:
        account = Web3.to_checksum_address(user)
        pool_c.functions.getUserAccountData(account).call(block_identifier=block)
        calls += 1
        for asset in reserves:
            data_c.functions.getUserReserveData(asset, account).call(block_identifier=block)
            oracle_c.functions.getAssetPrice(asset).call(block_identifier=block)
            calls += 2
    return Naive(len(users), time.perf_counter() - start, calls)

"""The async chain layer against a real anvil: chain checks, eth_getLogs windows, aggregate3."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address

from scanner.chain.abi import decode_event, decode_output, encode_call, event_topic, load_abi
from scanner.chain.logs import fetch_logs
from scanner.chain.multicall import Call, aggregate3, require_data
from scanner.chain.rpc import RpcClient
from scanner.devnet.anvil import CHAIN_ID, Anvil
from scanner.devnet.multicall import install_multicall
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.toolchain import load_artifact
from scanner.errors import ConfigError, InconsistentDataError

pytestmark = pytest.mark.integration

DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil account 0
NO_CODE = "0x000000000000000000000000000000000000dEaD"
HOLDERS = [f"0x{i:040x}" for i in range(0x1000, 0x1000 + 60)]
ERC20 = load_abi("erc20", "ERC20")
TRANSFER = event_topic(ERC20, "Transfer")


@dataclass(frozen=True)
class Devnet:
    url: str
    token_a: str
    token_b: str
    first_block: int  # block of the first mint
    mid_block: int  # last block of the first half of the mints
    last_block: int


def send_all(rpc: DevnetRpc, txs: list[Tx], per_block: int) -> list[dict[str, Any]]:
    """Mine `txs` in order, `per_block` per block; raise if any reverts.

    gasPrice 0 is explicit: anvil 1.7.1 with a zero base fee otherwise rejects the tx
    ("max priority fee per gas higher than max fee per gas")."""
    receipts: list[dict[str, Any]] = []
    rpc.set_automine(False)
    try:
        for start in range(0, len(txs), per_block):
            chunk = txs[start : start + per_block]
            hashes = rpc.batch(
                [
                    (
                        "eth_sendTransaction",
                        [
                            {
                                "from": tx.sender,
                                "to": tx.to,
                                "data": tx.data,
                                "gas": hex(tx.gas),
                                "gasPrice": "0x0",
                            }
                        ],
                    )
                    for tx in chunk
                ]
            )
            rpc.mine()
            receipts += rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
    finally:
        rpc.set_automine(True)
    assert all(int(r["status"], 16) == 1 for r in receipts)
    return receipts


@pytest.fixture(scope="module")
def devnet() -> Iterator[Devnet]:
    with Anvil.start() as node:
        rpc = DevnetRpc(node.url)
        install_multicall(rpc)
        artifact = load_artifact("@aave/core-v3", "MintableERC20")
        deploys = [
            Tx(
                DEPLOYER,
                None,
                artifact.bytecode + encode(["string", "string", "uint8"], [name, name, 18]).hex(),
            )
            for name in ("AAA", "BBB")
        ]
        tokens = [to_checksum_address(r["contractAddress"]) for r in send_all(rpc, deploys, 1)]
        first_block = rpc.block_number() + 1
        mints = [
            Tx(DEPLOYER, token, calldata("mint(address,uint256)", holder, 10**18 + i))
            for i, holder in enumerate(HOLDERS)
            for token in tokens
        ]
        # 7 txs per block spreads 120 mints over ~18 blocks: many windows, some with many logs.
        send_all(rpc, mints[:60], per_block=7)
        mid_block = rpc.block_number()
        send_all(rpc, mints[60:], per_block=7)
        yield Devnet(node.url, tokens[0], tokens[1], first_block, mid_block, rpc.block_number())


async def test_chain_id_check_and_require_code(devnet: Devnet) -> None:
    async with RpcClient(devnet.url) as rpc:
        await rpc.check_chain(CHAIN_ID, "devnet")
        with pytest.raises(ConfigError, match=r"chains\.ethereum\.chain_id is 1 .* chain 31337"):
            await rpc.check_chain(1, "ethereum")
        await rpc.require_code({"AAA": devnet.token_a, "BBB": devnet.token_b}, devnet.last_block)
        with pytest.raises(ConfigError) as info:
            await rpc.require_code({"AAA": devnet.token_a, "Pool": NO_CODE}, devnet.last_block)
        # Before the token was deployed there is no code either: reads are pinned.
        with pytest.raises(ConfigError, match="AAA"):
            await rpc.require_code({"AAA": devnet.token_a}, devnet.first_block - 3)
    assert str(info.value) == (
        f"Pool {NO_CODE} has no code on chain {CHAIN_ID} at block {devnet.last_block}: "
        "check the address"
    )


@pytest.mark.parametrize(("initial_window", "concurrency"), [(1, 1), (2, 3), (10_000, 2)])
async def test_fetch_logs_matches_one_plain_query(
    devnet: Devnet, initial_window: int, concurrency: int
) -> None:
    async with RpcClient(devnet.url) as rpc:
        found = await fetch_logs(
            rpc,
            [devnet.token_a, devnet.token_b],
            [TRANSFER],
            0,
            devnet.last_block,
            initial_window=initial_window,
            max_window=4,
            concurrency=concurrency,
        )
        plain = await rpc.get_logs(
            {
                "address": [devnet.token_a, devnet.token_b],
                "topics": [TRANSFER],
                "fromBlock": "0x0",
                "toBlock": hex(devnet.last_block),
            }
        )
        only_a = await fetch_logs(rpc, [devnet.token_a], [[TRANSFER]], 0, devnet.last_block)
    assert found == plain  # same logs, same (block, logIndex) order
    assert len(found) == 2 * len(HOLDERS)
    assert len(only_a) == len(HOLDERS)
    minted = [decode_event(ERC20, "Transfer", log) for log in only_a]
    assert [m["to"] for m in minted] == HOLDERS
    assert [m["value"] for m in minted] == [10**18 + i for i in range(len(HOLDERS))]
    assert {m["from"] for m in minted} == {"0x" + "0" * 40}


def balance_calls(devnet: Devnet) -> list[Call]:
    calls = [
        Call(token, encode_call(ERC20, "balanceOf", [holder]), gas_estimate=30_000)
        for holder in HOLDERS
        for token in (devnet.token_a, devnet.token_b)
    ]
    calls.append(Call(devnet.token_a, encode_call(ERC20, "totalSupply", [])))
    return calls


async def test_aggregate3_equals_individual_calls_at_a_pinned_block(devnet: Devnet) -> None:
    calls = balance_calls(devnet)
    async with RpcClient(devnet.url) as rpc:
        # A small gas cap forces several aggregate3 batches (~27 calls each), yet one HTTP post
        # after the one-off eth_getCode that checks the multicall exists at this block.
        batched = await aggregate3(rpc, calls, devnet.last_block, gas_limit_per_batch=1_000_000)
        assert (rpc.stats.http_posts, rpc.stats.requests) == (2, 1 + 5)
        plain = await aggregate3(rpc, calls, devnet.last_block, use_multicall=False)
        assert rpc.stats.http_posts == 2 + 2  # 121 eth_calls in batches of 100
        singles = [await rpc.eth_call(c.target, c.data, devnet.last_block) for c in calls[:6]]
        earlier = await aggregate3(rpc, calls, devnet.mid_block)
    assert batched == plain
    assert [r.data for r in batched[:6]] == singles
    balances = [
        decode_output(ERC20, "balanceOf", require_data(r, "balanceOf"))[0] for r in batched[:-1]
    ]
    assert balances == [10**18 + i for i in range(len(HOLDERS)) for _token in range(2)]
    assert decode_output(ERC20, "totalSupply", batched[-1].data)[0] == sum(balances[::2])
    # At the middle block only the first 30 holders had been minted to.
    assert [r.data for r in earlier[60:120]] == [encode(["uint256"], [0])] * 60


async def test_failures_no_code_and_fallback(devnet: Devnet) -> None:
    transfer_too_much = encode_call(ERC20, "transfer", [HOLDERS[0], 10**30])
    async with RpcClient(devnet.url) as rpc:
        allowed = [
            Call(devnet.token_a, transfer_too_much, allow_failure=True),
            Call(NO_CODE, encode_call(ERC20, "balanceOf", [HOLDERS[0]])),
        ]
        for use_multicall in (True, False):
            failed, empty = await aggregate3(
                rpc, allowed, devnet.last_block, use_multicall=use_multicall
            )
            assert not failed.success and failed.data[:4] == bytes.fromhex("08c379a0")
            assert empty.success and empty.data == b""  # the no-code pitfall
            with pytest.raises(InconsistentDataError, match="returned no data"):
                require_data(empty, "balanceOf at 0xdEaD")
        strict = [
            Call(devnet.token_a, encode_call(ERC20, "decimals", [])),
            Call(devnet.token_b, transfer_too_much),
        ]
        with pytest.raises(InconsistentDataError, match=f"0xa9059cbb to {devnet.token_b}"):
            await aggregate3(rpc, strict, devnet.last_block)
        with pytest.raises(InconsistentDataError, match=f"0xa9059cbb to {devnet.token_b}"):
            await aggregate3(rpc, strict, devnet.last_block, use_multicall=False)
        # No multicall code at the address given: the same answers from a plain batch.
        calls = balance_calls(devnet)[:10]
        fallback = await aggregate3(rpc, calls, devnet.last_block, multicall_address=NO_CODE)
        assert fallback == await aggregate3(rpc, calls, devnet.last_block)
    assert decode(["string"], failed.data[4:])[0].startswith("ERC20: transfer")

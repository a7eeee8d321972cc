"""Synchronous JSON-RPC for building the devnet: calls, batches, bulk transactions.

Seeding sends tens of thousands of transactions, so it bypasses web3's per-call overhead:
automine off, `eth_sendTransaction` in JSON-RPC batches from impersonated accounts, one
`evm_mine` per ~100 transactions, then receipts fetched in one batch and checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from eth_abi.abi import encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

from scanner.errors import InconsistentDataError, RpcUnavailableError

TXS_PER_BLOCK = 100


class RpcCallError(InconsistentDataError):
    """A JSON-RPC request came back with an error object."""


def calldata(signature: str, *args: Any) -> str:
    """ABI-encode a call: `calldata("transfer(address,uint256)", to, amount)`."""
    selector = function_signature_to_4byte_selector(signature)
    arg_types = signature[signature.index("(") + 1 : -1]
    types = _split_types(arg_types)
    return "0x" + (selector + encode(types, list(args))).hex()


def _split_types(arg_types: str) -> list[str]:
    """Split a top-level comma list, keeping tuple types `(a,b)[]` whole."""
    types: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(arg_types):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            types.append(arg_types[start:i])
            start = i + 1
    if arg_types[start:]:
        types.append(arg_types[start:])
    return types


@dataclass(frozen=True)
class Tx:
    sender: str
    to: str | None
    data: str
    value: int = 0
    gas: int = 15_000_000


class DevnetRpc:
    def __init__(self, url: str, timeout_seconds: float = 120.0) -> None:
        self.url = url
        self._session = requests.Session()
        self._timeout = timeout_seconds
        self._next_id = 0

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        return self.batch([(method, list(params))])[0]

    def batch(self, requests_: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Send a JSON-RPC batch; return results in order; raise on any error object."""
        if not requests_:
            return []
        body: list[Any] = []
        for method, params in requests_:
            self._next_id += 1
            body.append({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        try:
            response = self._session.post(self.url, json=body, timeout=self._timeout)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise RpcUnavailableError(f"devnet RPC {self.url} failed: {exc}") from exc
        by_id = {item["id"]: item for item in response.json()}
        results = []
        for request in body:
            item = by_id[request["id"]]
            if "error" in item:
                raise RpcCallError(f"{request['method']} failed: {item['error']}")
            results.append(item.get("result"))
        return results

    # --- reads ---------------------------------------------------------------------------

    def eth_call(self, to: str, data: str, block: int | str = "latest") -> bytes:
        tag = hex(block) if isinstance(block, int) else block
        result = self.call("eth_call", [{"to": to, "data": data}, tag])
        return bytes.fromhex(str(result).removeprefix("0x"))

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    # --- writes --------------------------------------------------------------------------

    def set_automine(self, enabled: bool) -> None:
        self.call("evm_setAutomine", [enabled])

    def mine(self, blocks: int = 1) -> None:
        self.call("evm_mine", [])
        for _ in range(blocks - 1):
            self.call("evm_mine", [])

    def send(self, tx: Tx) -> dict[str, Any]:
        """Send one transaction, mine it, return its receipt (raises on revert)."""
        return self.send_many([tx])[0]

    def send_many(self, txs: Sequence[Tx], per_block: int = TXS_PER_BLOCK) -> list[dict[str, Any]]:
        """Send transactions in order, ~`per_block` per mined block; raise if any reverts."""
        receipts: list[dict[str, Any]] = []
        self.set_automine(False)
        try:
            for start in range(0, len(txs), per_block):
                chunk = txs[start : start + per_block]
                hashes = self.batch([("eth_sendTransaction", [_tx_json(tx)]) for tx in chunk])
                self.mine()
                chunk_receipts = self.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
                for tx, receipt in zip(chunk, chunk_receipts, strict=True):
                    _check_receipt(tx, receipt)
                receipts.extend(chunk_receipts)
        finally:
            self.set_automine(True)
        return receipts

    def deploy(self, sender: str, creation_code: str, constructor_args: bytes = b"") -> str:
        """Deploy a contract; return its checksummed address."""
        data = creation_code + constructor_args.hex()
        receipt = self.send(Tx(sender=sender, to=None, data=data, gas=60_000_000))
        return str(to_checksum_address(receipt["contractAddress"]))


def _tx_json(tx: Tx) -> dict[str, Any]:
    # Base fee is 0 on the devnet; a legacy zero gas price keeps anvil from defaulting the
    # priority fee (1 gwei) above the max fee.
    payload: dict[str, Any] = {
        "from": tx.sender, "data": tx.data, "gas": hex(tx.gas), "gasPrice": "0x0",
    }
    if tx.to is not None:
        payload["to"] = tx.to
    if tx.value:
        payload["value"] = hex(tx.value)
    return payload


def _check_receipt(tx: Tx, receipt: dict[str, Any] | None) -> None:
    if receipt is None:
        raise InconsistentDataError(f"transaction to {tx.to} was not mined")
    if int(receipt["status"], 16) != 1:
        raise RpcCallError(f"transaction from {tx.sender} to {tx.to} reverted: {tx.data[:10]}")

"""Protocol adapters: one module per protocol, each discovering accounts and reading positions
at a pinned block. No math, no SQL.

Adding a protocol: `protocols/<key>.py`, its ABIs under contracts/abi/, one line in
`ADAPTERS`, a config.toml section, and `tests/integration/test_<key>.py` subclassing
`tests/integration/adapter_contract.AdapterContract`.
"""

from __future__ import annotations

from scanner.protocols.aave_v3 import AaveV3Adapter

# config `protocol` value -> adapter class (Spark is an Aave v3 fork with the same ABI)
ADAPTERS: dict[str, type[AaveV3Adapter]] = {
    "aave-v3": AaveV3Adapter,
    "spark": AaveV3Adapter,
}

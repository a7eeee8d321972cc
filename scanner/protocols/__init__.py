"""Protocol packages: one per protocol, the only code that knows it (see docs/adding_a_protocol.md).

`PROTOCOLS` maps a config `protocol` value to its package; the package's `SPEC` (a
`base.ProtocolSpec`) names its adapter and its [[markets]] keys. Packages are imported on
first use, so reading the config does not load every protocol's ABIs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanner.protocols.base import ProtocolSpec

# config `protocol` value -> package (Spark is an Aave v3 fork with the same ABI)
PROTOCOLS: dict[str, str] = {
    "aave-v2": "scanner.protocols.aave_v2",
    "aave-v3": "scanner.protocols.aave_v3",
    "spark": "scanner.protocols.aave_v3",
    "compound-v3": "scanner.protocols.compound_v3",
    "morpho-blue": "scanner.protocols.morpho_blue",
    "maker": "scanner.protocols.maker",
    "liquity-v1": "scanner.protocols.liquity_v1",
    "liquity-v2": "scanner.protocols.liquity_v2",
}


def protocol_spec(key: str) -> ProtocolSpec:
    """The registry entry of protocol `key` (a key of PROTOCOLS; config.py checks that)."""
    spec: ProtocolSpec = importlib.import_module(PROTOCOLS[key]).SPEC
    return spec

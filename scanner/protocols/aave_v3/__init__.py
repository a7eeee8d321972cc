"""Aave v3 family (Aave v3, Spark, forks).

    discover.py       borrowers from the Pool's Borrow events
    read.py           the adapter: addresses from the PoolAddressesProvider, pinned reads
    state.py          what is read (reserves, eMode categories, accounts)
    generic_logic.py  integer mirror of GenericLogic.calculateUserAccountData
    rule.py           the health rule on a price axis, seizable collateral (pure)

[[markets]] keys: `pool_addresses_provider` (the pool and oracle are resolved from it at the
scan block), `start_block`, optional `allow_unreviewed_revision` (scan a POOL_REVISION newer
than any reviewed, with the newest rule).
"""

from scanner.protocols.spec import ProtocolSpec

SPEC = ProtocolSpec(adapter_path="scanner.protocols.aave_v3.read:AaveV3Adapter",
                    address_keys=("pool_addresses_provider",),
                    flag_keys=("allow_unreviewed_revision",))

__all__ = ["SPEC"]

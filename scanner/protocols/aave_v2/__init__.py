"""Aave v2 (the LendingPool of npm @aave/protocol-v2 and its mainnet deployments).

    discover.py       borrowers from the LendingPool's Borrow events
    read.py           the adapter: addresses from the LendingPoolAddressesProvider, pinned reads
    state.py          what is read (reserves, stored indices, user balances)
    interest.py       indices and balances accrued to the block (MathUtils, ReserveLogic)
    generic_logic.py  integer mirror of GenericLogic.calculateUserAccountData (ETH, wei)
    liquidation.py    one liquidationCall (LendingPoolCollateralManager)
    rule.py           the health rule on a USD price axis, seizable collateral (pure)

[[markets]] keys: `lending_pool_addresses_provider` (the pool and the AaveOracle are resolved
from it at the scan block), `eth_usd_feed` (a Chainlink-style ETH/USD aggregator, 8 decimals,
read with `latestAnswer()` at the scan block: v2 prices in ETH, the axes are in USD), and
`start_block`.
"""

from scanner.protocols.spec import ProtocolSpec

SPEC = ProtocolSpec(adapter_path="scanner.protocols.aave_v2.read:AaveV2Adapter",
                    address_keys=("lending_pool_addresses_provider", "eth_usd_feed"))

__all__ = ["SPEC"]

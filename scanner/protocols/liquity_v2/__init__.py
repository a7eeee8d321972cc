"""Liquity v2 (BOLD): one [[markets]] entry per deployment, every collateral branch its
CollateralRegistry lists.

    read.py   the adapter: CollateralRegistry -> per branch TroveManager, BorrowerOperations
              (MCR/SCR), PriceFeed (fetchPrice, lastGoodPrice), TroveNFT, StabilityPool
              (getTotalBoldDeposits); troves from TroveIds
    offset.py the liquidation's split between the Stability Pool and redistribution
    liquidation_sale.py  the cascade's sale and per-branch ledger (pool and stakes)
    state.py  what is read (per branch, batch, trove)
    rule.py   TroveManager's integer rules (interest to the block, batch shares, ICR < MCR)
    curve.py  the rule on a price axis

[[markets]] keys: `collateral_registry`, optional `start_block`.
"""

from scanner.protocols.spec import ProtocolSpec

SPEC = ProtocolSpec(adapter_path="scanner.protocols.liquity_v2.read:Liquity2Adapter",
                    address_keys=("collateral_registry",))

__all__ = ["SPEC"]

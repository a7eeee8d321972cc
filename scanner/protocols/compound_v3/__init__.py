"""Compound III (Comet): one [[markets]] entry per Comet.

    discover.py  accounts from SupplyCollateral / TransferCollateral receivers and Withdraw
    read.py      the adapter: every Comet getter and view through aggregate3 at one block
    state.py     what is read (the market, each account)
    rule.py      Comet.sol's integer rules (accrual, present value, liquidity, absorb)
    curve.py     the rule on a price axis (debt accrued to the block, as absorb sees it)

[[markets]] keys: `comet` (the Comet proxy), `start_block`, optional `quote_usd_feed` (a
Chainlink-style feed of the base token's USD price, for Comets that price in their base token,
e.g. cWETHv3 in ETH: the Comet's prices are mapped to USD through it).
"""

from scanner.protocols.spec import ProtocolSpec

SPEC = ProtocolSpec(adapter_path="scanner.protocols.compound_v3.read:CompoundV3Adapter",
                    address_keys=("comet",),
                    optional_address_keys=("quote_usd_feed",))

__all__ = ["SPEC"]

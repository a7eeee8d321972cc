"""Liquity v1 (LUSD): one [[markets]] entry per TroveManager.

    read.py   the adapter: troves from the TroveManager's owners array, the system at one block
    state.py  what is read (the system, each trove)
    rule.py   the contracts' integer rules (pending rewards, ICR/TCR, liquidate in normal and
              recovery mode)
    curve.py  the rule on the ETH price axis

[[markets]] keys: `trove_manager` (the PriceFeed, ActivePool, DefaultPool and StabilityPool are
read from it), `start_block`. The collateral is native ether, listed as the asset "ETH".
"""

from scanner.protocols.spec import ProtocolSpec

SPEC = ProtocolSpec(adapter_path="scanner.protocols.liquity_v1.read:LiquityV1Adapter",
                    address_keys=("trove_manager",))

__all__ = ["SPEC"]

"""Morpho Blue: isolated markets (one collateral, one loan token, an oracle, an LLTV).

    read.py      discovery (CreateMarket; Borrow / SupplyCollateral onBehalf), pinned reads
    rule.py      integer mirror of Morpho's accrual, shares, health and liquidation (pure)
    curve.py     the health rule on a price axis (pure)
    adapter.py   the adapter and the position state

[[markets]] keys: `morpho`, `usd_price_oracle`, `start_block`, optional `market_ids`.
"""

from scanner.protocols.spec import ProtocolSpec

SPEC = ProtocolSpec(adapter_path="scanner.protocols.morpho_blue.adapter:MorphoBlueAdapter",
                    address_keys=("morpho", "usd_price_oracle"),
                    list_keys=("market_ids",), per_submarket_discovery=True)

__all__ = ["SPEC"]

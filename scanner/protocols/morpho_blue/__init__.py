"""Morpho Blue: isolated markets (one collateral, one loan token, an oracle, an LLTV)."""

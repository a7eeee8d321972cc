"""Local devnet: anvil running the real Aave V3 and Morpho Blue contracts, seeded with borrowers."""

"""liqscan: exact liquidation prices and bands of DeFi lending positions."""

from scanner import native as _native

# The compiled math (scanner/native.py) is chosen at its first import, never before.
_native.install()

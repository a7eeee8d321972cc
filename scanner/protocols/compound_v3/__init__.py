"""Compound III (Comet). For now only the pure rule (`rule.py`); discovery, pinned reads and
the registry entry plug into the protocol-neutral core once it lands."""

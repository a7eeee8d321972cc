"""Packaged mainnet presets, used when there is no config.toml (see scanner.config)."""

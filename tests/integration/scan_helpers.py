"""Shared pieces of the scanner's integration tests: a devnet, its config, a scan."""

from __future__ import annotations

import asyncio
from pathlib import Path

from scanner.config import Config, load_config
from scanner.devnet.network import Devnet, write_config
from scanner.pipeline.scan import SnapshotOutcome, scan_chain
from scanner.store import db
from scanner.store.repository import Repository


def devnet_config(devnet: Devnet, folder: Path, database_url: str) -> Config:
    path = folder / "config.toml"
    write_config(devnet, path, database_url=database_url)
    return load_config(path)


def fresh_repo(config: Config) -> Repository:
    db.upgrade(config.database_url)
    return Repository(db.make_engine(config.database_url))


def scan(config: Config, repo: Repository, block: int | None = None) -> SnapshotOutcome:
    """One snapshot of every market of the config (all of one chain)."""
    return asyncio.run(scan_chain(config, list(config.markets), repo, block))

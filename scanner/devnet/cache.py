"""Seeded devnets saved to disk (anvil_dumpState) and reloaded instead of rebuilt.

Layout under the cache directory (`.cache/devnet/` in the project root, or LIQSCAN_CACHE_DIR):

    <key>/state.json   anvil's state (anvil_dumpState, un-gzipped, call traces dropped), which
                       `anvil --load-state` reads
    <key>/devnet.json  deployments, the seed/sizes and a summary of the plans

The key hashes everything that decides the chain's content: the npm toolchain versions, the
seed and sizes (v3.0, v3.6 and Morpho positions), the clusters, the market specs and the
devnet's own sources (the generator and seeder code, the Solidity contracts). Each file is
written to a temporary name and renamed, and devnet.json is written last, so a half-written
entry is never taken for a complete one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.devnet.toolchain import npm_package_version, project_root
from scanner.errors import ConfigError, ToolchainError

CACHE_ENV = "LIQSCAN_CACHE_DIR"
CACHE_FORMAT = 1
# anvil stores a full call trace with every transaction (~75% of a dump). Nothing we serve
# needs them (receipts and logs stay), so they are emptied before the state is written.
# In a transaction's `info` the `traces` array is directly followed by the `exit` key.
_TRACES_RE = re.compile(rb'"traces":\[.*?\],"exit":', re.DOTALL)
NPM_PACKAGES = (
    "@aave/core-v3", "@aave/periphery-v3", "@foundry-rs/anvil-linux-amd64",
    "@morpho-org/morpho-blue", "solc", "@aave-dao/aave-v3-origin", "@bgd-labs/solidity-utils",
    "@openzeppelin/contracts", "@openzeppelin/contracts-upgradeable", "solc-0827",
    "@aave/protocol-v2",
)


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else project_root() / ".cache" / "devnet"


def _npm_versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for package in NPM_PACKAGES:
        try:
            versions[package] = npm_package_version(package)
        except ToolchainError:
            versions[package] = "absent"  # Morpho/solc are optional for an Aave-only devnet
    return versions


def _npm_version_or_absent(package: str) -> str:
    try:
        return npm_package_version(package)
    except ToolchainError:
        return "absent"


def _sources_digest() -> str:
    """Hash of the files whose change alters what a seeded devnet contains."""
    devnet = Path(__file__).parent
    files = sorted([*devnet.glob("*.py"), *devnet.glob("*.toml")])
    files += sorted((project_root() / "contracts" / "src").glob("*.sol"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_key(seed: int, n_aave: int, n_morpho: int, clusters: Sequence[str],
              n_aave36: int = 0, n_compound_per_comet: int = 0, n_aave2: int = 0,
              n_maker_per_ilk: int = 0, uniswap: bool = False, n_liquity1: int = 0,
              n_liquity2_per_branch: int = 0) -> str:
    material: dict[str, object] = {
        "format": CACHE_FORMAT,
        "npm": _npm_versions(),
        "seed": seed,
        "n_aave": n_aave,
        "n_morpho": n_morpho,
        "clusters": list(clusters),
        "sources": _sources_digest(),
    }
    if n_aave36:  # absent when 0, so devnets without the v3.6 market keep their keys
        material["n_aave36"] = n_aave36
    if n_compound_per_comet:  # likewise for devnets without Comets
        material["n_compound_per_comet"] = n_compound_per_comet
    if n_aave2:  # likewise for devnets without the Aave v2 market
        material["n_aave2"] = n_aave2
    if n_maker_per_ilk:  # likewise for devnets without Maker
        material["n_maker_per_ilk"] = n_maker_per_ilk
    if uniswap:  # likewise for devnets without the Uniswap v3 pools
        material["uniswap"] = {p: _npm_version_or_absent(p)
                               for p in ("@uniswap/v3-core", "@uniswap/v3-periphery")}
    if n_liquity1:  # likewise for devnets without Liquity v1
        material["n_liquity1"] = n_liquity1
    if n_liquity2_per_branch:  # likewise for devnets without Liquity v2
        material["n_liquity2_per_branch"] = n_liquity2_per_branch
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class CacheEntry:
    directory: Path

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    @property
    def meta_file(self) -> Path:
        return self.directory / "devnet.json"

    def exists(self) -> bool:
        return self.meta_file.is_file() and self.state_file.is_file()

    def read_meta(self) -> dict[str, Any]:
        try:
            meta: dict[str, Any] = json.loads(self.meta_file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"devnet cache {self.meta_file} is unreadable: delete it") from exc
        return meta

    def write(self, dumped_state_hex: str, meta: dict[str, Any]) -> None:
        """Store anvil_dumpState's answer (hex of gzipped JSON) and the metadata, atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        state_json = gzip.decompress(bytes.fromhex(dumped_state_hex.removeprefix("0x")))
        state_json = _TRACES_RE.sub(b'"traces":[],"exit":', state_json)
        _write_atomic(self.state_file, state_json)
        _write_atomic(self.meta_file, json.dumps(meta, indent=1, sort_keys=True).encode())


def cache_entry(key: str) -> CacheEntry:
    return CacheEntry(cache_dir() / key)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)

"""Find the pinned npm toolchain: anvil, the Aave artifacts, the Morpho sources, solc.

Everything comes from `node_modules` next to `package.json` (installed by `make setup`, i.e.
`npm ci`). anvil may also come from PATH.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from scanner.errors import ToolchainError

INSTALL_HINT = "run `make setup` (or `npm ci` in the project root)"


@cache
def project_root() -> Path:
    """The directory holding package.json (the repository root, or LIQSCAN_ROOT)."""
    env_root = os.environ.get("LIQSCAN_ROOT")
    if env_root:
        return Path(env_root).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "package.json").is_file():
            return parent
    return Path.cwd()


def node_modules() -> Path:
    path = project_root() / "node_modules"
    if not path.is_dir():
        raise ToolchainError(f"node_modules not found in {project_root()}: {INSTALL_HINT}")
    return path


def npm_package_dir(package: str) -> Path:
    path = node_modules() / package
    if not (path / "package.json").is_file():
        raise ToolchainError(f"npm package {package} is not installed: {INSTALL_HINT}")
    return path


def npm_package_version(package: str) -> str:
    meta = json.loads((npm_package_dir(package) / "package.json").read_text())
    return str(meta["version"])


def anvil_binary() -> Path:
    """anvil from node_modules, else from PATH."""
    candidate = project_root() / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    if candidate.is_file():
        if not os.access(candidate, os.X_OK):
            candidate.chmod(0o755)
        return candidate
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise ToolchainError(f"anvil not found (npm @foundry-rs/anvil-linux-amd64): {INSTALL_HINT}")


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: ABI, creation bytecode (hex, maybe with link placeholders)."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    link_references: dict[str, dict[str, list[dict[str, int]]]]


@cache
def _artifact_index(package: str) -> dict[str, Path]:
    root = npm_package_dir(package) / "artifacts"
    index: dict[str, Path] = {}
    for path in root.rglob("*.json"):
        if path.name.endswith(".dbg.json"):
            continue
        index.setdefault(path.stem, path)
    return index


def load_artifact(package: str, name: str) -> Artifact:
    """Load a hardhat artifact by contract name from an npm package's `artifacts/` tree."""
    path = _artifact_index(package).get(name)
    if path is None:
        raise ToolchainError(f"artifact {name} not found in npm package {package}: {INSTALL_HINT}")
    data = json.loads(path.read_text())
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=data["bytecode"],
        link_references=data.get("linkReferences", {}),
    )


def link_bytecode(artifact: Artifact, libraries: dict[str, str]) -> str:
    """Return creation bytecode with each library address patched at its link offsets."""
    code = artifact.bytecode.removeprefix("0x")
    for _source, libs in artifact.link_references.items():
        for lib_name, refs in libs.items():
            if lib_name not in libraries:
                raise ToolchainError(f"{artifact.name} needs library {lib_name}, not deployed")
            address_hex = libraries[lib_name].lower().removeprefix("0x")
            for ref in refs:
                start = ref["start"] * 2
                code = code[:start] + address_hex + code[start + ref["length"] * 2 :]
    return "0x" + code

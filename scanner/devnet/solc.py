"""Compile Solidity with a pinned npm solc-js (0.8.19, or another via `CompilerSettings`),
offline, with an on-disk cache.

    contracts = compile_sources({"Morpho.sol": morpho_src / "Morpho.sol"})
    morpho = contracts["Morpho"]          # CompiledContract(abi, bytecode, deployed_bytecode)

Imports are resolved here, in Python, before solc runs: every source the compilation needs is
inlined into the standard-JSON input. That makes the input self-contained, so its hash (with the
solc version and settings) is a complete cache key, and solc never touches the filesystem.

Resolution follows solc's own rules for source unit names: a relative import (`./x`, `../x`) is
joined to the importing unit's directory; any other import is a unit name looked up under the
roots (default: `contracts/src` and `node_modules`, so `@morpho-org/morpho-blue/src/...` works).
A non-relative import is first rewritten by the settings' remappings (longest prefix wins), as
solc's own `prefix=target` remappings rewrite it: the rewritten path is the unit name, so a file
reached through two spellings is still one source unit.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.devnet.toolchain import (
    INSTALL_HINT,
    node_modules,
    npm_package_dir,
    npm_package_version,
    project_root,
)
from scanner.errors import ToolchainError

DEFAULT_OPTIMIZER_RUNS = 999_999  # Morpho Blue's production setting
EVM_VERSION = "paris"  # solc 0.8.19's default, named so the cache key does not depend on it
_COMPILE_TIMEOUT_SECONDS = 900.0
_COMPILE_SCRIPT = Path(__file__).with_name("compile.js")

# String literals are matched first so a `//` inside an import path (aave-v3-origin has
# `'.../contracts//IERC20.sol'`) is not taken for a comment.
_COMMENT_RE = re.compile(r"(\"[^\"\n]*\"|'[^'\n]*')|/\*.*?\*/|//[^\n]*", re.DOTALL)
_IMPORT_RE = re.compile(r"\bimport\s+(?:[^;\"']*?\s+from\s+)?[\"']([^\"']+)[\"']")


@dataclass(frozen=True)
class CompilerSettings:
    """Which solc-js package compiles, and how. Defaults: Morpho Blue's production settings."""

    solc_package: str = "solc"  # npm directory name, e.g. "solc-0827" (an npm alias)
    optimizer_runs: int = DEFAULT_OPTIMIZER_RUNS
    via_ir: bool = False
    evm_version: str = EVM_VERSION
    bytecode_hash: str | None = None  # solc's metadata.bytecodeHash ("none" drops the CBOR hash)
    remappings: tuple[tuple[str, str], ...] = ()  # (prefix, target) pairs


@dataclass(frozen=True)
class CompiledContract:
    """One compiled contract: ABI and hex (0x-prefixed) creation and runtime bytecode."""

    name: str
    source: str  # source unit name it was defined in
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


def cache_root() -> Path:
    """Project cache directory: LIQSCAN_CACHE_DIR, else `<project>/.cache`."""
    env_dir = os.environ.get("LIQSCAN_CACHE_DIR")
    return Path(env_dir) if env_dir else project_root() / ".cache"


def default_roots() -> tuple[Path, ...]:
    return (project_root() / "contracts" / "src", node_modules())


def compile_sources(
    sources: Mapping[str, Path | str],
    *,
    roots: Sequence[Path] | None = None,
    optimizer_runs: int = DEFAULT_OPTIMIZER_RUNS,
    via_ir: bool = False,
    settings: CompilerSettings | None = None,
    select: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, CompiledContract]:
    """Compile `sources` (unit name -> file path or source text) and everything they import.

    `settings` replaces `optimizer_runs`/`via_ir` when given. `select` (unit -> contract names)
    limits code generation to those contracts, which is much faster for a large code base.
    Returns contracts keyed by `"<unit>:<Name>"`, and also by bare `Name` when that name is
    unique. Cached under `cache_root()/solc`, keyed by inputs + solc version + settings.
    """
    settings = settings or CompilerSettings(optimizer_runs=optimizer_runs, via_ir=via_ir)
    all_sources = resolve_imports(sources, default_roots() if roots is None else roots,
                                  settings.remappings)
    standard_input = _standard_json(all_sources, settings, select)
    solc_version = npm_package_version(settings.solc_package)
    key_material = json.dumps({"solc": solc_version, "input": standard_input}, sort_keys=True)
    cache_file = cache_root() / "solc" / f"{hashlib.sha256(key_material.encode()).hexdigest()}.json"
    if cache_file.is_file():
        records = json.loads(cache_file.read_text())
    else:
        records = _run_solc(standard_input, settings.solc_package)
        _write_atomically(cache_file, json.dumps(records))
    return _index_contracts([CompiledContract(**record) for record in records])


def resolve_imports(sources: Mapping[str, Path | str], roots: Sequence[Path],
                    remappings: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """Return unit name -> source text for `sources` and their transitive imports."""
    resolved: dict[str, str] = {}
    origin: dict[str, Path | None] = {}  # file each unit was read from (None: given as text)
    pending: list[tuple[str, Path | str]] = list(sources.items())
    while pending:
        unit, given = pending.pop()
        if unit in resolved:
            continue
        if isinstance(given, Path):
            text, origin[unit] = _read_source(given, unit), given
        else:
            text, origin[unit] = given, None
        resolved[unit] = text
        for imported in _IMPORT_RE.findall(_strip_comments(text)):
            child = _child_unit(unit, imported, remappings)
            if child not in resolved:
                pending.append((child, _locate(child, imported, origin[unit], roots)))
    return resolved


def _strip_comments(text: str) -> str:
    return _COMMENT_RE.sub(lambda match: match.group(1) or "", text)


def _child_unit(unit: str, imported: str, remappings: Sequence[tuple[str, str]]) -> str:
    if imported.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(unit), imported))
    matching = [(prefix, target) for prefix, target in remappings if imported.startswith(prefix)]
    if matching:
        prefix, target = max(matching, key=lambda pair: len(pair[0]))
        return target + imported[len(prefix):]
    return imported


def _locate(child: str, imported: str, parent_file: Path | None, roots: Sequence[Path]) -> Path:
    # A relative import sits next to the importing file on disk, whatever its unit name.
    if imported.startswith(("./", "../")) and parent_file is not None:
        candidate = (parent_file.parent / imported).resolve()
        if candidate.is_file():
            return candidate
    for root in roots:
        candidate = root / child
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(root) for root in roots)
    raise ToolchainError(f"Solidity import {imported!r} not found under {searched}: {INSTALL_HINT}")


def _read_source(path: Path, unit: str) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise ToolchainError(f"cannot read Solidity source {unit} at {path}: {exc}") from exc


def _standard_json(sources: Mapping[str, str], settings: CompilerSettings,
                   select: Mapping[str, Sequence[str]] | None) -> dict[str, Any]:
    wanted = ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]
    selection = ({unit: {name: wanted for name in names} for unit, names in select.items()}
                 if select else {"*": {"*": wanted}})
    solc_settings: dict[str, Any] = {
        "optimizer": {"enabled": True, "runs": settings.optimizer_runs},
        "viaIR": settings.via_ir,
        "evmVersion": settings.evm_version,
        "outputSelection": selection,
    }
    # only set when asked, so inputs compiled before these options existed keep their cache key
    if settings.bytecode_hash is not None:
        solc_settings["metadata"] = {"bytecodeHash": settings.bytecode_hash}
    if settings.remappings:  # solc rewrites the import text the same way resolve_imports did
        solc_settings["remappings"] = [f"{prefix}={target}"
                                       for prefix, target in settings.remappings]
    return {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sorted(sources.items())},
        "settings": solc_settings,
    }


def _node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise ToolchainError(f"node (Node.js) not found on PATH, solc-js needs it: {INSTALL_HINT}")
    return node


def _run_solc(standard_input: dict[str, Any], solc_package: str) -> list[dict[str, Any]]:
    """Run solc-js on a standard-JSON input; return one record per contract with bytecode."""
    command = [_node_binary(), str(_COMPILE_SCRIPT), str(npm_package_dir(solc_package))]
    try:
        completed = subprocess.run(
            command,
            input=json.dumps(standard_input),
            capture_output=True,
            text=True,
            timeout=_COMPILE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"solc-js took over {_COMPILE_TIMEOUT_SECONDS:.0f}s") from exc
    if completed.returncode != 0:
        last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise ToolchainError(f"solc-js failed ({last_line}): {INSTALL_HINT}")
    output = json.loads(completed.stdout)["output"]
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        where = errors[0].get("sourceLocation", {}).get("file", "?")
        raise ToolchainError(f"solc error in {where}: {errors[0].get('message', errors[0])}")
    return _contract_records(output)


def _contract_records(output: dict[str, Any]) -> list[dict[str, Any]]:
    records = []
    for unit, contracts in sorted(output.get("contracts", {}).items()):
        for name, data in sorted(contracts.items()):
            if "evm" not in data:  # not selected for code generation
                continue
            records.append({
                "name": name,
                "source": unit,
                "abi": data["abi"],
                "bytecode": "0x" + data["evm"]["bytecode"]["object"],
                "deployed_bytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
            })
    return records


def _index_contracts(contracts: Sequence[CompiledContract]) -> dict[str, CompiledContract]:
    by_key = {f"{c.source}:{c.name}": c for c in contracts}
    name_counts: dict[str, int] = {}
    for contract in contracts:
        name_counts[contract.name] = name_counts.get(contract.name, 0) + 1
    for contract in contracts:
        if name_counts[contract.name] == 1:
            by_key[contract.name] = contract
    return by_key


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temp file in the same directory and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=path.name, suffix=".tmp", delete=False
    ) as handle:
        handle.write(text)
        temp_name = handle.name
    os.chmod(temp_name, 0o644)  # mkstemp makes 0600; the cache is shared with other users
    os.replace(temp_name, path)

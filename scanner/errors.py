"""Exceptions of liqscan. Every error the user can see is a `ScannerError`.

    ScannerError                 exit code, one-line message naming what to fix
    +-- UsageError               2   bad command-line arguments
    +-- PartialScanError         3   some markets of a scan failed; their snapshots were not written
    +-- InconsistentDataError    65  an RPC answer or stored data contradicts itself
    |   +-- MirrorMismatchError  65  the health-factor mirror disagrees with the protocol's view
    +-- ToolchainError           69  anvil / node_modules / solc missing or unusable
    +-- OutputError              73  an output file or directory cannot be created
    +-- RpcUnavailableError      75  the node cannot be reached or keeps failing: retry later
    +-- DatabaseError            76  the database is unreachable or not migrated
    +-- ConfigError              78  config.toml (or a devnet spec) is invalid
"""

from __future__ import annotations


class ScannerError(Exception):
    """Root of every error liqscan reports to the user."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ScannerError):
    """Bad command-line arguments."""

    exit_code = 2


class PartialScanError(ScannerError):
    """Some markets of a multi-market scan failed; each market's snapshot is all or nothing."""

    exit_code = 3


class InconsistentDataError(ScannerError):
    """An RPC answer or stored row contradicts what the protocol guarantees."""

    exit_code = 65


class MirrorMismatchError(InconsistentDataError):
    """liqscan's integer mirror does not reproduce the protocol's own account data: any price
    it would give is known to be wrong, so none is stored."""


class ToolchainError(ScannerError):
    """A local tool (anvil, node, npm packages, solc) is missing or failed."""

    exit_code = 69


class OutputError(ScannerError):
    """An output path (export --out, demo --out) cannot be written, or would overwrite data."""

    exit_code = 73


class RpcUnavailableError(ScannerError):
    """The JSON-RPC endpoint cannot be reached or keeps failing; retry later."""

    exit_code = 75


class DatabaseError(ScannerError):
    """The database cannot be reached or its schema is not at the expected revision."""

    exit_code = 76


class ConfigError(ScannerError):
    """The configuration (config.toml, a devnet spec, an address) is invalid."""

    exit_code = 78

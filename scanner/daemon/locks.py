"""One daemon per chain at a time: the database is the coordinator.

PostgreSQL: a session advisory lock per chain (`pg_try_advisory_lock`), held on a connection
of its own for as long as the daemon scans that chain. A daemon that dies (even SIGKILL) loses
its connection, the server releases the lock, and a standby's next try takes the chain over.
SQLite: an exclusive `flock` on `<database>.daemon-lock` next to the file (one machine), with
the same semantics: the kernel drops it when the process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError


class ChainLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the chain if no other daemon holds it; True when held."""
        ...

    def still_held(self) -> bool:
        """False when the lock was lost (its database connection died)."""
        ...

    def release(self) -> None: ...


def lock_key(chain: str) -> int:
    """A stable signed 64-bit advisory-lock key for a chain name."""
    digest = hashlib.blake2b(f"liqscan-daemon:{chain}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresChainLock:
    def __init__(self, engine: Engine, chain: str) -> None:
        self.engine, self.key = engine, lock_key(chain)
        self.conn: Connection | None = None

    def try_acquire(self) -> bool:
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                    {"key": self.key}).scalar_one())
            conn.commit()  # the lock is the session's, not the transaction's
        except SQLAlchemyError:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self.conn = conn
        return True

    def still_held(self) -> bool:
        if self.conn is None:
            return False
        try:
            # the lock lives exactly as long as this session: alive means held
            self.conn.execute(text("SELECT 1")).scalar_one()
            self.conn.commit()
            return True
        except SQLAlchemyError:
            self.release()
            return False

    def release(self) -> None:
        if self.conn is None:
            return
        conn, self.conn = self.conn, None
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            conn.commit()
        except SQLAlchemyError:
            pass  # the connection is gone: so is the lock
        finally:
            conn.close()


class FileChainLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def still_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None


def chain_lock(engine: Engine, chain: str) -> ChainLock:
    if engine.dialect.name == "postgresql":
        return PostgresChainLock(engine, chain)
    database = engine.url.database
    if not database or database == ":memory:":
        return FileChainLock(Path(f"/tmp/liqscan-memory-{os.getpid()}-{chain}.daemon-lock"))
    return FileChainLock(Path(f"{database}.{chain}.daemon-lock"))

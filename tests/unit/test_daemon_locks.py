"""One daemon per chain: a second lock on the same chain waits until the first is released
(PostgreSQL advisory lock, SQLite flock); another chain is free."""

from __future__ import annotations

from sqlalchemy import Engine

from scanner.daemon.locks import chain_lock
from scanner.store.db import make_engine


def test_a_chain_is_held_by_one_daemon_at_a_time(engine: Engine, db_url: str) -> None:
    other_engine = make_engine(db_url)  # another daemon: its own connections
    try:
        first, second = chain_lock(engine, "devnet"), chain_lock(other_engine, "devnet")
        assert first.try_acquire() and first.still_held()
        assert not second.try_acquire() and not second.still_held()
        elsewhere = chain_lock(other_engine, "mainnet")
        assert elsewhere.try_acquire()
        first.release()
        assert second.try_acquire() and second.still_held()
        second.release()
        elsewhere.release()
    finally:
        other_engine.dispose()

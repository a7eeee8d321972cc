"""positions: liquidatable_next, owner and vault_id (Maker's OSM next price, CdpManager vaults)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

`liquidatable_next`: does the oracle's NEXT price (Maker's OSM `peep`, current in at most an
hour) make the position liquidatable; NULL where the protocol has no delayed oracle.
`owner` / `vault_id`: the owner and id of a vault whose account is a contract holding it
(Maker's CdpManager: the account is the UrnHandler urn); NULL elsewhere.
v_latest_positions (as 0010 defines it) gains the three columns; its other columns are unchanged.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS = "p.liquidatable_next, p.owner, p.vault_id, "


def _migration(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    if spec is None or spec.loader is None:
        raise RuntimeError(f"migration {name} not found next to {__file__}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _positions_view(with_new_columns: bool) -> str:
    view: str = _migration("0010_band_tracks")._positions_view()
    anchor = "p.emode_category,"
    if anchor not in view:
        raise RuntimeError("v_latest_positions of 0010 changed: update 0012")
    return view.replace(anchor, anchor + " " + NEW_COLUMNS.rstrip(", ") + ",", 1) if (
        with_new_columns) else view


def upgrade() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("liquidatable_next", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("owner", sa.String(length=42), nullable=True))
        batch.add_column(sa.Column("vault_id", sa.BigInteger(), nullable=True))
    op.execute("DROP VIEW IF EXISTS v_latest_positions")
    op.execute(_positions_view(with_new_columns=True))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_latest_positions")
    with op.batch_alter_table("positions") as batch:
        batch.drop_column("vault_id")
        batch.drop_column("owner")
        batch.drop_column("liquidatable_next")
    op.execute(_positions_view(with_new_columns=False))

"""positions.status may be 'unverified': an account liqscan's mirror could not reproduce

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

A scan run with --store-unverified keeps accounts whose integer mirror disagrees with the
protocol's own account data, without a price and outside every bin and band, so that they are
counted rather than silently dropped. Only the CHECK constraint on positions.status changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = ("at_risk", "liquidatable_now", "not_sensitive")
_NEW = (*_OLD, "unverified")


def _set_status_check(values: tuple[str, ...]) -> None:
    check = f"status IN {values!r}"
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_positions_status"), "positions", type_="check")
        op.create_check_constraint(op.f("ck_positions_status"), "positions", check)
        return
    # SQLite rebuilds the table; the views that read it would break the rename, so they are
    # dropped and re-created from their own stored SQL, unchanged.
    views = bind.execute(sa.text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name")).all()
    for name, _sql in views:
        op.execute(f'DROP VIEW "{name}"')
    with op.batch_alter_table("positions") as batch:
        batch.drop_constraint(op.f("ck_positions_status"), type_="check")
        batch.create_check_constraint(op.f("ck_positions_status"), check)
    for _name, sql in views:
        op.execute(sql)


def upgrade() -> None:
    _set_status_check(_NEW)


def downgrade() -> None:
    # Unverified rows cannot be expressed before this revision: they are removed with it.
    op.execute("DELETE FROM positions WHERE status = 'unverified'")
    _set_status_check(_OLD)

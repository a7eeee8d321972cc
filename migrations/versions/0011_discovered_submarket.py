"""discovered accounts per submarket: the Morpho market an account was found in

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

A Morpho Blue entry spans many markets; its accounts were stored per entry, so every account
was read in every chosen market (accounts x markets reads on mainnet). The submarket (market
id) is now part of the key. Rows written before keep submarket "" -- read in every chosen
market, as before -- so nothing is lost or re-discovered.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("discovered_accounts", recreate="always") as batch:
        batch.add_column(sa.Column("submarket", sa.String(length=128), server_default="",
                                   nullable=False))
        batch.drop_constraint("pk_discovered_accounts", type_="primary")
        batch.create_primary_key("pk_discovered_accounts",
                                 ["market_key", "submarket", "account"])


def downgrade() -> None:
    # one row per (market, account) again: the earliest block over its submarkets
    op.execute(
        "DELETE FROM discovered_accounts WHERE EXISTS (SELECT 1 FROM discovered_accounts o "
        "WHERE o.market_key = discovered_accounts.market_key "
        "AND o.account = discovered_accounts.account "
        "AND (o.first_seen_block < discovered_accounts.first_seen_block "
        "OR (o.first_seen_block = discovered_accounts.first_seen_block "
        "AND o.submarket < discovered_accounts.submarket)))"
    )
    with op.batch_alter_table("discovered_accounts", recreate="always") as batch:
        batch.drop_constraint("pk_discovered_accounts", type_="primary")
        batch.create_primary_key("pk_discovered_accounts", ["market_key", "account"])
        batch.drop_column("submarket")

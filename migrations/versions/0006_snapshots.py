"""snapshots: one row per chain and pinned block owning per-market scans, bins and bands;
per-market breakdown of bins and bands; positions get submarket and the native price

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Existing data migrates, nothing is dropped: every stored scan (one market each until now)
becomes a snapshot with the same id, which takes over its bins and bands and their counts;
each bin and band gets one share (the whole of it, for that scan's market). Positions stored
before keep `submarket` '' (the pool was not recorded) and get `liquidation_price_native` =
their 8-decimal USD level, which it was: one market per scan, priced by its own oracle.

Views now read snapshots. "Latest" is defined here once: per chain, the complete snapshot at
the highest block (highest id on a tie); the CLI uses the same rule (Repository).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

UINT256 = sa.String(length=78)  # scanner.store.types.Uint256's storage, frozen

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_VIEWS = ("v_band_history", "v_latest_positions", "v_latest_bins", "v_latest_bands",
             "v_latest_scans")
NEW_VIEWS = ("v_band_history", "v_latest_positions", "v_latest_bins", "v_latest_bands",
             "v_latest_scans", "v_latest_snapshots")
_AMOUNTS = ("positions", "collateral_usd_8dec", "debt_usd_8dec", "seizable_usd_8dec")


def _share_table(name: str, parent: str, parent_table: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(parent, sa.Integer(), nullable=False),
        sa.Column("market_key", sa.String(length=128), nullable=False),
        sa.Column("protocol", sa.String(length=64), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("collateral_usd_8dec", UINT256, nullable=False),
        sa.Column("debt_usd_8dec", UINT256, nullable=False),
        sa.Column("seizable_usd_8dec", UINT256, nullable=False),
        sa.ForeignKeyConstraint([parent], [f"{parent_table}.id"],
                                name=op.f(f"fk_{name}_{parent}_{parent_table}"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(parent, "market_key", name=op.f(f"uq_{name}_{parent}_market_key")),
    )


def _move_to_snapshot(table: str, unique_rest: tuple[str, ...]) -> None:
    """`table`.scan_id -> snapshot_id (same values: snapshot ids are the old scan ids)."""
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(f"uq_{table}_scan_id_{'_'.join(unique_rest)}", type_="unique")
        batch.drop_constraint(f"fk_{table}_scan_id_scans", type_="foreignkey")
        batch.alter_column("scan_id", new_column_name="snapshot_id",
                           existing_type=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table(table) as batch:  # SQLite: constraints on the renamed column
        batch.create_foreign_key(f"fk_{table}_snapshot_id_snapshots", "snapshots",
                                 ["snapshot_id"], ["id"], ondelete="CASCADE")
        batch.create_unique_constraint(
            f"uq_{table}_snapshot_id_{'_'.join(unique_rest)}", ["snapshot_id", *unique_rest])


def upgrade() -> None:
    for view in OLD_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("block_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("market_count", sa.Integer(), nullable=False),
        sa.Column("position_count", sa.Integer(), nullable=False),
        sa.Column("bin_count", sa.Integer(), nullable=False),
        sa.Column("band_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshots")),
    )
    op.create_index("ix_snapshots_chain_block", "snapshots", ["chain", "block"])
    op.execute(
        "INSERT INTO snapshots (id, chain, chain_id, block, block_timestamp, status, created_at,"
        " market_count, position_count, bin_count, band_count)"
        " SELECT id, chain, chain_id, block, block_timestamp, status, created_at, 1,"
        " position_count, bin_count, band_count FROM scans"
    )
    if op.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequence past them
        op.execute("SELECT setval(pg_get_serial_sequence('snapshots', 'id'),"
                    " COALESCE((SELECT MAX(id) FROM snapshots), 0) + 1, false)")
    _upgrade_scans()
    _upgrade_positions()
    _move_to_snapshot("histogram_bins", ("axis", "direction", "bin_index"))
    _move_to_snapshot("bands", ("axis", "direction", "rank"))
    _share_table("bin_shares", "bin_id", "histogram_bins")
    _share_table("band_shares", "band_id", "bands")
    for share, parent, parent_id in (("bin_shares", "histogram_bins", "bin_id"),
                                     ("band_shares", "bands", "band_id")):
        amounts = ", ".join(f"p.{c}" for c in _AMOUNTS)
        op.execute(
            f"INSERT INTO {share} ({parent_id}, market_key, protocol, {', '.join(_AMOUNTS)})"
            f" SELECT p.id, s.market_key, s.protocol, {amounts}"
            f" FROM {parent} p JOIN scans s ON s.snapshot_id = p.snapshot_id"
        )
    for sql in views():
        op.execute(sql)


def _upgrade_scans() -> None:
    op.add_column("scans", sa.Column("snapshot_id", sa.Integer(), nullable=True))
    op.execute("UPDATE scans SET snapshot_id = id")
    with op.batch_alter_table("scans") as batch:
        batch.alter_column("snapshot_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_scans_market_key_block", type_="unique")
        batch.create_unique_constraint("uq_scans_snapshot_id_market_key",
                                       ["snapshot_id", "market_key"])
        batch.create_foreign_key("fk_scans_snapshot_id_snapshots", "snapshots",
                                 ["snapshot_id"], ["id"], ondelete="CASCADE")
        batch.drop_column("bin_count")  # kept in snapshots (one market per scan until now)
        batch.drop_column("band_count")
    op.create_index("ix_scans_market_key_block", "scans", ["market_key", "block"])


def _upgrade_positions() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("submarket", sa.String(length=128), server_default="",
                                   nullable=False))
        batch.add_column(sa.Column("liquidation_price_native", UINT256, nullable=True))
        batch.add_column(sa.Column("native_price_unit", sa.String(length=64),
                                   server_default="USD", nullable=False))
        batch.add_column(sa.Column("native_price_decimals", sa.Integer(), server_default="8",
                                   nullable=False))
        batch.drop_constraint("uq_positions_scan_id_axis_account", type_="unique")
        batch.create_unique_constraint("uq_positions_scan_id_axis_submarket_account",
                                       ["scan_id", "axis", "submarket", "account"])
    op.execute("UPDATE positions SET liquidation_price_native = liquidation_price_8dec")


# --- views --------------------------------------------------------------------------------


def _scaled(column: str, decimals: int, alias: str) -> str:
    """SQL for `column` (a 78-digit string) divided by 10**decimals, named `alias`."""
    if op.get_bind().dialect.name == "postgresql":
        factor = "0." + "0" * (decimals - 1) + "1"
        exact = f"CAST({column} AS NUMERIC(78, 0)) * {factor}"
        return f"CAST({exact} AS NUMERIC(78, {decimals})) AS {alias}"
    return f"CAST({column} AS REAL) / 1e{decimals} AS {alias}"


def _usd(column: str, alias: str) -> str:
    return _scaled(column, 8, alias)


_LATEST_SNAPSHOTS = """
CREATE VIEW v_latest_snapshots AS
SELECT n.* FROM snapshots n
WHERE n.status = 'complete' AND n.id = (
    SELECT n2.id FROM snapshots n2
    WHERE n2.chain = n.chain AND n2.status = 'complete'
    ORDER BY n2.block DESC, n2.id DESC
    LIMIT 1
)
"""

_LATEST_SCANS = """
CREATE VIEW v_latest_scans AS
SELECT s.* FROM scans s JOIN v_latest_snapshots n ON n.id = s.snapshot_id
"""

_SNAPSHOT_COLUMNS = "n.chain, n.chain_id, n.block, n.block_timestamp"


def _native(column: str) -> str:
    """The native price as a readable number: its own decimals, per row."""
    if op.get_bind().dialect.name == "postgresql":
        return (f"CAST(CAST({column} AS NUMERIC(78, 0)) / POWER(CAST(10 AS NUMERIC), "
                "p.native_price_decimals) AS NUMERIC(78, 18)) AS liquidation_price_native")
    return (f"CAST({column} AS REAL) / POWER(10.0, p.native_price_decimals)"
            " AS liquidation_price_native")


def _positions_view() -> str:
    human = ",\n    ".join([
        _usd("p.liquidation_price_8dec", "liquidation_price_usd"),
        _usd("p.axis_price_now_8dec", "axis_price_now_usd"),
        _scaled("p.health_factor_wad", 18, "health_factor"),
        _usd("p.collateral_usd_8dec", "collateral_usd"),
        _usd("p.debt_usd_8dec", "debt_usd"),
        _usd("p.axis_collateral_usd_8dec", "axis_collateral_usd"),
        _usd("p.seizable_usd_8dec", "seizable_usd"),
        _native("p.liquidation_price_native"),
    ])
    return f"""
CREATE VIEW v_latest_positions AS
SELECT s.snapshot_id, p.scan_id, {_SNAPSHOT_COLUMNS}, s.market_key, s.protocol,
    p.submarket, p.account, p.axis, p.status, p.direction, p.emode_category,
    {human},
    p.native_price_unit AS liquidation_price_native_unit,
    p.liquidation_price_8dec, p.axis_price_now_8dec, p.health_factor_wad,
    p.collateral_usd_8dec, p.debt_usd_8dec, p.axis_collateral_usd_8dec, p.seizable_usd_8dec,
    p.liquidation_price_native AS liquidation_price_native_raw, p.native_price_decimals
FROM positions p
JOIN scans s ON s.id = p.scan_id
JOIN v_latest_snapshots n ON n.id = s.snapshot_id
"""


def _amount_columns() -> str:
    return ",\n    ".join(
        _usd(f"b.{name}_8dec", name.replace("_usd", "") + "_usd")
        for name in ("low", "high", "collateral_usd", "debt_usd", "seizable_usd")
    )


def _bins_view() -> str:
    return f"""
CREATE VIEW v_latest_bins AS
SELECT b.snapshot_id, {_SNAPSHOT_COLUMNS},
    b.axis, b.direction, b.bin_index, b.positions,
    {_amount_columns()},
    {_usd("b.cumulative_collateral_usd_8dec", "cumulative_collateral_usd")},
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec, b.debt_usd_8dec, b.seizable_usd_8dec,
    b.cumulative_collateral_usd_8dec
FROM histogram_bins b JOIN v_latest_snapshots n ON n.id = b.snapshot_id
"""


def _bands_view() -> str:
    return f"""
CREATE VIEW v_latest_bands AS
SELECT b.id AS band_id, b.snapshot_id, {_SNAPSHOT_COLUMNS},
    b.axis, b.direction, b.rank, b.kind, b.positions,
    {_amount_columns()},
    b.share_of_at_risk_bps, b.distance_low_bps, b.distance_high_bps, b.top_accounts,
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec, b.debt_usd_8dec, b.seizable_usd_8dec
FROM bands b JOIN v_latest_snapshots n ON n.id = b.snapshot_id
"""


def _band_history_view() -> str:
    return f"""
CREATE VIEW v_band_history AS
SELECT b.snapshot_id, n.chain, n.block, n.block_timestamp,
    b.axis, b.direction, b.rank, b.kind, b.positions,
    {_amount_columns()},
    b.share_of_at_risk_bps, b.distance_low_bps, b.distance_high_bps,
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec
FROM bands b JOIN snapshots n ON n.id = b.snapshot_id
WHERE n.status = 'complete'
"""


def views() -> list[str]:
    return [_LATEST_SNAPSHOTS, _LATEST_SCANS, _positions_view(), _bins_view(), _bands_view(),
            _band_history_view()]


# --- down ---------------------------------------------------------------------------------


def downgrade() -> None:
    """Back to one market per scan; refused when a snapshot holds several markets (their bins
    and bands are sums that no single old scan could own: nothing is dropped silently)."""
    bind = op.get_bind()
    several = bind.execute(sa.text(
        "SELECT COUNT(*) FROM (SELECT snapshot_id FROM scans GROUP BY snapshot_id"
        " HAVING COUNT(*) > 1) AS multi")).scalar_one()
    if several:
        raise RuntimeError(f"{several} snapshots hold several markets; the schema before 0006 "
                           "cannot hold them: export them, or delete them explicitly first")
    for view in NEW_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.drop_table("band_shares")
    op.drop_table("bin_shares")
    for table, rest in (("histogram_bins", ("axis", "direction", "bin_index")),
                        ("bands", ("axis", "direction", "rank"))):
        op.execute(f"UPDATE {table} SET snapshot_id = (SELECT s.id FROM scans s"
                   f" WHERE s.snapshot_id = {table}.snapshot_id)")
        _move_back(table, rest)
    with op.batch_alter_table("positions") as batch:
        batch.drop_constraint("uq_positions_scan_id_axis_submarket_account", type_="unique")
        batch.create_unique_constraint("uq_positions_scan_id_axis_account",
                                       ["scan_id", "axis", "account"])
        for column in ("native_price_decimals", "native_price_unit", "liquidation_price_native",
                       "submarket"):
            batch.drop_column(column)
    _downgrade_scans()
    _old_views()


def _move_back(table: str, rest: tuple[str, ...]) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(f"uq_{table}_snapshot_id_{'_'.join(rest)}", type_="unique")
        batch.drop_constraint(f"fk_{table}_snapshot_id_snapshots", type_="foreignkey")
        batch.alter_column("snapshot_id", new_column_name="scan_id",
                           existing_type=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table(table) as batch:  # SQLite: constraints on the renamed column
        batch.create_foreign_key(f"fk_{table}_scan_id_scans", "scans", ["scan_id"], ["id"],
                                 ondelete="CASCADE")
        batch.create_unique_constraint(f"uq_{table}_scan_id_{'_'.join(rest)}",
                                       ["scan_id", *rest])


def _downgrade_scans() -> None:
    op.drop_index("ix_scans_market_key_block", table_name="scans")
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("bin_count", sa.Integer(), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("band_count", sa.Integer(), server_default="0",
                                   nullable=False))
    op.execute("UPDATE scans SET bin_count = (SELECT n.bin_count FROM snapshots n"
               " WHERE n.id = scans.snapshot_id), band_count = (SELECT n.band_count"
               " FROM snapshots n WHERE n.id = scans.snapshot_id)")
    with op.batch_alter_table("scans") as batch:
        batch.drop_constraint("fk_scans_snapshot_id_snapshots", type_="foreignkey")
        batch.drop_constraint("uq_scans_snapshot_id_market_key", type_="unique")
        batch.create_unique_constraint("uq_scans_market_key_block", ["market_key", "block"])
        batch.drop_column("snapshot_id")
    op.drop_index("ix_snapshots_chain_block", table_name="snapshots")
    op.drop_table("snapshots")


def _old_views() -> None:
    """The views as 0005 left them: those of 0002, with 0005's band views (with `kind`)."""
    _migration("0002_analyst_views").upgrade()
    op.execute("DROP VIEW IF EXISTS v_latest_bands")
    band_kind = _migration("0005_band_kind")
    op.execute(band_kind._latest_bands("b.kind, "))
    op.execute(band_kind._band_history("b.kind, "))


def _migration(name: str) -> Any:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    if spec is None or spec.loader is None:
        raise RuntimeError(f"migration {name} not found next to {__file__}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

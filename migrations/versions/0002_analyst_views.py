"""analyst views: v_latest_scans, v_latest_positions, v_latest_bins, v_latest_bands

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"Latest" = per market, the complete scan at the highest block (highest id on a tie).
Raw 78-digit columns are kept; `*_usd` / `health_factor` are readable numbers computed from
them: exact NUMERIC on PostgreSQL (multiplying by 1e-8 keeps every digit, where numeric
division could round), REAL on SQLite (display only; the raw columns stay exact).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = ("v_latest_positions", "v_latest_bins", "v_latest_bands", "v_latest_scans")


def _scaled(column: str, decimals: int, alias: str) -> str:
    """SQL for `column` (a 78-digit string) divided by 10**decimals, named `alias`."""
    if op.get_bind().dialect.name == "postgresql":
        factor = "0." + "0" * (decimals - 1) + "1"
        exact = f"CAST({column} AS NUMERIC(78, 0)) * {factor}"
        return f"CAST({exact} AS NUMERIC(78, {decimals})) AS {alias}"
    return f"CAST({column} AS REAL) / 1e{decimals} AS {alias}"


def _usd(column: str, alias: str) -> str:
    return _scaled(column, 8, alias)


_LATEST_SCANS = """
CREATE VIEW v_latest_scans AS
SELECT s.* FROM scans s
WHERE s.status = 'complete' AND s.id = (
    SELECT s2.id FROM scans s2
    WHERE s2.market_key = s.market_key AND s2.status = 'complete'
    ORDER BY s2.block DESC, s2.id DESC
    LIMIT 1
)
"""

_SCAN_COLUMNS = "s.chain, s.chain_id, s.market_key, s.protocol, s.block, s.block_timestamp"


def _positions_view() -> str:
    human = ",\n    ".join(
        [
            _usd("p.liquidation_price_8dec", "liquidation_price_usd"),
            _usd("p.axis_price_now_8dec", "axis_price_now_usd"),
            _scaled("p.health_factor_wad", 18, "health_factor"),
            _usd("p.collateral_usd_8dec", "collateral_usd"),
            _usd("p.debt_usd_8dec", "debt_usd"),
            _usd("p.axis_collateral_usd_8dec", "axis_collateral_usd"),
            _usd("p.seizable_usd_8dec", "seizable_usd"),
        ]
    )
    return f"""
CREATE VIEW v_latest_positions AS
SELECT p.scan_id, {_SCAN_COLUMNS},
    p.account, p.axis, p.status, p.direction, p.emode_category,
    {human},
    p.liquidation_price_8dec, p.axis_price_now_8dec, p.health_factor_wad,
    p.collateral_usd_8dec, p.debt_usd_8dec, p.axis_collateral_usd_8dec, p.seizable_usd_8dec
FROM positions p JOIN v_latest_scans s ON s.id = p.scan_id
"""


def _bins_view() -> str:
    human = ",\n    ".join(
        _usd(f"b.{name}_8dec", name.replace("_usd", "") + "_usd")
        for name in ("low", "high", "collateral_usd", "debt_usd", "seizable_usd")
    )
    return f"""
CREATE VIEW v_latest_bins AS
SELECT b.scan_id, {_SCAN_COLUMNS},
    b.axis, b.direction, b.bin_index, b.positions,
    {human},
    {_usd("b.cumulative_collateral_usd_8dec", "cumulative_collateral_usd")},
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec, b.debt_usd_8dec, b.seizable_usd_8dec,
    b.cumulative_collateral_usd_8dec
FROM histogram_bins b JOIN v_latest_scans s ON s.id = b.scan_id
"""


def _bands_view() -> str:
    human = ",\n    ".join(
        _usd(f"b.{name}_8dec", name.replace("_usd", "") + "_usd")
        for name in ("low", "high", "collateral_usd", "debt_usd", "seizable_usd")
    )
    return f"""
CREATE VIEW v_latest_bands AS
SELECT b.scan_id, {_SCAN_COLUMNS},
    b.axis, b.direction, b.rank, b.positions,
    {human},
    b.share_of_at_risk_bps, b.distance_low_bps, b.distance_high_bps, b.top_accounts,
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec, b.debt_usd_8dec, b.seizable_usd_8dec
FROM bands b JOIN v_latest_scans s ON s.id = b.scan_id
"""


def upgrade() -> None:
    op.execute(_LATEST_SCANS)
    op.execute(_positions_view())
    op.execute(_bins_view())
    op.execute(_bands_view())


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")

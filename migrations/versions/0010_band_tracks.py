"""band tracks and snapshot axes: a band keeps an id across snapshots; each axis of a
snapshot stores its price and its at-risk / liquidatable-now totals; views carry them

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

* `bands.track_id`: the id of the first band row of the band's track (a band keeps it while it
  overlaps its previous self, scanner/pipeline/band_tracks.py); `bands.split_from`: the track
  it split off from. Stored bands are linked here, snapshot by snapshot in block order, by
  the same rule (frozen below).
* `snapshot_axes`: per snapshot and axis, the axis price and the at-risk and
  liquidatable-now positions and collateral, computed here from the stored positions.
* Views: `snapshot_time` (UTC, from the block timestamp) and `axis_price_usd` on the bin and
  band views and the band history (with `track_id`, `split_from`); `distance_pct` on
  positions (signed % from the axis price); `v_latest_axes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UINT256 = sa.String(length=78)  # scanner.store.types.Uint256's storage, frozen
VIEWS = ("v_band_history", "v_latest_positions", "v_latest_bins", "v_latest_bands",
         "v_latest_scans", "v_latest_snapshots")
NEW_VIEWS = ("v_latest_axes", *VIEWS)


def upgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    with op.batch_alter_table("bands") as batch:
        batch.add_column(sa.Column("track_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("split_from", sa.Integer(), nullable=True))
    _link_stored_bands()
    with op.batch_alter_table("bands") as batch:
        batch.alter_column("track_id", existing_type=sa.Integer(), nullable=False)
        batch.create_index("ix_bands_track_id", ["track_id"])
    op.create_table(
        "snapshot_axes",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("axis", sa.String(length=32), nullable=False),
        sa.Column("price_now_8dec", UINT256, nullable=False),
        sa.Column("at_risk_positions", sa.Integer(), nullable=False),
        sa.Column("at_risk_collateral_usd_8dec", UINT256, nullable=False),
        sa.Column("liquidatable_now_positions", sa.Integer(), nullable=False),
        sa.Column("liquidatable_now_collateral_usd_8dec", UINT256, nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"], ondelete="CASCADE",
                                name=op.f("fk_snapshot_axes_snapshot_id_snapshots")),
        sa.PrimaryKeyConstraint("snapshot_id", "axis", name=op.f("pk_snapshot_axes")),
    )
    _fill_snapshot_axes()
    for sql in views():
        op.execute(sql)


def downgrade() -> None:
    for view in NEW_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.drop_table("snapshot_axes")
    with op.batch_alter_table("bands") as batch:
        batch.drop_index("ix_bands_track_id")
        batch.drop_column("split_from")
        batch.drop_column("track_id")
    for sql in _migration("0006_snapshots").views():
        op.execute(sql)


# --- data ---------------------------------------------------------------------------------


def _link_stored_bands() -> None:
    """Each snapshot's bands against its predecessor (same chain and markets), in block order."""
    bind = op.get_bind()
    markets: dict[int, tuple[str, ...]] = {}
    for snapshot_id, key in bind.execute(sa.text("SELECT snapshot_id, market_key FROM scans")):
        markets[snapshot_id] = tuple(sorted((*markets.get(snapshot_id, ()), key)))
    snapshots = bind.execute(sa.text(
        "SELECT id, chain FROM snapshots ORDER BY chain, block, id")).all()
    previous: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for snapshot_id, chain in snapshots:
        bands = [dict(r) for r in bind.execute(sa.text(
            "SELECT id, axis, direction, low_8dec, high_8dec, collateral_usd_8dec FROM bands"
            " WHERE snapshot_id = :s ORDER BY id"), {"s": snapshot_id}).mappings()]
        key = (chain, markets.get(snapshot_id, ()))
        for band, (track, split) in zip(bands, _links(previous.get(key, []), bands),
                                        strict=True):
            band["track_id"] = track or band["id"]
            bind.execute(sa.text("UPDATE bands SET track_id = :t, split_from = :f"
                                 " WHERE id = :i"),
                         {"t": band["track_id"], "f": split, "i": band["id"]})
        previous[key] = bands


def _links(previous: list[dict[str, Any]], new: list[dict[str, Any]]
           ) -> list[tuple[int, int | None]]:
    """scanner.pipeline.band_tracks.link_bands as of this revision (0: a new track)."""
    def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return (a["axis"] == b["axis"] and a["direction"] == b["direction"]
                and int(a["low_8dec"]) <= int(b["high_8dec"])
                and int(b["low_8dec"]) <= int(a["high_8dec"]))

    pairs = sorted(
        ((p, n) for p in range(len(previous)) for n in range(len(new))
         if overlaps(previous[p], new[n])),
        key=lambda pn: (-int(previous[pn[0]]["collateral_usd_8dec"]),
                        -int(new[pn[1]]["collateral_usd_8dec"]), previous[pn[0]]["track_id"],
                        int(new[pn[1]]["low_8dec"])),
    )
    continued: dict[int, int] = {}
    for p, n in pairs:
        if p not in continued.values() and n not in continued:
            continued[n] = p
    links: list[tuple[int, int | None]] = []
    for n in range(len(new)):
        if n in continued:
            links.append((previous[continued[n]]["track_id"], None))
        else:
            parents = [p for p, m in pairs if m == n]
            links.append((0, previous[parents[0]]["track_id"] if parents else None))
    return links


def _fill_snapshot_axes() -> None:
    bind = op.get_bind()
    totals: dict[tuple[int, str], list[int]] = {}
    rows = bind.execute(sa.text(
        "SELECT s.snapshot_id, p.axis, p.status, p.axis_price_now_8dec, p.collateral_usd_8dec"
        " FROM positions p JOIN scans s ON s.id = p.scan_id"))
    for snapshot_id, axis, status, price, collateral in rows:
        t = totals.setdefault((snapshot_id, axis), [int(price), 0, 0, 0, 0])
        if status == "at_risk":
            t[1] += 1
            t[2] += int(collateral)
        elif status == "liquidatable_now":
            t[3] += 1
            t[4] += int(collateral)
    for (snapshot_id, axis), t in sorted(totals.items()):
        bind.execute(sa.text(
            "INSERT INTO snapshot_axes (snapshot_id, axis, price_now_8dec, at_risk_positions,"
            " at_risk_collateral_usd_8dec, liquidatable_now_positions,"
            " liquidatable_now_collateral_usd_8dec) VALUES (:s, :a, :p, :n1, :c1, :n2, :c2)"),
            {"s": snapshot_id, "a": axis, "p": f"{t[0]:078d}", "n1": t[1], "c1": f"{t[2]:078d}",
             "n2": t[3], "c2": f"{t[4]:078d}"})


# --- views --------------------------------------------------------------------------------


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _scaled(column: str, decimals: int, alias: str) -> str:
    if _postgres():
        factor = "0." + "0" * (decimals - 1) + "1"
        exact = f"CAST({column} AS NUMERIC(78, 0)) * {factor}"
        return f"CAST({exact} AS NUMERIC(78, {decimals})) AS {alias}"
    return f"CAST({column} AS REAL) / 1e{decimals} AS {alias}"


def _usd(column: str, alias: str) -> str:
    return _scaled(column, 8, alias)


def _time(column: str) -> str:
    if _postgres():
        return f"(to_timestamp({column}) AT TIME ZONE 'UTC') AS snapshot_time"
    return f"datetime({column}, 'unixepoch') AS snapshot_time"


def _distance_pct(price: str, now: str, alias: str) -> str:
    """(price / now - 1) x 100, signed; NULL without a price."""
    if _postgres():
        ratio = (f"CAST({price} AS NUMERIC(78, 0)) / "
                 f"NULLIF(CAST({now} AS NUMERIC(78, 0)), 0)")
        return f"CAST(({ratio} - 1) * 100 AS NUMERIC(78, 4)) AS {alias}"
    return f"(CAST({price} AS REAL) / NULLIF(CAST({now} AS REAL), 0) - 1) * 100 AS {alias}"


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


def _snapshot_columns() -> str:
    return f"n.chain, n.chain_id, n.block, n.block_timestamp, {_time('n.block_timestamp')}"


def _native(column: str) -> str:
    if _postgres():
        return (f"CAST(CAST({column} AS NUMERIC(78, 0)) / POWER(CAST(10 AS NUMERIC), "
                "p.native_price_decimals) AS NUMERIC(78, 18)) AS liquidation_price_native")
    return (f"CAST({column} AS REAL) / POWER(10.0, p.native_price_decimals)"
            " AS liquidation_price_native")


def _positions_view() -> str:
    human = ",\n    ".join([
        _usd("p.liquidation_price_8dec", "liquidation_price_usd"),
        _usd("p.axis_price_now_8dec", "axis_price_now_usd"),
        _distance_pct("p.liquidation_price_8dec", "p.axis_price_now_8dec", "distance_pct"),
        _scaled("p.health_factor_wad", 18, "health_factor"),
        _usd("p.collateral_usd_8dec", "collateral_usd"),
        _usd("p.debt_usd_8dec", "debt_usd"),
        _usd("p.axis_collateral_usd_8dec", "axis_collateral_usd"),
        _usd("p.seizable_usd_8dec", "seizable_usd"),
        _native("p.liquidation_price_native"),
    ])
    return f"""
CREATE VIEW v_latest_positions AS
SELECT s.snapshot_id, p.scan_id, {_snapshot_columns()}, s.market_key, s.protocol,
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


_AXIS_JOIN = "LEFT JOIN snapshot_axes a ON a.snapshot_id = b.snapshot_id AND a.axis = b.axis"


def _bins_view() -> str:
    return f"""
CREATE VIEW v_latest_bins AS
SELECT b.snapshot_id, {_snapshot_columns()},
    b.axis, {_usd("a.price_now_8dec", "axis_price_usd")}, b.direction, b.bin_index, b.positions,
    {_amount_columns()},
    {_usd("b.cumulative_collateral_usd_8dec", "cumulative_collateral_usd")},
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec, b.debt_usd_8dec, b.seizable_usd_8dec,
    b.cumulative_collateral_usd_8dec
FROM histogram_bins b JOIN v_latest_snapshots n ON n.id = b.snapshot_id
{_AXIS_JOIN}
"""


def _bands_view() -> str:
    return f"""
CREATE VIEW v_latest_bands AS
SELECT b.id AS band_id, b.track_id, b.split_from, b.snapshot_id, {_snapshot_columns()},
    b.axis, {_usd("a.price_now_8dec", "axis_price_usd")}, b.direction, b.rank, b.kind,
    b.positions,
    {_amount_columns()},
    b.share_of_at_risk_bps, b.distance_low_bps, b.distance_high_bps, b.top_accounts,
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec, b.debt_usd_8dec, b.seizable_usd_8dec
FROM bands b JOIN v_latest_snapshots n ON n.id = b.snapshot_id
{_AXIS_JOIN}
"""


def _band_history_view() -> str:
    return f"""
CREATE VIEW v_band_history AS
SELECT b.track_id, b.split_from, b.id AS band_id, b.snapshot_id, {_snapshot_columns()},
    b.axis, {_usd("a.price_now_8dec", "axis_price_usd")}, b.direction, b.rank, b.kind,
    b.positions,
    {_amount_columns()},
    b.share_of_at_risk_bps, b.distance_low_bps, b.distance_high_bps,
    b.low_8dec, b.high_8dec, b.collateral_usd_8dec
FROM bands b JOIN snapshots n ON n.id = b.snapshot_id
{_AXIS_JOIN}
WHERE n.status = 'complete'
"""


def _axes_view() -> str:
    return f"""
CREATE VIEW v_latest_axes AS
SELECT a.snapshot_id, {_snapshot_columns()}, a.axis,
    {_usd("a.price_now_8dec", "price_usd")},
    a.at_risk_positions, {_usd("a.at_risk_collateral_usd_8dec", "at_risk_collateral_usd")},
    a.liquidatable_now_positions,
    {_usd("a.liquidatable_now_collateral_usd_8dec", "liquidatable_now_collateral_usd")}
FROM snapshot_axes a JOIN v_latest_snapshots n ON n.id = a.snapshot_id
"""


def views() -> list[str]:
    return [_LATEST_SNAPSHOTS, _LATEST_SCANS, _positions_view(), _bins_view(), _bands_view(),
            _band_history_view(), _axes_view()]


def _migration(name: str) -> Any:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    if spec is None or spec.loader is None:
        raise RuntimeError(f"migration {name} not found next to {__file__}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""docs/grafana/liqscan-dashboard.json works: every SQL panel runs on a real PostgreSQL database
holding snapshots and returns rows, and every Prometheus query names a metric liqscan exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from scanner.serve import dbmetrics
from scanner.serve.summaries import Summaries
from scanner.store.reads import ApiReads
from scanner.store.repository import Repository
from tests.unit.test_serve_api import _store

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "liqscan-dashboard.json"
# scanner/daemon/metrics.py (the daemon's own registry), served before liqscan_db_* on /metrics
DAEMON_METRICS = {"liqscan_lag_blocks", "liqscan_snapshot_stage_seconds", "liqscan_rpc_requests",
                  "liqscan_rpc_retries", "liqscan_errors"}
# what Grafana substitutes before the query reaches PostgreSQL
VARIABLES = {"$chain": "devnet", "$axis": "ETH",
             "$__unixEpochFilter(block_timestamp)": "block_timestamp BETWEEN 0 AND 4102444800"}


def _targets(kind: str) -> list[dict[str, Any]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t for p in dashboard["panels"] for t in p["targets"]
            if p["datasource"]["uid"] == kind]


def _substitute(query: str) -> str:
    for name, value in VARIABLES.items():
        query = query.replace(name, value)
    assert "$" not in query, f"an unknown Grafana variable in {query}"
    return query


@pytest.mark.parametrize("db_backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_sql_panels_and_variables_run_on_postgresql(repo: Repository) -> None:
    for block in (100, 101):
        _store(repo, block)
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["rawSql"] for t in _targets("${DS_POSTGRES}")]
    queries += [v["query"] for v in dashboard["templating"]["list"]]
    assert len(queries) >= 7
    with repo.engine.connect() as conn:
        for query in queries:
            found = conn.execute(text(_substitute(query))).all()
            assert found, f"no rows: {query}"


def test_prometheus_panels_name_exported_metrics(repo: Repository) -> None:
    _store(repo, 100)
    states = dbmetrics.read_state(repo, Summaries(ApiReads(repo)))
    served = {family.name for family in text_string_to_metric_families(
        dbmetrics.metrics_text(states, 0.0))}
    targets = _targets("${DS_PROMETHEUS}")
    assert targets
    for target in targets:
        names = set(re.findall(r"liqscan_[a-z_]+", target["expr"]))
        assert names, target["expr"]
        for name in names:
            base = re.sub(r"_(total|sum|count|bucket)$", "", name)
            assert base in served | DAEMON_METRICS, f"{name} is not a liqscan metric"

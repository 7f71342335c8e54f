"""The Grafana dashboard shipped in docs/grafana: valid, on its datasource variable, and showing
every metric family /metrics serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.helpers import scrape

pytestmark = pytest.mark.django_db

DASHBOARD = Path(settings.BASE_DIR) / "docs" / "grafana" / "neonhub.json"


def _families(scraped: dict) -> set[str]:
    names = {name for name, _ in scraped if name.startswith("neonhub_")}
    return {re.sub(r"_(total|bucket|count|sum|created)$", "", name) for name in names}


def test_the_dashboard_has_a_panel_for_every_metric_family(client, org):
    from neonhub.core import metrics

    # Every counter and histogram has a sample once counted.
    metrics.run_started(agent="testing", intent="echo")
    metrics.run_finished(
        agent="testing", intent="echo", status="completed", error_code="", duration_ms=1
    )
    metrics.run_retried(agent="testing", intent="echo", error_code="TIMEOUT")
    metrics.connector_request(
        provider="fake", action="send", mode="live", error_code="", seconds=0.1
    )
    board = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = [p for p in board["panels"] if p["type"] != "row"]
    exprs = " ".join(t["expr"] for p in panels for t in p["targets"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
    families = _families(scrape(client))
    assert len(families) >= 12
    # A whole name: neonhub_outbox_open_messages is not found inside ..._by_provider.
    missing = {
        f for f in families if not re.search(rf"\b{f}(_total|_bucket|_sum|_count)?\b", exprs)
    }
    assert not missing
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])

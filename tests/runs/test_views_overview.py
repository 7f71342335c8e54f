from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents import services
from runs import rollups
from runs import views as run_views
from runs.models import RunRollup, RunStatus
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def rollup(
    org,
    *,
    hours_ago=1,
    agent="support",
    status="completed",
    count=1,
    code="",
    connector="",
    cost="0",
    bucket=5,
):
    hour = rollups.hour_of(timezone.now() - timedelta(hours=hours_ago))
    return RunRollup.objects.create(
        organization=org,
        hour=hour,
        agent=agent,
        status=status,
        error_code=code,
        connector=connector,
        count=count,
        duration_total_ms=150 * count,
        cost_total=Decimal(cost),
        **({f"h{bucket:02d}": count} if status == "completed" else {}),
    )


def test_empty_overview_says_charts_fill_in_as_runs_finish(owner_client):
    page = owner_client.get("/overview/").content.decode()
    assert "No finished runs in the last 24 hours" in page and "<svg" not in page
    assert "<title>Overview · NeonHub</title>" in page


def test_overview_shows_runs_finished_through_the_real_pipeline(owner_client, org, run_now):
    for _ in range(3):
        run_now(
            services.run_start,
            organization=org,
            agent="testing",
            intent="echo",
            payload={"text": "hi"},
        )
    run_now(
        services.run_start,
        organization=org,
        agent="testing",
        intent="reject",
        payload={"text": "hi"},
    )
    page = owner_client.get("/overview/").content.decode()
    assert re.search(r'Finished runs</span><span class="value">4<', page)
    assert "75.0%" in page
    assert "CONNECTOR_REJECTED" in page and "<code>example</code>" in page
    assert '<th scope="row"><a href="/?agent=testing">testing</a></th>' in page
    # The chart is an accessible inline SVG with a tooltip per bar.
    assert (
        'role="img"' in page
        and '<title id="runs-chart-svg-title">Finished runs by status</title>' in page
    )
    assert re.search(r"<title>\d\d:00: 3 completed, 1 failed</title>", page)


def test_window_and_agent_filter_come_from_the_url(owner_client, org):
    rollup(org, hours_ago=2, agent="support", count=2)
    rollup(org, hours_ago=3, agent="seo", count=5)
    rollup(org, hours_ago=24 * 5, agent="seo", count=7)
    rollup(org, hours_ago=24 * 20, agent="seo", count=11, status="failed", code="TIMEOUT")
    totals = {}
    for query in ("", "?window=7d", "?window=30d", "?window=30d&agent=seo", "?window=nonsense"):
        page = owner_client.get(f"/overview/{query}").content.decode()
        totals[query] = int(
            re.search(r'Finished runs</span><span class="value">(\d+)<', page).group(1)
        )
    assert totals == {
        "": 7,
        "?window=7d": 14,
        "?window=30d": 25,
        "?window=30d&agent=seo": 23,
        "?window=nonsense": 7,
    }
    page = owner_client.get("/overview/?window=30d&agent=seo").content.decode()
    assert '<option value="seo" selected>' in page and '<option value="support"' in page
    assert '<a href="?window=30d&amp;agent=seo" aria-current="page">30 days</a>' in page
    assert "TIMEOUT" in page


def test_percentiles_and_cost_are_shown_per_agent(owner_client, org):
    rollup(org, agent="seo", count=10, bucket=9, cost="2.5")  # 1.0–1.8 s
    page = owner_client.get("/overview/").content.decode()
    assert "$2.50" in page
    row = re.search(
        r'<th scope="row"><a href="/\?agent=seo">seo</a></th>(.*?)</tr>', page, re.S
    ).group(1)
    assert row.count(" s</span></td>") >= 2 and "100.0%" in row
    assert row.count('class="approx" title="Approximate: estimated from duration buckets') == 2


def test_in_flight_counts_are_capped(owner_client, org, monkeypatch):
    monkeypatch.setattr(run_views, "IN_FLIGHT_CAP", 2)
    AgentRunFactory.create_batch(3, organization=org, status=RunStatus.QUEUED)
    AgentRunFactory(organization=org, status=RunStatus.RUNNING)
    page = owner_client.get("/overview/").content.decode()
    assert '>2+</a> <span class="small muted">queued' in page
    assert '>1</a> <span class="small muted">running' in page


def test_overview_times_use_the_organizations_timezone(owner_client, org):
    org.timezone = "Asia/Kolkata"
    org.save()
    rollup(org)
    page = owner_client.get("/overview/").content.decode()
    assert "in Asia/Kolkata" in page and "IST" in page
    assert re.search(r"<title>\d\d:30: 1 completed</title>", page)


@pytest.mark.parametrize("window", ["24h", "7d", "30d"])
def test_overview_query_count_does_not_grow_with_the_data(
    owner_client, org, window, django_assert_num_queries
):
    rollup(org, count=1)
    cache.clear()
    with CaptureQueriesContext(connection) as small:
        assert owner_client.get(f"/overview/?window={window}").status_code == 200
    for hours in range(2, 200, 3):
        for agent in ("support", "seo", "email"):
            rollup(org, hours_ago=hours, agent=agent, count=hours)
            rollup(
                org,
                hours_ago=hours,
                agent=agent,
                status="failed",
                code="TIMEOUT",
                connector="reddit",
            )
    AgentRunFactory.create_batch(20, organization=org, status=RunStatus.QUEUED)
    cache.clear()  # the first request of the hour: past hours are summed
    with django_assert_num_queries(len(small.captured_queries)):
        assert owner_client.get(f"/overview/?window={window}").status_code == 200
    # Later requests in the same hour read only the two live hours.
    with django_assert_num_queries(len(small.captured_queries) - 5):
        assert owner_client.get(f"/overview/?window={window}").status_code == 200

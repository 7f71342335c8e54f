from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from runs.models import AgentRun, RunStatus
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def ids_on(page: str) -> set[str]:
    return set(re.findall(r'id="run-([0-9a-f-]{36})"', page))


def test_first_visit_without_runs_explains_how_to_start(owner_client):
    page = owner_client.get("/").content.decode()
    assert "No runs yet" in page and 'href="/runs/new/"' in page
    assert "<title>Runs · NeonHub</title>" in page


def test_each_filter_narrows_the_list_and_stays_in_the_url(owner_client, org):
    a = AgentRunFactory(
        organization=org,
        agent="support",
        intent="triage",
        status=RunStatus.COMPLETED,
        trigger="api",
    )
    b = AgentRunFactory(
        organization=org, agent="seo", intent="seo-audit", status=RunStatus.FAILED, trigger="ui"
    )
    c = AgentRunFactory(
        organization=org,
        agent="support",
        intent="macro-suggest",
        status=RunStatus.QUEUED,
        trigger="schedule",
    )
    cases = {
        "agent=support": {a, c},
        "intent=seo-audit": {b},
        "status=failed": {b},
        "trigger=schedule": {c},
        f"run_id={a.id}": {a},
        "agent=support&status=queued": {c},
    }
    for query, expected in cases.items():
        resp = owner_client.get(f"/?{query}")
        assert resp.status_code == 200
        assert ids_on(resp.content.decode()) == {str(r.id) for r in expected}, query
    page = owner_client.get("/?agent=support&status=queued").content.decode()
    assert 'value="support"' in page and '<option value="queued" selected>' in page
    assert "Clear" in page


def test_date_range_is_whole_days_in_the_organizations_timezone(owner_client, org):
    org.timezone = "America/New_York"
    org.save()
    # 2025-05-02 01:30 UTC is still May 1st in New York.
    late_may_1 = AgentRunFactory(
        organization=org, created_at=datetime(2025, 5, 2, 1, 30, tzinfo=UTC)
    )
    may_2 = AgentRunFactory(organization=org, created_at=datetime(2025, 5, 2, 14, 0, tzinfo=UTC))
    AgentRunFactory(organization=org, created_at=datetime(2025, 5, 4, 14, 0, tzinfo=UTC))
    page = owner_client.get("/?created_from=2025-05-01&created_to=2025-05-01").content.decode()
    assert ids_on(page) == {str(late_may_1.id)}
    page = owner_client.get("/?created_from=2025-05-02&created_to=2025-05-03").content.decode()
    assert ids_on(page) == {str(may_2.id)}


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("run_id=abc", "run_id", "Enter at least 4 characters of the run id"),
        ("run_id=zz12xx", "run_id", "only the digits 0-9 and the letters a-f"),
        ("agent=nobody", "agent", "No agent named nobody"),
        ("agent=seo&intent=triage", "intent", "seo has no intent"),
        ("created_from=2025-05-03&created_to=2025-05-01", "created_to", "before the start date"),
        ("status=exploded", "status", "Select a valid choice"),
        ("created_from=yesterday", "created_from", "Enter a valid date"),
    ],
)
def test_bad_filters_answer_422_naming_the_field(owner_client, org, query, field, message):
    AgentRunFactory(organization=org)
    resp = owner_client.get(f"/?{query}")
    assert resp.status_code == 422
    page = resp.content.decode()
    assert f'id="id_{field}-error"' in page or f'id="id_{field}_error"' in page or message in page
    assert message in page and "No runs match these filters" in page


def test_no_match_is_not_mistaken_for_no_runs(owner_client, org):
    AgentRunFactory(organization=org, agent="support")
    page = owner_client.get("/?agent=seo").content.decode()
    assert "No runs match these filters" in page and "No runs yet" not in page


def test_keyset_pages_keep_the_filters_and_reach_every_run(owner_client, org):
    start = timezone.now() - timedelta(hours=2)
    runs = [
        AgentRunFactory(organization=org, agent="support", created_at=start + timedelta(seconds=i))
        for i in range(55)
    ]
    AgentRunFactory(organization=org, agent="seo")
    first = owner_client.get("/?agent=support").content.decode()
    assert len(ids_on(first)) == 50 and "Newest" not in first
    link = re.search(r'href="\?([^"]+)"[^>]*>Older runs', first).group(1).replace("&amp;", "&")
    assert "agent=support" in link and "cursor=" in link
    second = owner_client.get(f"/?{link}").content.decode()
    assert ids_on(first) | ids_on(second) == {str(r.id) for r in runs}
    assert "Older runs" not in second and "Newest" in second
    assert re.search(r'href="\?agent=support"[^>]*>← Newest', second)


def test_only_queued_and_running_rows_poll(owner_client, org):
    running = AgentRunFactory(organization=org, status=RunStatus.RUNNING)
    queued = AgentRunFactory(organization=org, status=RunStatus.QUEUED)
    done = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    page = owner_client.get("/").content.decode()
    for run in (running, queued):
        row = re.search(rf'<tr id="run-{run.id}"[^>]*>', page).group(0)
        assert f'hx-get="/runs/{run.id}/row/"' in row and 'hx-trigger="every 2s"' in row
    row = re.search(rf'<tr id="run-{done.id}"[^>]*>', page).group(0)
    assert "hx-get" not in row


def test_row_fragment_stops_polling_once_the_run_finished(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING)
    fragment = owner_client.get(
        f"/runs/{run.id}/row/", headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.strip().startswith(f'<tr id="run-{run.id}"') and "every 2s" in fragment
    AgentRun.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED, duration_ms=1234)
    fragment = owner_client.get(f"/runs/{run.id}/row/").content.decode()
    assert (
        "<html" not in fragment
        and "hx-get" not in fragment
        and "completed" in fragment
        and "1.2 s" in fragment
    )


def test_row_fragment_of_an_unknown_run_is_404(owner_client, org, other_org):
    assert owner_client.get(f"/runs/{uuid.uuid4()}/row/").status_code == 404
    assert (
        owner_client.get(f"/runs/{AgentRunFactory(organization=other_org).id}/row/").status_code
        == 404
    )


def test_times_are_relative_with_the_exact_local_time_on_hover(owner_client, org):
    org.timezone = "Asia/Tokyo"
    org.save()
    AgentRunFactory(organization=org, created_at=timezone.now() - timedelta(minutes=5))
    page = owner_client.get("/").content.decode()
    assert re.search(
        r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d JST">5\xa0minutes ago</time>',
        page,
    )


def test_run_list_makes_the_same_number_of_queries_for_5_or_50_runs(
    owner_client, org, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    AgentRunFactory.create_batch(5, organization=org, status=RunStatus.RUNNING)
    with CaptureQueriesContext(connection) as five:
        assert owner_client.get("/?agent=support").status_code == 200
    AgentRunFactory.create_batch(45, organization=org, status=RunStatus.COMPLETED)
    with django_assert_num_queries(len(five.captured_queries)):
        assert owner_client.get("/?agent=support").status_code == 200

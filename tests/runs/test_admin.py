from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.models import AgentRun, RunRollup, RunStatus, RunStep
from tests.factories import AgentRunFactory, OrganizationFactory, UserFactory
from tests.helpers import assert_same_queries_for_5_and_50

pytestmark = pytest.mark.django_db


def test_run_changelist_queries_do_not_grow_with_rows(admin_client, django_assert_num_queries):
    org = OrganizationFactory()
    RunRollup.objects.create(
        organization=org, hour="2025-01-01T00:00Z", agent="support", status="completed", count=1
    )

    def make(n):
        AgentRunFactory.create_batch(n, organization=org, status=RunStatus.FAILED)

    resp = assert_same_queries_for_5_and_50(
        admin_client,
        "/admin/runs/agentrun/?status__exact=failed&agent=support",
        make,
        django_assert_num_queries,
    )
    page = resp.content.decode()
    assert (
        "Retry selected failed or cancelled runs" in page
        and "Cancel selected queued or running runs" in page
    )
    assert "?agent=support" in page  # the agent filter, from the rollups


def test_the_run_list_counts_only_up_to_its_cap(admin_client, monkeypatch):
    from runs.admin import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    org = OrganizationFactory()
    AgentRunFactory.create_batch(3, organization=org, status=RunStatus.FAILED)
    page = admin_client.get("/admin/runs/agentrun/?status__exact=failed").content.decode()
    assert "3 agent runs" in page and "more than" not in page
    AgentRunFactory.create_batch(2, organization=org, status=RunStatus.FAILED)
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get("/admin/runs/agentrun/?status__exact=failed").content.decode()
    assert "more than 3 agent runs" in page
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 4" in sql for sql in counts)


def test_run_is_read_only_with_steps_inline(admin_client):
    run = AgentRunFactory(
        organization=OrganizationFactory(), status=RunStatus.FAILED, error_code="TIMEOUT"
    )
    RunStep.objects.create(
        run=run, seq=1, name="call the provider", status="failed", error="timed out"
    )
    page = admin_client.get(f"/admin/runs/agentrun/{run.pk}/change/").content.decode()
    assert "call the provider" in page and "timed out" in page and 'name="_save"' not in page
    resp = admin_client.post(f"/admin/runs/agentrun/{run.pk}/change/", {"status": "completed"})
    assert resp.status_code == 403
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert admin_client.get("/admin/runs/agentrun/add/").status_code == 403
    assert admin_client.get(f"/admin/runs/agentrun/{run.pk}/delete/").status_code == 403


def test_search_by_id_finds_one_run_and_anything_else_none(admin_client):
    org = OrganizationFactory()
    wanted, other = AgentRunFactory(organization=org), AgentRunFactory(organization=org)
    page = admin_client.get(f"/admin/runs/agentrun/?q={wanted.id}").content.decode()
    assert str(wanted.id) in page and str(other.id) not in page
    page = admin_client.get("/admin/runs/agentrun/?q=not-an-id").content.decode()
    assert str(wanted.id) not in page and str(other.id) not in page
    assert str(other.id) in admin_client.get("/admin/runs/agentrun/?q=").content.decode()


def test_filters_by_organization_status_trigger_and_date(admin_client):
    org, other = OrganizationFactory(), OrganizationFactory()
    mine = AgentRunFactory(organization=org, status=RunStatus.FAILED, trigger="schedule")
    theirs = AgentRunFactory(organization=other, status=RunStatus.COMPLETED, trigger="api")
    page = admin_client.get(
        f"/admin/runs/agentrun/?organization__id__exact={org.pk}&status__exact=failed"
        "&trigger__exact=schedule&created_at__gte=2000-01-01+00%3A00%3A00%2B00%3A00"
    ).content.decode()
    assert str(mine.id) in page and str(theirs.id) not in page


def test_retry_action_starts_linked_runs_and_reports_refusals(admin_client, run_now):
    org = OrganizationFactory()
    failed = AgentRunFactory(
        organization=org,
        agent="testing",
        intent="echo",
        input={"text": "again"},
        status=RunStatus.FAILED,
    )
    done = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    resp = run_now(
        admin_client.post,
        "/admin/runs/agentrun/",
        {"action": "retry_runs", "_selected_action": [failed.pk, done.pk]},
        follow=True,
    )
    page = resp.content.decode()
    assert (
        "1 run(s) retried as new runs." in page
        and "Only failed or cancelled runs can be retried" in page
    )
    child = AgentRun.objects.get(parent=failed)
    assert child.lineage_id == failed.id  # the admin's Retry continues the lineage too
    assert (
        child.trigger == "retry"
        and child.status == RunStatus.COMPLETED
        and child.output == {"text": "again"}
    )


def test_cancel_action_cancels_queued_runs(admin_client):
    org = OrganizationFactory()
    queued = AgentRunFactory(organization=org)
    done = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    page = admin_client.post(
        "/admin/runs/agentrun/",
        {"action": "cancel_runs", "_selected_action": [queued.pk, done.pk]},
        follow=True,
    )
    queued.refresh_from_db()
    assert queued.status == RunStatus.CANCELLED
    assert "1 run(s) cancelled or asked to stop." in page.content.decode()


def test_staff_who_may_only_view_runs_get_no_actions(client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_agentrun"))
    client.force_login(staff)
    run = AgentRunFactory(organization=OrganizationFactory(), status=RunStatus.FAILED)
    page = client.get("/admin/runs/agentrun/").content.decode()
    assert str(run.id) in page and "retry_runs" not in page
    resp = client.post(
        "/admin/runs/agentrun/", {"action": "retry_runs", "_selected_action": [run.pk]}
    )
    assert not AgentRun.objects.filter(parent=run).exists()
    assert resp.status_code in (200, 302)


def test_the_run_list_filters_by_origin(admin_client):
    import uuid

    org = OrganizationFactory()
    fed = AgentRunFactory(organization=org, trigger="batch", batch_id=uuid.uuid4())
    scheduled = AgentRunFactory(organization=org, trigger="schedule", schedule_id=uuid.uuid4())
    hooked = AgentRunFactory(organization=org, trigger="webhook", delivery_id=uuid.uuid4())
    retry = AgentRunFactory(organization=org, trigger="retry", parent=fed)
    direct = AgentRunFactory(organization=org)
    expected = {
        "batch": fed,
        "schedule": scheduled,
        "delivery": hooked,
        "parent": retry,
        "none": direct,
    }
    for kind, run in expected.items():
        resp = admin_client.get("/admin/runs/agentrun/", {"origin": kind})
        assert list(resp.context["cl"].result_list) == [run], kind
    assert "?origin=delivery" in resp.content.decode()


def test_a_held_run_shows_its_approval_read_only(admin_client):
    from tests.factories import RunApprovalFactory

    approval = RunApprovalFactory(note="Checked", decided_by_name="Ann Admin")
    page = admin_client.get(f"/admin/runs/agentrun/{approval.run_id}/change/").content.decode()
    assert "Ann Admin" in page and "Checked" in page and "Email sends need approval" in page
    assert 'name="approval-0-note"' not in page  # read only: no input to change it

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from neonhub.core.models import ApiKey, Membership, Role
from neonhub.core.services import api_key_create
from runs.models import AgentRun, RunRollup, RunStatus, RunStep
from tests.factories import AgentRunFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def assert_same_queries_for_5_and_50(client, url, make_rows, django_assert_num_queries):
    make_rows(5)
    with CaptureQueriesContext(connection) as five:
        resp = client.get(url)
        assert resp.status_code == 200
    make_rows(45)
    with django_assert_num_queries(len(five.captured_queries)):
        resp = client.get(url)
        assert resp.status_code == 200
    return resp


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


def test_organization_changelist_queries_do_not_grow_with_rows(
    admin_client, django_assert_num_queries
):
    def make(n):
        for org in OrganizationFactory.create_batch(n):
            MembershipFactory.create_batch(2, organization=org)

    resp = assert_same_queries_for_5_and_50(
        admin_client, "/admin/core/organization/", make, django_assert_num_queries
    )
    assert '<td class="field-member_count">2</td>' in resp.content.decode()


def test_api_key_and_membership_changelists_do_not_grow_with_rows(
    admin_client, django_assert_num_queries
):
    org = OrganizationFactory()

    def keys(n):
        for i in range(n):
            api_key_create(organization=org, name=f"key {uuid.uuid4()}", role=Role.MEMBER)

    assert_same_queries_for_5_and_50(
        admin_client, "/admin/core/apikey/", keys, django_assert_num_queries
    )

    def members(n):
        MembershipFactory.create_batch(n, organization=org)

    assert_same_queries_for_5_and_50(
        admin_client, "/admin/core/membership/", members, django_assert_num_queries
    )


def test_organization_page_has_members_and_keys_inline_without_secrets(admin_client):
    org = OrganizationFactory()
    MembershipFactory(organization=org, role=Role.VIEWER)
    created = api_key_create(organization=org, name="ci key", role=Role.MEMBER)
    page = admin_client.get(f"/admin/core/organization/{org.pk}/change/").content.decode()
    assert "ci key" in page and created.api_key.prefix in page
    assert created.token not in page and created.api_key.hashed_secret not in page
    assert "Memberships" in page or "memberships" in page


def test_revoke_action(admin_client):
    org = OrganizationFactory()
    key = api_key_create(organization=org, name="old", role=Role.MEMBER).api_key
    resp = admin_client.post(
        "/admin/core/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    key.refresh_from_db()
    assert key.revoked_at is not None and "1 key(s) revoked." in resp.content.decode()
    assert ApiKey.objects.count() == 1


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


def test_membership_admin_lists_users_and_roles(admin_client):
    member = MembershipFactory(role=Role.ADMIN)
    page = admin_client.get("/admin/core/membership/").content.decode()
    assert member.user.username in page and Membership.objects.count() == 1


def test_connector_changelists_do_not_grow_with_rows(admin_client, django_assert_num_queries):
    from connectors.models import OutboundMessage
    from connectors.services import connector_create, suppression_add

    org = OrganizationFactory()

    def connectors(n):
        for _ in range(n):
            connector_create(
                organization=org, provider="fake", name=f"c-{uuid.uuid4()}", mode="sandbox"
            )

    resp = assert_same_queries_for_5_and_50(
        admin_client,
        "/admin/connectors/connector/?health=healthy",
        connectors,
        django_assert_num_queries,
    )
    assert "sandbox" in resp.content.decode()

    def outbox(n):
        for _ in range(n):
            OutboundMessage.objects.create(
                organization=org,
                provider="fake",
                action="send",
                idempotency_key=str(uuid.uuid4()),
                status="sent",
            )

    assert_same_queries_for_5_and_50(
        admin_client, "/admin/connectors/outboundmessage/", outbox, django_assert_num_queries
    )

    def suppressions(n):
        for _ in range(n):
            suppression_add(
                organization=org,
                channel="email",
                address=f"{uuid.uuid4().hex[:10]}@example.com",
                reason="test",
                source="staff",
            )

    assert_same_queries_for_5_and_50(
        admin_client, "/admin/connectors/suppression/", suppressions, django_assert_num_queries
    )

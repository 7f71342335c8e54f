from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from agents import services
from neonhub.core.models import Role
from runs.models import RunStatus, RunStep
from tests.factories import AgentRunFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_failed_run_shows_error_code_message_and_context(owner_client, org, run_now):
    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="testing",
        intent="reject",
        payload={"text": "x"},
    )
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert "<code>CONNECTOR_REJECTED</code>" in page and "Provider refused the post" in page
    assert "<dt>provider_error_code</dt><dd><code>E100</code></dd>" in page
    assert "<dt>http_status</dt><dd><code>400</code></dd>" in page
    assert "<dt>step</dt><dd><code>call provider</code></dd>" in page
    # The stack (server paths) is for staff only.
    assert "Stack trace" not in page and "Traceback" not in page and ".py" not in page
    assert "call provider" in page and "<code>example.post</code>" in page and "HTTP 400" in page
    # A rejected post would be rejected again: no Retry, but the reason and the other ways on.
    assert f'action="/runs/{run.id}/retry/"' not in page and "Cancel run" not in page
    assert 'id="retry-reason"' in page and "Edit and run again" in page
    assert f'href="/runs/new/?duplicate={run.id}" id="run-duplicate"' in page
    assert f"<title>Run {str(run.id)[:8]} · testing/reject · NeonHub</title>" in page


def test_staff_see_the_stack_of_a_failed_run(client, org, run_now):
    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="testing",
        intent="reject",
        payload={"text": "x"},
    )
    staff = MembershipFactory(organization=org, role=Role.MEMBER).user
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "<summary>Stack trace</summary>" in page and "Traceback" in page


def test_input_and_output_are_pretty_printed(owner_client, org, run_now):
    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="testing",
        intent="echo",
        payload={"text": "héllo <b>"},
    )
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert "{\n  &quot;text&quot;: &quot;héllo &lt;b&gt;&quot;\n}" in page
    assert "Output" in page and "Metrics" in page
    assert '<div id="run-body" data-status="completed">' in page  # a finished run does not poll


def test_timeline_draws_steps_to_scale(owner_client, org):
    start = timezone.now() - timedelta(seconds=10)
    run = AgentRunFactory(
        organization=org,
        status=RunStatus.COMPLETED,
        started_at=start,
        finished_at=start + timedelta(seconds=4),
        duration_ms=4000,
        attempt=1,
    )
    RunStep.objects.create(
        run=run,
        seq=1,
        name="fetch",
        started_at=start,
        finished_at=start + timedelta(seconds=1),
        duration_ms=1000,
        status="completed",
    )
    RunStep.objects.create(
        run=run,
        seq=2,
        name="write",
        kind="call",
        provider="reddit",
        action="submit_post",
        started_at=start + timedelta(seconds=2),
        finished_at=start + timedelta(seconds=4),
        duration_ms=2000,
        status="completed",
        detail={"sandbox": True},
    )
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    spans = re.findall(
        r'class="span kind-(\w+)" style="margin-left:([\d.]+)%;width:([\d.]+)%"', page
    )
    assert spans == [("step", "0.00", "25.00"), ("call", "50.00", "50.00")]
    # The timeline has its own scale; the one duration shown is the run's (no "over 4.0 s").
    assert "over 4.0 s" not in page and '<span class="badge sandbox">sandbox</span>' in page


def test_a_running_step_reaches_now(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING, started_at=timezone.now())
    RunStep.objects.create(
        run=run, seq=1, name="thinking", started_at=timezone.now() - timedelta(seconds=2)
    )
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert re.search(r"margin-left:0.00%;width:100.00%", page)
    assert 'hx-trigger="every 1s"' in page and "Cancel run" in page and "/retry/" not in page


def test_run_without_steps_says_so(owner_client, org):
    queued = AgentRunFactory(organization=org)
    assert "No steps yet" in owner_client.get(f"/runs/{queued.id}/").content.decode()
    done = AgentRunFactory(organization=org, status=RunStatus.CANCELLED)
    assert "This run recorded no steps" in owner_client.get(f"/runs/{done.id}/").content.decode()


def test_retry_links_both_ways_with_cost_and_attempts(owner_client, org):
    parent = AgentRunFactory(
        organization=org, status=RunStatus.FAILED, cost=Decimal("0.0123"), attempt=3
    )
    child = AgentRunFactory(organization=org, parent=parent, trigger="retry")
    page = owner_client.get(f"/runs/{parent.id}/").content.decode()
    assert f'href="/runs/{child.id}/"' in page and "Retried as" in page
    assert "$0.0123" in page and "3 of 3" in page
    page = owner_client.get(f"/runs/{child.id}/").content.decode()
    assert f'href="/runs/{parent.id}/"' in page and "Retry of" in page


def test_the_page_says_where_the_run_came_from_with_a_link(owner_client, org):
    batch_id, schedule_id = uuid.uuid4(), uuid.uuid4()
    fed = AgentRunFactory(organization=org, trigger="batch", batch_id=batch_id)
    page = owner_client.get(f"/runs/{fed.id}/").content.decode()
    assert "From batch" in page and f'href="/batches/{batch_id}/"' in page
    scheduled = AgentRunFactory(organization=org, trigger="schedule", schedule_id=schedule_id)
    page = owner_client.get(f"/runs/{scheduled.id}/").content.decode()
    assert "From schedule" in page and f'href="/schedules/#schedule-{schedule_id}"' in page
    hooked = AgentRunFactory(organization=org, trigger="webhook", delivery_id=uuid.uuid4())
    page = owner_client.get(f"/runs/{hooked.id}/").content.decode()
    assert "From webhook" in page and 'href="/triggers/"' in page
    publish = AgentRunFactory(organization=org, trigger="schedule", parent=fed)
    page = owner_client.get(f"/runs/{publish.id}/").content.decode()
    assert "Scheduled by run" in page and "Retry of" not in page
    direct = AgentRunFactory(organization=org)
    assert 'id="run-origin"' not in owner_client.get(f"/runs/{direct.id}/").content.decode()


def test_queued_retry_shows_the_last_attempts_error_and_next_attempt(owner_client, org):
    run = AgentRunFactory(
        organization=org,
        status=RunStatus.QUEUED,
        error_code="CONNECTOR_UNAVAILABLE",
        error_message="503",
        next_attempt_at=timezone.now() + timedelta(minutes=2),
        attempt=1,
    )
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert "Last attempt failed:" in page and "next attempt" in page


def test_cancel_requested_is_visible_and_hides_the_button(owner_client, org):
    run = AgentRunFactory(
        organization=org, status=RunStatus.RUNNING, cancel_requested_at=timezone.now()
    )
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert "Cancel requested" in page and "Cancel run" not in page


def test_htmx_poll_gets_only_the_run_body(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING)
    resp = owner_client.get(f"/runs/{run.id}/", headers={"HX-Request": "true"})
    body = resp.content.decode()
    assert "<html" not in body and body.strip().startswith('<div id="run-body"')


def _poll_version(body: str) -> str:
    return re.search(r'hx-get="/runs/[0-9a-f-]+/\?v=([0-9a-f]+)"', body).group(1)


def test_a_poll_that_finds_nothing_changed_swaps_nothing(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING, started_at=timezone.now())
    version = _poll_version(owner_client.get(f"/runs/{run.id}/").content.decode())
    poll = owner_client.get(f"/runs/{run.id}/?v={version}", headers={"HX-Request": "true"})
    assert poll.status_code == 204 and poll.content == b""
    # A full page load always renders, whatever it is given.
    assert owner_client.get(f"/runs/{run.id}/?v={version}").status_code == 200


def test_a_poll_after_a_change_gets_the_new_body_and_version(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING, started_at=timezone.now())
    version = _poll_version(owner_client.get(f"/runs/{run.id}/").content.decode())
    step = RunStep.objects.create(
        run=run, seq=1, name="fetch", status="completed", finished_at=timezone.now(), duration_ms=5
    )
    poll = owner_client.get(f"/runs/{run.id}/?v={version}", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "fetch" in poll.content.decode()
    newer = _poll_version(poll.content.decode())
    assert newer != version
    RunStep.objects.filter(pk=step.pk).update(status="failed")
    again = owner_client.get(f"/runs/{run.id}/?v={newer}", headers={"HX-Request": "true"})
    assert again.status_code == 200 and _poll_version(again.content.decode()) != newer


def test_focusable_parts_of_the_run_body_have_ids_for_htmx_to_refocus(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING, started_at=timezone.now())
    body = owner_client.get(f"/runs/{run.id}/", headers={"HX-Request": "true"}).content.decode()
    assert 'id="run-cancel"' in body and 'id="run-input"' in body


def test_unknown_and_foreign_runs_are_404(owner_client, other_org):
    assert owner_client.get(f"/runs/{uuid.uuid4()}/").status_code == 404
    assert (
        owner_client.get(f"/runs/{AgentRunFactory(organization=other_org).id}/").status_code == 404
    )


def test_detail_page_query_count_does_not_grow_with_steps(
    owner_client, org, django_assert_max_num_queries
):
    run = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    for seq in range(1, 41):
        RunStep.objects.create(
            run=run,
            seq=seq,
            name=f"step {seq}",
            status="completed",
            duration_ms=5,
            finished_at=timezone.now(),
        )
    with django_assert_max_num_queries(8):
        assert owner_client.get(f"/runs/{run.id}/").status_code == 200

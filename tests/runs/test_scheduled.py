"""A scheduled run (queued for a chosen time still to come) is "Scheduled for …": not a retry,
not in flight, and the worker's claim leaves it alone until its time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents import executor
from runs import selectors, services
from runs.models import AgentRun, RunStatus
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def scheduled(org, *, hours=5, **fields):
    return AgentRunFactory(
        organization=org, next_attempt_at=timezone.now() + timedelta(hours=hours), **fields
    )


def test_is_scheduled_and_the_queryset_agree(org):
    chosen = scheduled(org)
    back_off = scheduled(org, attempt=1)  # a retry waiting: attempt > 0
    due = scheduled(org, hours=-1)  # its time has come: waiting for a worker now
    now_run = AgentRunFactory(organization=org)
    running = scheduled(org, status=RunStatus.RUNNING)
    assert [r.is_scheduled for r in (chosen, back_off, due, now_run, running)] == [
        True,
        False,
        False,
        False,
        False,
    ]
    assert list(AgentRun.objects.scheduled().values_list("id", flat=True)) == [chosen.id]
    assert chosen.id not in AgentRun.objects.not_scheduled().values_list("id", flat=True)
    assert AgentRun.objects.not_scheduled().count() == 4
    assert chosen.scheduled_for == chosen.next_attempt_at and back_off.scheduled_for is None


def test_the_claim_ignores_a_delivery_before_the_runs_time(org):
    run = scheduled(org, hours=2)
    assert services.run_claim(run_id=run.id) is None
    executor.execute_run(run.id)  # the task run_start sent at once, delivered early
    run.refresh_from_db()
    assert run.status == "queued" and run.attempt == 0 and run.started_at is None
    AgentRun.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now())
    assert services.run_claim(run_id=run.id) is not None


def test_reschedule_changes_only_a_run_still_waiting_for_its_time(org):
    run = scheduled(org)
    at = timezone.now() + timedelta(days=1)
    assert services.run_reschedule(run=run, at=at) is True
    assert AgentRun.objects.get(pk=run.pk).next_attempt_at == at
    claimed = scheduled(org, hours=-1)
    assert services.run_claim(run_id=claimed.id) is not None
    assert services.run_reschedule(run=claimed, at=at) is False
    assert AgentRun.objects.get(pk=claimed.pk).status == "running"


def test_the_overview_does_not_count_scheduled_runs_in_flight(owner_client, org):
    scheduled(org)
    scheduled(org, hours=30)
    scheduled(org, attempt=1)  # a retry's back-off is still queued
    AgentRunFactory(organization=org)
    page = owner_client.get("/overview/").content.decode()
    assert '>2</a> <span class="small muted">queued' in page
    assert '>2</a> <span class="small muted">scheduled' in page
    assert 'href="/calendar/" id="overview-scheduled"' in page


def test_stats_count_scheduled_runs_apart(org):
    scheduled(org)
    AgentRunFactory(organization=org)
    totals = selectors.run_stats(organization=org, window_hours=24)["totals"]
    assert totals["queued"] == 1 and totals["scheduled"] == 1


def test_the_run_page_says_scheduled_for_and_scheduled_by(owner_client, org):
    org.timezone = "Europe/Berlin"
    org.save()
    parent = AgentRunFactory(organization=org, agent="social", intent="publish", status="completed")
    child = AgentRunFactory(
        organization=org,
        agent="social",
        intent="publish",
        trigger="schedule",
        parent=parent,
        next_attempt_at=timezone.now() + timedelta(days=1),
    )
    local = timezone.localtime(child.next_attempt_at, org.tz)
    page = owner_client.get(f"/runs/{child.id}/").content.decode()
    assert f"Scheduled for {local:%a %-d %b %Y, %H:%M} CET" in page
    assert "Scheduled by run" in page and "Retry of" not in page
    assert "next attempt" not in page
    page = owner_client.get(f"/runs/{parent.id}/").content.decode()
    assert "Scheduled as" in page and "Retried as" not in page
    assert f"scheduled for {local:%a %-d %b %Y, %H:%M}" in page


def test_the_run_list_row_says_scheduled_for(owner_client, org):
    run = scheduled(org, hours=3)
    retry = scheduled(org, attempt=1, hours=1)
    page = owner_client.get("/").content.decode()
    row = page[page.index(f'id="run-{run.id}"') :].split("</tr>")[0]
    assert "Scheduled for" in row and 'hx-trigger="every 60s"' in row
    row = page[page.index(f'id="run-{retry.id}"') :].split("</tr>")[0]
    assert "Scheduled for" not in row and "status-queued" in row

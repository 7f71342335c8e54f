"""GET /api/v1/calendar and POST /api/v1/runs/{id}/reschedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import AgentRun, RunStatus
from tests.agents.automation.test_calendar import scheduled_publish
from tests.factories import AgentRunFactory, RecurringScheduleFactory

pytestmark = pytest.mark.django_db


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_the_calendar_lists_publishes_runs_and_schedule_times(api, org):
    publish = scheduled_publish(org, timezone.now() + timedelta(hours=5))
    schedule = RecurringScheduleFactory(organization=org, name="Digest", cron="0 9 * * *")
    resp = api.get("/calendar", {"end": iso(timezone.now() + timedelta(days=2))})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    kinds = {(item["kind"], item["run_id"] or item["schedule_id"]) for item in body["items"]}
    assert ("publish", str(publish.id)) in kinds and ("schedule", str(schedule.id)) in kinds
    item = next(i for i in body["items"] if i["run_id"] == str(publish.id))
    assert item["channels"] == ["facebook_page", "reddit"]
    assert item["agent"] == "social" and item["intent"] == "publish"
    assert item["title"] == "Winter sale" and item["status"] == "scheduled"
    assert item["page"] == f"/runs/{publish.id}/"
    assert body["capped_schedules"] == [] and body["runs_capped"] is False


def test_the_calendar_filters_by_channel_and_keeps_to_the_organization(api, org, other_org):
    scheduled_publish(org, timezone.now() + timedelta(hours=1), platforms=["instagram"])
    youtube = scheduled_publish(org, timezone.now() + timedelta(hours=2), platforms=["youtube"])
    scheduled_publish(other_org, timezone.now() + timedelta(hours=3), platforms=["youtube"])
    body = api.get("/calendar", {"channel": "youtube"}).json()
    assert [i["run_id"] for i in body["items"]] == [str(youtube.id)]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"channel": "fax"}, "channel"),
        ({"start": "2026-12-08T00:00:00"}, "start"),
        ({"start": "2026-12-08T00:00:00Z", "end": "2026-12-07T00:00:00Z"}, "end"),
        ({"start": "2026-12-08T00:00:00Z", "end": "2027-03-08T00:00:00Z"}, "end"),
        ({"start": "yesterday"}, "start"),
        ({"start": "9999-12-31T00:00:00Z"}, "start"),
    ],
)
def test_bad_calendar_queries_are_422_naming_the_field(api, params, field):
    resp = api.get("/calendar", params)
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


def test_reschedule_answers_the_run_with_scheduled_for(api, org):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=1))
    at = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    resp = api.post(f"/runs/{run.id}/reschedule", {"at": iso(at)})
    assert resp.status_code == 200, resp.content
    assert resp.json()["scheduled_for"] == iso(at)
    assert AgentRun.objects.get(pk=run.pk).next_attempt_at == at


@pytest.mark.parametrize("at", ["2020-01-01T09:00:00Z", "2030-01-01T09:00:00", "soon", None])
def test_reschedule_with_a_bad_time_is_422_naming_at(api, org, at):
    run = scheduled_publish(org, timezone.now() + timedelta(hours=1))
    resp = api.post(f"/runs/{run.id}/reschedule", {"at": at} if at is not None else {})
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["at"]


def test_reschedule_of_a_run_that_is_not_scheduled_is_409(api, org):
    at = {"at": iso(timezone.now() + timedelta(days=1))}
    started = scheduled_publish(org, timezone.now() + timedelta(hours=1))
    AgentRun.objects.filter(pk=started.pk).update(
        status=RunStatus.RUNNING, attempt=1, started_at=timezone.now()
    )
    assert api.post(f"/runs/{started.id}/reschedule", at).status_code == 409
    queued_now = AgentRunFactory(organization=org)
    assert api.post(f"/runs/{queued_now.id}/reschedule", at).status_code == 409
    done = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    assert api.post(f"/runs/{done.id}/reschedule", at).status_code == 409


def test_reschedule_of_another_organizations_run_is_404_and_a_viewer_403(
    api, viewer_api, org, other_org
):
    at = {"at": iso(timezone.now() + timedelta(days=1))}
    foreign = scheduled_publish(other_org, timezone.now() + timedelta(hours=1))
    assert api.post(f"/runs/{foreign.id}/reschedule", at).status_code == 404
    mine = scheduled_publish(org, timezone.now() + timedelta(hours=1))
    assert viewer_api.post(f"/runs/{mine.id}/reschedule", at).status_code == 403


def test_run_out_says_scheduled_for_only_for_a_scheduled_run(api, org):
    scheduled = scheduled_publish(org, timezone.now() + timedelta(hours=1))
    retrying = AgentRunFactory(
        organization=org, attempt=1, next_attempt_at=timezone.now() + timedelta(minutes=2)
    )
    assert api.get(f"/runs/{scheduled.id}").json()["scheduled_for"] is not None
    body = api.get(f"/runs/{retrying.id}").json()
    assert body["scheduled_for"] is None and body["next_attempt_at"] is not None

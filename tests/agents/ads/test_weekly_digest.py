from __future__ import annotations

import pytest

from agents.automation.schedules import schedule_create, schedules_run_due
from connectors.models import OutboundMessage
from connectors.services import connector_create
from runs.models import AgentRun, RunStatus, Trigger

pytestmark = pytest.mark.django_db


def test_a_weekly_schedule_runs_the_digest_and_emails_the_summary(org, google_ads, run_now):
    connector_create(
        organization=org,
        provider="smtp_email",
        name="Mail",
        mode="sandbox",
        config={"host": "smtp.example.com", "from_address": "reports@example.com"},
    )
    schedule = schedule_create(
        organization=org,
        name="Weekly Ads digest",
        agent="ads",
        intent="digest",
        payload={"days": 7, "emailTo": ["marketing@example.com"]},
        cron="0 8 * * 1",
    )
    assert run_now(schedules_run_due, now=schedule.next_run_at)["started"] == 1
    run = AgentRun.objects.get(schedule_id=schedule.pk)
    assert run.trigger == Trigger.SCHEDULE and run.status == RunStatus.COMPLETED, run.error
    email = OutboundMessage.objects.get(organization=org, action="send_email")
    assert email.target == "marketing@example.com" and email.status == "sent"
    assert run.output["emailed"] == [
        {"email": "marketing@example.com", "status": "sent", "message": ""}
    ]

"""Runs started by a batch or a schedule count for the campaign it names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agents.automation import batches, schedules
from runs.models import AgentRun

pytestmark = pytest.mark.django_db


def test_a_batchs_runs_count_for_its_campaign(org, campaign, sync_runs):
    with sync_runs():
        batch = batches.batch_create_json(
            organization=org,
            name="Triage",
            agent="support",
            intent="triage",
            items=[{"content": f"Ticket {i}"} for i in range(3)],
            campaign=campaign,
        )
    assert batch.campaign == campaign
    runs = AgentRun.objects.filter(batch_id=batch.pk)
    assert runs.count() == 3
    assert set(runs.values_list("campaign_id", flat=True)) == {campaign.pk}


def test_a_schedules_runs_count_for_its_campaign(org, campaign):
    schedule = schedules.schedule_create(
        organization=org,
        name="Daily",
        agent="support",
        intent="triage",
        payload={"content": "hi"},
        interval_minutes=60,
        campaign=campaign,
    )
    result = schedules.schedules_run_due(now=schedule.next_run_at + timedelta(seconds=5))
    assert result["started"] == 1
    assert AgentRun.objects.get(schedule_id=schedule.pk).campaign_id == campaign.pk

"""Rules judged from the rollups and cheap queries: breach, warning, recovery, reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from connectors.models import Health
from neonhub.alerts import notify, services
from neonhub.alerts.models import AlertDelivery, AlertRule
from runs.models import RunStatus
from tests.factories import AgentRunFactory, BatchFactory, ConnectorFactory, RunRollupFactory

pytestmark = pytest.mark.django_db


def _rollups(org, *, completed=0, failed=0, agent="support", cost="0", hour_offset=0):
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hour_offset)
    if completed:
        RunRollupFactory(
            organization=org,
            agent=agent,
            hour=hour,
            count=completed,
            h05=completed,
            cost_total=cost,
        )
    if failed:
        RunRollupFactory(
            organization=org, agent=agent, hour=hour, status=RunStatus.FAILED, count=failed, h05=0
        )


def _tick(rule, minutes=0):
    now = timezone.now() + timedelta(minutes=minutes)
    queued = services.rule_evaluate(rule=rule, now=now, force=True)
    rule.refresh_from_db()
    return queued


def test_error_rate_warns_then_alerts_then_recovers(org, make_rule):
    rule = make_rule(kind="error_rate", warning_level=0.2, alert_level=0.5, min_runs=4)
    _rollups(org, completed=7, failed=3)
    assert _tick(rule) == 1
    assert rule.state == "warning" and rule.value == pytest.approx(0.3)
    assert rule.summary == "3 of 10 runs failed (30%)"
    _rollups(org, failed=10, agent="content")
    _tick(rule, 1)
    assert rule.state == "alert"
    events = list(AlertDelivery.objects.order_by("created_at").values_list("event", "state"))
    assert events == [("breach", "warning"), ("breach", "alert")]
    AlertDelivery.objects.all().delete()
    from runs.models import RunRollup

    RunRollup.objects.filter(status=RunStatus.FAILED).delete()
    assert _tick(rule, 2) == 1
    assert rule.state == "ok"
    assert AlertDelivery.objects.get().event == "recovery"


def test_error_rate_waits_for_enough_runs(org, make_rule):
    rule = make_rule(kind="error_rate", alert_level=0.1, min_runs=10)
    _rollups(org, failed=3)
    assert _tick(rule) == 0
    assert rule.state == "ok" and rule.value is None
    assert "fewer than 10" in rule.summary


def test_error_rate_of_one_agent_and_window(org, make_rule):
    rule = make_rule(
        kind="error_rate", agent="support", alert_level=0.5, min_runs=1, window_minutes=60
    )
    _rollups(org, failed=5, agent="content")
    _rollups(org, failed=5, agent="support", hour_offset=3)  # outside the hour
    _rollups(org, completed=2, agent="support")
    _tick(rule)
    assert rule.state == "ok" and rule.value == 0


def test_p95_duration(org, make_rule):
    rule = make_rule(kind="p95_duration", warning_level=100, alert_level=5000, min_runs=1)
    _rollups(org, completed=20)
    _tick(rule)
    assert rule.state == "warning"
    assert 100 <= rule.value <= 178


def test_cost_per_day(org, make_rule):
    rule = make_rule(kind="cost_per_day", alert_level=10)
    _rollups(org, completed=1, cost="6.50", hour_offset=20)
    _rollups(org, completed=1, cost="4.00", agent="content")
    _rollups(org, completed=1, cost="100", agent="seo", hour_offset=30)  # yesterday
    _tick(rule)
    assert rule.state == "alert" and rule.value == pytest.approx(10.5)


def test_no_runs_for_an_agent_and_intent(org, make_rule):
    rule = make_rule(
        kind="no_runs", agent="support", intent="triage", alert_level=0, window_minutes=120
    )
    _tick(rule)
    assert rule.state == "alert" and "0 runs of support/triage in the last 2 hours" in rule.summary
    AgentRunFactory(organization=org, agent="support", intent="draft-reply")
    _tick(rule, 1)
    assert rule.state == "alert"
    AgentRunFactory(organization=org, agent="support", intent="triage")
    _tick(rule, 2)
    assert rule.state == "ok"


def test_connector_needs_reconnecting(org, make_rule):
    connector = ConnectorFactory(organization=org, name="Shop SMS")
    rule = make_rule(kind="connector_reconnect", connector_id=connector.pk, alert_level=1)
    _tick(rule)
    assert rule.state == "ok"
    connector.health = Health.NEEDS_RECONNECT
    connector.save(update_fields=["health"])
    _tick(rule, 1)
    assert rule.state == "alert" and "Shop SMS (needs reconnect)" in rule.summary


def test_batch_that_paused_itself_but_not_a_persons_pause(org, make_rule):
    rule = make_rule(kind="batch_paused", alert_level=1)
    BatchFactory(
        organization=org, name="By hand", status="paused", pause_reason="Paused by a person"
    )
    _tick(rule)
    assert rule.state == "ok"
    BatchFactory(
        organization=org,
        name="Spring sale",
        status="paused",
        pause_reason="Paused automatically: 6 of 10 finished inputs failed",
    )
    _tick(rule, 1)
    assert rule.state == "alert" and "Spring sale" in rule.summary


def test_reminds_while_breached_at_the_interval(org, make_rule):
    rule = make_rule(kind="batch_paused", alert_level=1, renotify_minutes=30)
    BatchFactory(organization=org, status="paused", pause_reason="Paused automatically")
    assert _tick(rule) == 1
    assert _tick(rule, 10) == 0  # still breached, not yet due
    assert _tick(rule, 31) == 1
    assert list(AlertDelivery.objects.values_list("event", flat=True).order_by("created_at")) == [
        "breach",
        "reminder",
    ]


def test_no_reminder_without_an_interval(org, make_rule):
    rule = make_rule(kind="batch_paused", alert_level=1)
    BatchFactory(organization=org, status="paused", pause_reason="Paused automatically")
    _tick(rule)
    assert _tick(rule, 600) == 0


def test_one_evaluation_per_tick_however_many_workers(org, make_rule):
    rule = make_rule(kind="batch_paused", alert_level=1)
    BatchFactory(organization=org, status="paused", pause_reason="Paused automatically")
    now = timezone.now()
    first = services.rules_evaluate(now=now)
    second = services.rules_evaluate(now=now + timedelta(seconds=5))  # another worker, same tick
    assert first == {"evaluated": 1, "queued": 1}
    assert second == {"evaluated": 0, "queued": 0}
    assert services.rules_evaluate(now=now + timedelta(minutes=1))["evaluated"] == 1
    assert AlertDelivery.objects.count() == 1
    assert AlertRule.objects.get(pk=rule.pk).state == "alert"


def test_disabled_rules_and_destinations_stay_quiet(org, make_rule, email_destination):
    rule = make_rule(kind="batch_paused", alert_level=1, enabled=False)
    BatchFactory(organization=org, status="paused", pause_reason="Paused automatically")
    assert services.rules_evaluate()["evaluated"] == 0
    services.rule_update(rule=rule, enabled=True)
    services.destination_update(destination=email_destination, enabled=False)
    assert services.rules_evaluate() == {"evaluated": 1, "queued": 0}


def test_breach_is_emailed_with_what_was_measured(org, make_rule):
    make_rule(name="Batches", kind="batch_paused", alert_level=1)
    BatchFactory(
        organization=org, name="Spring sale", status="paused", pause_reason="Paused automatically"
    )
    services.rules_evaluate()
    assert notify.deliveries_send_due() == 1
    (message,) = mail.outbox
    assert message.subject == "[NeonHub] ALERT: Batches"
    assert message.to == ["oncall@example.com"]
    assert "Paused themselves: Spring sale" in message.body
    assert "ok → alert" in message.body
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 1, "")


def test_the_minute_task_is_scheduled_once():
    from django_q.models import Schedule

    from neonhub.alerts import tasks

    tasks.ensure_schedules()
    tasks.ensure_schedules()
    (schedule,) = Schedule.objects.filter(name=tasks.ALERTS_TASK_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "neonhub.alerts.tasks.alerts_tick",
        Schedule.MINUTES,
        1,
    )


def test_a_failing_rule_does_not_stop_the_others(org, make_rule, monkeypatch):
    from neonhub.alerts import measures

    broken = make_rule(name="Broken", kind="cost_per_day", alert_level=1)
    make_rule(name="Fine", kind="batch_paused", alert_level=1)
    BatchFactory(organization=org, status="paused", pause_reason="Paused automatically")

    def explode(rule, now):
        raise RuntimeError("boom")

    monkeypatch.setitem(measures.MEASURES, "cost_per_day", explode)
    assert services.rules_evaluate() == {"evaluated": 1, "queued": 1}
    broken.refresh_from_db()
    assert broken.state == "ok"


def test_error_rate_of_a_connectors_provider(org, make_rule):
    connector = ConnectorFactory(organization=org, name="Shop SMS")
    rule = make_rule(kind="error_rate", connector_id=connector.pk, alert_level=0.3, min_runs=1)
    _rollups(org, completed=6)
    RunRollupFactory(
        organization=org,
        status=RunStatus.FAILED,
        count=3,
        h05=0,
        connector="twilio_sms",
        error_code="CONNECTOR_AUTH",
    )
    RunRollupFactory(
        organization=org,
        status=RunStatus.FAILED,
        count=1,
        h05=0,
        connector="openai",
        error_code="TIMEOUT",
    )
    _tick(rule)
    assert rule.state == "alert" and rule.value == pytest.approx(0.3)
    assert rule.summary == "3 of 10 runs failed at twilio_sms (30%)"

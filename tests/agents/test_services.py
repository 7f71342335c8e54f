"""Retry is offered only when a retry can fix the failure (agents.services.run_retry_verdict)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents import services
from connectors.models import Connector, Health, Mode
from runs.models import AgentRun, RunStatus
from tests.factories import AgentRunFactory, ConnectorFactory

pytestmark = pytest.mark.django_db


def failed(org, code, provider="", **kwargs):
    return AgentRunFactory(
        organization=org,
        status=RunStatus.FAILED,
        error_code=code,
        error_message="it failed",
        error_context={"provider": provider} if provider else {},
        finished_at=timezone.now() - timedelta(minutes=5),
        **kwargs,
    )


@pytest.mark.parametrize(
    "code",
    ["CONNECTOR_UNAVAILABLE", "CONNECTOR_RATE_LIMITED", "TIMEOUT", "WORKER_LOST", "INTERNAL"],
)
def test_transient_failures_may_be_retried(org, code):
    assert services.run_retry_verdict(run=failed(org, code)).ok


def test_a_cancelled_run_may_be_continued(org):
    run = AgentRunFactory(organization=org, status=RunStatus.CANCELLED)
    assert services.run_retry_verdict(run=run).ok


@pytest.mark.parametrize(
    "code, words",
    [
        ("INVALID_INPUT", "Its input was refused"),
        ("POLICY_BLOCKED", "blocked by a sending rule"),
        ("UNSUPPORTED_INTENT", "It failed with UNSUPPORTED_INTENT"),
    ],
)
def test_failures_a_retry_cannot_fix_say_why_and_point_to_edit(org, code, words):
    verdict = services.run_retry_verdict(run=failed(org, code))
    assert not verdict.ok and words in verdict.reason and "Edit and run again" in verdict.reason


def test_a_completed_run_is_not_retried(org):
    run = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    verdict = services.run_retry_verdict(run=run)
    assert not verdict.ok and "this one is completed" in verdict.reason


def test_a_connector_failure_is_retryable_once_the_connector_is_repaired(org):
    sms = ConnectorFactory(organization=org, provider="twilio_sms")
    Connector.objects.filter(pk=sms.pk).update(
        mode=Mode.LIVE,
        health=Health.NEEDS_RECONNECT,
        updated_at=timezone.now() - timedelta(hours=1),
    )
    run = failed(org, "CONNECTOR_AUTH", provider="twilio_sms")
    verdict = services.run_retry_verdict(run=run)
    assert not verdict.ok and "reconnect the Twilio SMS connector" in verdict.reason
    # Tested OK since the run failed: healthy again, and a retry can pass.
    Connector.objects.filter(pk=sms.pk).update(health=Health.HEALTHY, last_tested_at=timezone.now())
    assert services.run_retry_verdict(run=run).ok


def test_a_missing_connector_is_retryable_once_one_is_added(org):
    run = failed(org, "CONNECTOR_MISSING", provider="twilio_sms")
    assert not services.run_retry_verdict(run=run).ok
    ConnectorFactory(organization=org, provider="twilio_sms")
    assert services.run_retry_verdict(run=run).ok


def test_another_organizations_connector_repairs_nothing(org, other_org):
    run = failed(org, "CONNECTOR_MISSING", provider="twilio_sms")
    ConnectorFactory(organization=other_org, provider="twilio_sms")
    assert not services.run_retry_verdict(run=run).ok


def test_the_api_answers_409_with_the_reason_and_starts_nothing(api, org):
    run = failed(org, "INVALID_INPUT")
    resp = api.post(f"/runs/{run.id}/retry")
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "CONFLICT"
    assert "Its input was refused" in resp.json()["error"]["message"]
    assert not AgentRun.objects.filter(parent=run).exists()


def test_the_run_page_offers_retry_only_when_it_can_help(owner_client, org):
    stuck = failed(org, "INVALID_INPUT")
    page = owner_client.get(f"/runs/{stuck.id}/").content.decode()
    assert f'action="/runs/{stuck.id}/retry/"' not in page
    assert 'id="retry-reason"' in page and "Its input was refused" in page
    transient = failed(org, "CONNECTOR_UNAVAILABLE")
    page = owner_client.get(f"/runs/{transient.id}/").content.decode()
    assert f'action="/runs/{transient.id}/retry/"' in page and 'id="retry-reason"' not in page
    # The page's own POST is refused the same way, with the reason shown.
    shown = owner_client.post(f"/runs/{stuck.id}/retry/", follow=True).content.decode()
    assert "Its input was refused" in shown and not AgentRun.objects.filter(parent=stuck).exists()


def test_a_run_a_person_rejected_is_not_retried_but_an_expired_one_may_be(org):
    rejected = AgentRunFactory(organization=org, status=RunStatus.CANCELLED, error_code="REJECTED")
    verdict = services.run_retry_verdict(run=rejected)
    assert not verdict.ok and "A person rejected it" in verdict.reason
    expired = AgentRunFactory(
        organization=org, status=RunStatus.CANCELLED, error_code="APPROVAL_EXPIRED"
    )
    assert services.run_retry_verdict(run=expired).ok

"""Approvals: the policy (what waits), approve / reject / expire and their races, the watchdog."""

from __future__ import annotations

from datetime import timedelta
from typing import get_args

import pytest
from django.utils import timezone

from agents import approvals, publishing, services
from connectors.models import OutboundMessage
from connectors.registry import get_provider_class
from connectors.services import connector_create, placeholders
from neonhub.core.errors import Conflict, InvalidInput
from runs.models import AgentRun, ApprovalState, RunApproval, RunRollup, RunStatus, Trigger
from tests.factories import RunApprovalFactory, UserFactory
from tests.helpers import sandbox_connectors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _connectors(org):
    """Runs that would send need a connector to be started at all (pre-run checks)."""
    sandbox_connectors(org)


POST = {"text": "Calmer releases, now for everyone.", "platforms": ["facebook_page", "reddit"]}
POST["reddit"] = {"subreddit": "r/productmanagement"}
EMAIL = {
    "subject": "Hello {{first_name|friend}}",
    "body": "Hi {{first_name|there}}, your plan is {{plan}}.",
    "variables": {"plan": "Pro"},
    "recipients": [{"email": "ann@example.org", "variables": {"first_name": "Ann"}}]
    + [f"p{i}@example.org" for i in range(7)],
}


def configure(org, **values):
    org.settings = {**(org.settings or {}), "approvals": values}
    org.save(update_fields=["settings"])


def sandbox(org, provider):
    cls = get_provider_class(provider)
    connector_create(
        organization=org,
        provider=provider,
        name=f"{provider} sandbox",
        mode="sandbox",
        credentials=placeholders(cls.Credentials),
        config=placeholders(cls.Config),
    )


@pytest.fixture
def held(org, run_now):
    configure(org, social_platforms=["reddit"])
    run, _ = run_now(
        services.run_start, organization=org, agent="social", intent="publish", payload=POST
    )
    return run


# --- the policy ---------------------------------------------------------------------------------


def test_the_settings_know_every_publishing_platform():
    assert set(approvals.SOCIAL_PLATFORMS) == set(get_args(publishing.Target))


def test_settings_refuse_unknown_fields_and_bad_values_naming_them():
    with pytest.raises(InvalidInput) as exc:
        approvals.settings_parse({"expires_hours": 0})
    assert exc.value.details[0]["field"] == "expires_hours"
    with pytest.raises(InvalidInput) as exc:
        approvals.settings_parse({"social_platforms": ["myspace"]})
    assert exc.value.details[0]["field"] == "social_platforms"
    with pytest.raises(InvalidInput):
        approvals.settings_parse({"email": True})


def test_nothing_waits_by_default(org, run_now):
    run, _ = run_now(
        services.run_start, organization=org, agent="testing", intent="echo", payload={"text": "a"}
    )
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and not RunApproval.objects.exists()


def test_a_publish_to_a_held_platform_waits_with_the_exact_plan(held):
    held.refresh_from_db()
    assert held.status == RunStatus.AWAITING_APPROVAL and held.started_at is None
    approval = held.approval
    assert approval.state == ApprovalState.PENDING
    assert approval.reasons == ["Publishing to Reddit needs approval"]
    items = {i["to"]: i for i in approval.preview["items"]}
    assert items["reddit"]["action"] == "submit_post"
    assert items["reddit"]["content"]["subreddit"] == "productmanagement"
    assert items["facebook_page"]["content"]["message"] == POST["text"]
    assert approval.preview["recipients"] == 2
    assert approval.preview["recipients_word"] == "channel"
    assert approval.preview["summary"] == "Publish to Facebook Page, Reddit now"
    assert abs((approval.expires_at - approval.requested_at) - timedelta(hours=72)) < timedelta(
        seconds=5
    )
    assert not OutboundMessage.objects.exists()


def test_a_publish_to_other_platforms_does_not_wait(org, run_now):
    configure(org, social_platforms=["instagram"])
    run, _ = run_now(
        services.run_start, organization=org, agent="social", intent="publish", payload=POST
    )
    run.refresh_from_db()
    assert run.status != RunStatus.AWAITING_APPROVAL


def test_an_email_above_the_recipient_threshold_waits_with_rendered_messages(org):
    configure(org, recipients_above=5)
    run, _ = services.run_start(organization=org, agent="email", intent="send", payload=EMAIL)
    preview = run.approval.preview
    assert run.status == RunStatus.AWAITING_APPROVAL
    assert run.approval.reasons == [
        "Sends to more than 5 recipients need approval (this one has 8)"
    ]
    assert preview["recipients"] == 8 and preview["more"] == 3 and len(preview["items"]) == 5
    first = preview["items"][0]
    assert first["to"] == "ann@example.org"
    assert first["content"]["subject"] == "Hello Ann"
    assert first["content"]["text"].startswith("Hi Ann, your plan is Pro.")


def test_an_email_at_the_threshold_does_not_wait(org, run_now):
    configure(org, recipients_above=8)
    run, _ = services.run_start(organization=org, agent="email", intent="send", payload=EMAIL)
    assert run.status == RunStatus.QUEUED


def test_a_preview_that_cannot_be_rendered_is_bad_input_before_any_run(org):
    configure(org, email_send=True)
    with pytest.raises(InvalidInput) as exc:
        services.run_start(
            organization=org,
            agent="email",
            intent="send",
            payload={**EMAIL, "variables": {}},
        )
    assert exc.value.details[0]["field"] == "payload.recipients.0.variables.plan"
    assert not AgentRun.objects.exists()


def test_sms_and_whatsapp_and_support_replies_wait_when_their_channel_does(org):
    configure(org, sms_send=True, whatsapp_send=True, support_reply=True)
    sms, _ = services.run_start(
        organization=org,
        agent="messaging",
        intent="send-sms",
        payload={"to": "+14155550100", "body": "Hi {{name}}", "variables": {"name": "Bo"}},
    )
    assert sms.status == RunStatus.AWAITING_APPROVAL
    assert sms.approval.preview["items"] == [
        {"to": "+14155550100", "action": "send_sms", "content": {"body": "Hi Bo"}}
    ]
    wa, _ = services.run_start(
        organization=org,
        agent="messaging",
        intent="send-whatsapp",
        payload={"to": "+14155550100", "body": "Hello"},
    )
    assert wa.status == RunStatus.AWAITING_APPROVAL
    reply, _ = services.run_start(
        organization=org,
        agent="support",
        intent="reply",
        payload={"from": "+14155550100", "body": "Where is my order?"},
    )
    assert reply.status == RunStatus.AWAITING_APPROVAL
    assert reply.approval.preview["items"][0]["to"] == "+14155550100"
    draft_only, _ = services.run_start(
        organization=org,
        agent="support",
        intent="reply",
        payload={"from": "+14155550100", "body": "Where is my order?", "send": False},
    )
    assert draft_only.status == RunStatus.QUEUED


# --- approve, reject, expire --------------------------------------------------------------------


def test_an_approved_run_is_queued_and_carried_out_by_the_worker(org, held, run_now):
    sandbox(org, "facebook_page")
    sandbox(org, "reddit")
    approver = UserFactory()
    run_now(services.run_approve, run=held, user=approver, note="Looks right")
    held.refresh_from_db()
    assert held.status == RunStatus.COMPLETED, held.error_context
    assert held.output["status"] == "published"
    assert OutboundMessage.objects.count() == 2
    approval = RunApproval.objects.get(run=held)
    assert approval.state == ApprovalState.APPROVED and approval.decided_by == approver
    assert approval.decided_by_name == approver.get_username() and approval.note == "Looks right"
    assert approval.decided_at is not None and not approval.edited


def test_approving_twice_is_a_conflict(held):
    services.run_approve(run=held, by_name="API key ci")
    with pytest.raises(Conflict):
        services.run_approve(run=AgentRun.objects.get(pk=held.pk), by_name="API key ci")


def test_two_approvers_racing_one_wins(held):
    stale = AgentRun.objects.get(pk=held.pk)
    services.run_approve(run=held, by_name="first")
    # The second decision was made on a page read before the first: the UPDATE changes nothing.
    from runs import services as run_services

    assert run_services.run_approval_approve(run=stale, by_name="second") is False
    assert run_services.run_approval_reject(run=stale, note="no", by_name="second") is False
    assert RunApproval.objects.get(run=held).decided_by_name == "first"


def test_an_edited_input_is_validated_previewed_again_and_recorded(held):
    with pytest.raises(InvalidInput) as exc:
        services.run_approve(run=held, payload={**POST, "platforms": []})
    assert exc.value.details[0]["field"] == "payload.platforms"
    edited = {**POST, "text": "Calm releases for every team."}
    services.run_approve(run=held, payload=edited, by_name="editor")
    held.refresh_from_db()
    approval = RunApproval.objects.get(run=held)
    assert held.input == edited and approval.original_input == POST and approval.edited
    assert approval.preview["items"][0]["content"]["message"] == "Calm releases for every team."


def test_a_rejection_needs_a_note_and_cancels_the_run(held):
    with pytest.raises(InvalidInput) as exc:
        services.run_reject(run=held, note="  ")
    assert exc.value.details[0]["field"] == "note"
    rejecter = UserFactory()
    services.run_reject(run=held, note="Wrong subreddit", user=rejecter)
    held.refresh_from_db()
    assert held.status == RunStatus.CANCELLED and held.error_code == "REJECTED"
    assert "Wrong subreddit" in held.error_message and held.finished_at is not None
    approval = RunApproval.objects.get(run=held)
    assert approval.state == ApprovalState.REJECTED and approval.decided_by == rejecter
    assert RunRollup.objects.get().status == RunStatus.CANCELLED
    with pytest.raises(Conflict):
        services.run_approve(run=held)


def test_cancelling_a_held_run_closes_its_approval(held):
    services.run_cancel(run=held)
    held.refresh_from_db()
    assert held.status == RunStatus.CANCELLED
    assert RunApproval.objects.get(run=held).state == ApprovalState.CANCELLED


def test_approving_after_the_deadline_is_a_conflict_and_expires_the_run(held):
    RunApproval.objects.filter(run=held).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(Conflict, match="expired"):
        services.run_approve(run=held)
    held.refresh_from_db()
    assert held.status == RunStatus.CANCELLED and held.error_code == "APPROVAL_EXPIRED"


def test_the_watchdog_expires_unapproved_runs_and_leaves_the_rest_alone(org):
    due = RunApprovalFactory(
        run__organization=org, expires_at=timezone.now() - timedelta(seconds=1)
    )
    waiting = RunApprovalFactory(run__organization=org)
    result = services.runs_recover()
    assert result["approvals_expired"] == 1
    assert result["requeued"] == result["redelivered"] == result["failed"] == 0
    due.run.refresh_from_db()
    waiting.run.refresh_from_db()
    assert due.run.status == RunStatus.CANCELLED and due.run.error_code == "APPROVAL_EXPIRED"
    assert RunApproval.objects.get(pk=due.pk).state == ApprovalState.EXPIRED
    assert waiting.run.status == RunStatus.AWAITING_APPROVAL


def test_a_worker_never_claims_a_held_run(held):
    from agents import executor

    executor.execute_run(held.id)
    held.refresh_from_db()
    assert held.status == RunStatus.AWAITING_APPROVAL and held.attempt == 0


def test_a_retry_of_an_approved_run_is_not_asked_again_but_a_new_input_is(org, held, run_now):
    services.run_approve(run=held, by_name="a")
    AgentRun.objects.filter(pk=held.pk).update(status=RunStatus.FAILED)
    held.refresh_from_db()
    retry = services.run_retry(run=held)
    assert retry.status != RunStatus.AWAITING_APPROVAL and retry.trigger == Trigger.RETRY
    again, _ = services.run_rerun(run=held, payload=POST, trigger=Trigger.UI)
    assert again.status == RunStatus.AWAITING_APPROVAL


def test_the_scheduled_publish_an_approved_run_makes_is_not_asked_again(org, run_now):
    configure(org, social_platforms=["reddit"])
    later = (timezone.now() + timedelta(hours=2)).isoformat()
    run, _ = services.run_start(
        organization=org,
        agent="social",
        intent="publish",
        payload={**POST, "publishAt": later},
    )
    assert run.status == RunStatus.AWAITING_APPROVAL
    run_now(services.run_approve, run=run, by_name="a")
    run.refresh_from_db()
    child = AgentRun.objects.get(parent=run)
    assert run.status == RunStatus.COMPLETED and run.output["status"] == "scheduled"
    assert child.trigger == Trigger.SCHEDULE and child.status == RunStatus.QUEUED
    assert not RunApproval.objects.filter(run=child).exists()


def test_a_scheduled_publish_is_previewed_in_words_in_the_organizations_zone(org):
    from agents.library.social import PublishIn, publish_preview

    org.timezone = "Europe/Berlin"
    data = PublishIn.model_validate(
        {**POST, "publishAt": "2026-12-08T09:00:00+00:00", "platforms": ["reddit"]}
    )
    assert (
        publish_preview(data, org)["summary"] == "Publish to Reddit on Tue 8 Dec 2026 at 10:00 CET"
    )

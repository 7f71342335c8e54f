"""The one compliance gate: every outgoing message of every agent, before it is sent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from agents import services
from agents.audience import compliance
from agents.audience.models import Contact, InboundMessage
from connectors.models import OutboundMessage
from connectors.suppressions import suppression_add, suppression_remove
from neonhub.core.errors import PolicyBlocked
from runs.models import AgentRun, RunStep

pytestmark = pytest.mark.django_db

TO = "+14155550100"


def _sms(run_now, org, to=TO, body="Spring sale: 20% off today", **payload):
    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="messaging",
        intent="send-sms",
        payload={"to": to, "body": body, **payload},
    )
    run.refresh_from_db()
    return run


def _settings(org, **values):
    org.settings = {**(org.settings or {}), **values}
    org.save(update_fields=["settings"])


def test_an_opted_out_number_never_receives_a_message(run_now, org, twilio_sms):
    suppression_add(
        organization=org, channel="sms", address=TO, reason="Replied STOP", source="opt_out_keyword"
    )
    run = _sms(run_now, org)
    assert (run.status, run.error_code) == ("failed", "POLICY_BLOCKED")
    assert "suppression list" in run.error_message
    row = OutboundMessage.objects.get(run_id=run.pk)
    assert (row.status, row.error_code, row.target) == ("failed", "POLICY_BLOCKED", TO)
    assert "suppression list" in row.error and row.sent_at is None
    step = RunStep.objects.get(run=run, name="twilio_sms.send_sms blocked")
    assert step.status == "failed" and step.detail["policy"] == "suppressed"
    assert not RunStep.objects.filter(
        run=run, kind="call"
    ).exists()  # the connector was never called


def test_frequency_caps_per_day_count_messages_to_the_same_number(run_now, org, twilio_sms):
    _settings(org, frequency_caps={"sms": {"day": 2, "week": 10}})
    assert _sms(run_now, org).status == "completed"
    assert _sms(run_now, org, body="Reminder").status == "completed"
    assert (
        _sms(run_now, org, to="+14155550101").status == "completed"
    )  # another number has its own count
    third = _sms(run_now, org, body="Last call")
    assert (
        third.error_code == "POLICY_BLOCKED" and "2 sms message(s) per day" in third.error_message
    )


def test_caps_count_marketing_messages_not_replies(run_now, org, twilio_sms):
    _settings(org, frequency_caps={"sms": {"day": 1}})
    for n in range(3):  # a support conversation today
        OutboundMessage.objects.create(
            organization=org,
            provider="twilio_sms",
            action="send_sms",
            idempotency_key=f"reply-{n}",
            target=TO,
            status="sent",
            purpose="reply",
        )
    first = _sms(run_now, org)
    assert first.status == "completed"
    assert OutboundMessage.objects.get(run_id=first.pk).purpose == "marketing"
    second = _sms(run_now, org, body="Reminder")
    assert (
        second.error_code == "POLICY_BLOCKED" and "1 sms message(s) per day" in second.error_message
    )
    assert OutboundMessage.objects.get(run_id=second.pk).purpose == "marketing"


def test_rows_from_before_purposes_were_recorded_count_as_marketing(org):
    _settings(org, frequency_caps={"sms": {"day": 1}})
    OutboundMessage.objects.create(
        organization=org,
        provider="twilio_sms",
        action="send_sms",
        idempotency_key="old",
        target=TO,
        status="sent",
    )
    with pytest.raises(PolicyBlocked, match="per day"):
        compliance.message_check(organization=org, channel="sms", address=TO)


def test_weekly_cap_counts_older_messages_too(org, twilio_sms):
    _settings(org, frequency_caps={"sms": {"week": 1}})
    OutboundMessage.objects.create(
        organization=org,
        provider="twilio_sms",
        action="send_sms",
        idempotency_key="old",
        target=TO,
        status="delivered",
        created_at=timezone.now() - timedelta(days=3),
    )
    with pytest.raises(PolicyBlocked, match="per week"):
        compliance.message_check(organization=org, channel="sms", address=TO)
    with pytest.raises(PolicyBlocked):
        compliance.message_check(
            organization=org, channel="sms", address=TO, now=timezone.now() + timedelta(days=3)
        )
    compliance.message_check(
        organization=org, channel="sms", address=TO, now=timezone.now() + timedelta(days=5)
    )


def test_failed_and_blocked_messages_do_not_count_towards_caps(org):
    _settings(org, frequency_caps={"sms": {"day": 1}})
    OutboundMessage.objects.create(
        organization=org,
        provider="twilio_sms",
        action="send_sms",
        idempotency_key="x",
        target=TO,
        status="failed",
        error_code="POLICY_BLOCKED",
    )
    compliance.message_check(organization=org, channel="sms", address=TO)


def test_quiet_hours_in_the_contacts_timezone_put_the_run_back_until_they_end(
    run_now, org, twilio_sms
):
    tokyo = ZoneInfo("Asia/Tokyo")
    local = timezone.now().astimezone(tokyo)
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=2)).strftime("%H:%M")
    _settings(org, quiet_hours={"start": start, "end": end})
    Contact.objects.create(organization=org, phone=TO, timezone="Asia/Tokyo")
    run = _sms(run_now, org)
    assert (run.status, run.error_code) == ("queued", "POLICY_BLOCKED")
    assert "Quiet hours" in run.error_message and "Asia/Tokyo" in run.error_message
    wait = (run.next_attempt_at - timezone.now()).total_seconds()
    assert 2 * 3600 - 120 < wait < 2 * 3600 * 1.6  # retried at the end of the window, never before
    assert OutboundMessage.objects.get(run_id=run.pk).error_code == "POLICY_BLOCKED"


def test_quiet_hours_of_the_organization_apply_without_a_contact(org):
    _settings(org, quiet_hours={"start": "21:00", "end": "08:00"})
    org.timezone = "America/New_York"
    org.save()
    night = datetime(2025, 5, 1, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    with pytest.raises(compliance.QuietHoursBlocked) as blocked:
        compliance.message_check(organization=org, channel="sms", address=TO, now=night)
    assert blocked.value.retry_after == 8.5 * 3600
    day = datetime(2025, 5, 1, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    compliance.message_check(organization=org, channel="sms", address=TO, now=day)
    # Email is not in the default quiet channels.
    compliance.message_check(
        organization=org, channel="email", address="ada@example.com", now=night
    )


def test_quiet_hours_window_arithmetic():
    at = lambda h, m=0: datetime(2025, 5, 1, h, m, tzinfo=ZoneInfo("UTC"))  # noqa: E731
    assert compliance.quiet_seconds_left(at(22), time(21), time(8)) == 10 * 3600
    assert compliance.quiet_seconds_left(at(7, 30), time(21), time(8)) == 1800
    assert compliance.quiet_seconds_left(at(12), time(21), time(8)) == 0
    assert compliance.quiet_seconds_left(at(13), time(12), time(14)) == 3600
    assert compliance.quiet_seconds_left(at(15), time(12), time(14)) == 0
    assert compliance.quiet_seconds_left(at(15), time(9), time(9)) == 0


def test_damaged_quiet_hours_settings_do_not_stop_messages(org):
    _settings(org, quiet_hours={"start": "late", "end": "08:00"})
    compliance.message_check(organization=org, channel="sms", address=TO)


def test_unknown_contact_timezone_falls_back_to_the_organization(org):
    contact = Contact(organization=org, phone=TO, timezone="Mars/Olympus")
    org.timezone = "Europe/Berlin"
    assert compliance.recipient_timezone(org, contact).key == "Europe/Berlin"
    org.timezone = ""
    assert compliance.recipient_timezone(org, None).key == "UTC"


def test_whatsapp_session_messages_only_inside_the_24_hour_window(run_now, org, twilio_whatsapp):
    def send(**payload):
        run, _ = run_now(
            services.run_start,
            organization=org,
            agent="messaging",
            intent="send-whatsapp",
            payload={"to": f"whatsapp:{TO}", **payload},
        )
        run.refresh_from_db()
        return run

    outside = send(body="Your order shipped")
    assert outside.error_code == "POLICY_BLOCKED" and "24-hour window" in outside.error_message
    template = send(contentSid="HX" + "a" * 32, contentVariables={"1": "Ada"})
    assert template.status == "completed"
    InboundMessage.objects.create(
        organization=org,
        channel="whatsapp",
        address=TO,
        body="hi",
        created_at=timezone.now() - timedelta(hours=23),
    )
    assert send(body="Your order shipped!").status == "completed"


def test_revoked_consent_blocks_and_required_consent_must_be_granted(org):
    contact = Contact.objects.create(
        organization=org, phone=TO, consent={"sms": {"status": "revoked"}}
    )
    with pytest.raises(PolicyBlocked, match="revoked consent"):
        compliance.message_check(organization=org, channel="sms", address=TO, contact=contact)
    _settings(org, require_consent=["sms"])
    with pytest.raises(PolicyBlocked, match="requires consent"):
        compliance.message_check(
            organization=org, channel="sms", address="+14155550111", contact=None
        )
    contact.consent = {"sms": {"status": "granted", "source": "web form"}}
    compliance.message_check(organization=org, channel="sms", address=TO, contact=contact)


def test_replies_skip_caps_and_quiet_hours_but_not_the_suppression_list(org):
    _settings(
        org, frequency_caps={"sms": {"day": 0}}, quiet_hours={"start": "00:00", "end": "23:59"}
    )
    compliance.message_check(organization=org, channel="sms", address=TO, purpose="reply")
    suppression_add(organization=org, channel="sms", address=TO, source="staff")
    with pytest.raises(PolicyBlocked):
        compliance.message_check(organization=org, channel="sms", address=TO, purpose="reply")
    compliance.message_check(
        organization=org, channel="sms", address=TO, purpose="opt_out_confirmation"
    )


def test_a_message_already_sent_is_replayed_even_if_the_number_opted_out_since(
    run_now, org, twilio_sms
):
    run = _sms(run_now, org)
    assert run.status == "completed"
    suppression_add(organization=org, channel="sms", address=TO, source="opt_out_keyword")
    key = OutboundMessage.objects.get(run_id=run.pk).idempotency_key
    handle_connector = twilio_sms
    assert (
        compliance.message_gate(
            connector=handle_connector,
            action="send_sms",
            input={"to": TO, "body": "x"},
            key=key,
            run_id=run.pk,
        )
        is None
    )


def test_a_blocked_message_is_sent_on_the_same_row_once_allowed(run_now, org, twilio_sms):
    suppression_add(organization=org, channel="sms", address=TO, source="staff")
    run = _sms(run_now, org)
    suppression_remove(organization=org, channel="sms", address=TO)
    AgentRun.objects.filter(pk=run.pk).update(status="queued", next_attempt_at=None)
    from agents import executor

    executor.execute_run(run.pk)
    run.refresh_from_db()
    assert run.status == "completed"
    row = OutboundMessage.objects.get(run_id=run.pk)
    assert (row.status, row.error_code, row.attempts) == ("sent", "", 1)


def test_messages_are_linked_to_their_contact_found_by_the_address(run_now, org, twilio_sms):
    contact = Contact.objects.create(organization=org, name="Ada Lovelace", phone=TO)
    run = _sms(run_now, org, body="Hi {{first_name}}")
    row = OutboundMessage.objects.get(run_id=run.pk)
    assert row.contact_id == contact.pk
    assert row.response["body"] == "Hi Ada"


def test_an_invalid_address_is_left_to_the_actions_own_validation(org, twilio_sms):
    assert (
        compliance.message_gate(
            connector=twilio_sms,
            action="send_sms",
            input={"to": "not-a-number"},
            key="k",
            run_id=None,
            contact="not-a-uuid",
        )
        is None
    )


def test_other_connector_actions_do_not_pass_the_gate():
    assert compliance.message_kind("twilio_sms", "get_message") is None
    assert compliance.message_kind("smtp_email", "send_email").channel == "email"
    assert compliance.providers_of("whatsapp") == ["twilio_whatsapp"]


def test_email_recipients_over_the_cap_are_reported_as_skipped(run_now, org, smtp):
    _settings(org, frequency_caps={"email": {"day": 0}})
    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="email",
        intent="send",
        payload={"subject": "News", "body": "Hello", "recipients": ["ada@example.com"]},
    )
    run.refresh_from_db()
    assert run.status == "completed"
    assert run.output["sent"] == 0
    assert run.output["skipped"][0]["reason"] == "frequency_cap"
    assert OutboundMessage.objects.get(run_id=run.pk).error_code == "POLICY_BLOCKED"


def test_contact_given_by_id_is_used(org):
    contact = Contact.objects.create(organization=org, email="ada@example.com")
    found = compliance.contact_resolve(
        organization=org, channel="email", address="x@example.com", contact=str(contact.pk)
    )
    assert found == contact

"""The compliance settings' schema, and that what the settings save is what the gate obeys."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agents.audience import compliance, policy
from agents.audience.models import Contact
from connectors.models import OutboundMessage
from neonhub.core.auth import Principal
from neonhub.core.errors import InvalidInput, PolicyBlocked
from neonhub.core.models import AuditEvent, Role

pytestmark = pytest.mark.django_db

TO = "+14155550100"
NIGHT = {"start": "21:00", "end": "08:00", "channels": ["sms"]}


@pytest.fixture
def principal(org, owner):
    return Principal(organization=org, role=Role.OWNER, user=owner)


def _fields(exc: InvalidInput) -> set[str]:
    return {d["field"] for d in exc.details}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"frequency_caps": {"sms": {"day": -1}}}, "frequency_caps.sms.day"),
        ({"frequency_caps": {"sms": {"day": 5, "week": 2}}}, "frequency_caps.sms"),
        ({"frequency_caps": {"fax": {"day": 1}}}, "frequency_caps"),
        ({"quiet_hours": {**NIGHT, "start": "25:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {**NIGHT, "end": "21:00"}}, "quiet_hours"),
        ({"quiet_hours": {**NIGHT, "channels": []}}, "quiet_hours.channels"),
        ({"quiet_hours": {**NIGHT, "days": ["someday"]}}, "quiet_hours.days"),
        ({"require_consent": ["pigeon"]}, "require_consent"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_values_name_their_field(values, field):
    with pytest.raises(InvalidInput) as caught:
        policy.compliance_settings_parse(values)
    assert field in _fields(caught.value)


def test_whatsapp_templates_are_checked_name_language_and_numbered_placeholders():
    good = {
        "name": "order_update",
        "language": "en_US",
        "category": "utility",
        "body": "Hi {{1}}, order {{2}} shipped",
    }
    assert (
        policy.compliance_settings_parse({"whatsapp_templates": [good]}).whatsapp_templates[0].name
        == "order_update"
    )
    for bad, field in [
        ({**good, "name": "Order Update"}, "whatsapp_templates.0.name"),
        ({**good, "language": "english"}, "whatsapp_templates.0.language"),
        ({**good, "category": "spam"}, "whatsapp_templates.0.category"),
        ({**good, "body": "Hi {{1}}, order {{3}}"}, "whatsapp_templates.0.body"),
        ({**good, "content_sid": "XX123"}, "whatsapp_templates.0.content_sid"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            policy.compliance_settings_parse({"whatsapp_templates": [bad]})
        assert field in _fields(caught.value)
    with pytest.raises(InvalidInput, match="listed twice"):
        policy.compliance_settings_parse({"whatsapp_templates": [good, good]})


def test_saving_stores_the_keys_the_gate_reads_and_keeps_other_settings(org, principal):
    org.settings = {
        "approvals": {"email_send": True},
        "quiet_hours": {"start": "22:00", "end": "07:00"},
    }
    org.save()
    policy.compliance_settings_save(
        principal=principal,
        values={
            "frequency_caps": {"sms": {"day": 2, "week": None}, "email": {}},
            "quiet_hours": None,
            "require_consent": ["sms"],
        },
    )
    org.refresh_from_db()
    assert org.settings == {
        "approvals": {"email_send": True},
        "frequency_caps": {"sms": {"day": 2}},
        "require_consent": ["sms"],
    }


def test_saving_is_audited_with_what_changed(org, principal):
    policy.compliance_settings_save(principal=principal, values={"quiet_hours": NIGHT})
    event = AuditEvent.objects.get(organization=org, action="settings.compliance")
    assert event.changes["quiet_hours"][0] is None
    assert event.changes["quiet_hours"][1]["start"] == "21:00"
    assert event.actor == principal.user.email
    # Saving the same again changes nothing and records nothing.
    policy.compliance_settings_save(principal=principal, values={"quiet_hours": NIGHT})
    assert AuditEvent.objects.filter(action="settings.compliance").count() == 1


def test_saved_quiet_hours_block_a_send_at_23_00_local_and_not_at_noon(org, principal):
    org.timezone = "Europe/Paris"
    org.save()
    paris = ZoneInfo("Europe/Paris")
    late = datetime(2026, 3, 4, 23, 0, tzinfo=paris)  # a Wednesday
    compliance.message_check(organization=org, channel="sms", address=TO, now=late)
    policy.compliance_settings_save(principal=principal, values={"quiet_hours": NIGHT})
    org.refresh_from_db()
    with pytest.raises(compliance.QuietHoursBlocked) as caught:
        compliance.message_check(organization=org, channel="sms", address=TO, now=late)
    assert caught.value.retry_after == 9 * 3600
    compliance.message_check(organization=org, channel="sms", address=TO, now=late.replace(hour=12))
    # Only the channels chosen: email still goes at 23:00.
    compliance.message_check(organization=org, channel="email", address="a@example.com", now=late)


def test_quiet_hours_only_on_the_nights_chosen_an_overnight_window_belongs_to_its_start(
    org, principal
):
    org.timezone = "Europe/Paris"
    org.save()
    paris = ZoneInfo("Europe/Paris")
    policy.compliance_settings_save(
        principal=principal, values={"quiet_hours": {**NIGHT, "days": ["fri"]}}
    )
    org.refresh_from_db()
    friday_night = datetime(2026, 3, 6, 23, 0, tzinfo=paris)
    saturday_morning = datetime(2026, 3, 7, 7, 0, tzinfo=paris)
    saturday_night = datetime(2026, 3, 7, 23, 0, tzinfo=paris)
    thursday_night = datetime(2026, 3, 5, 23, 0, tzinfo=paris)
    for blocked in (friday_night, saturday_morning):
        with pytest.raises(compliance.QuietHoursBlocked):
            compliance.message_check(organization=org, channel="sms", address=TO, now=blocked)
    for allowed in (saturday_night, thursday_night):
        compliance.message_check(organization=org, channel="sms", address=TO, now=allowed)


def test_a_saved_frequency_cap_blocks_the_next_message(org, principal):
    OutboundMessage.objects.create(
        organization=org,
        provider="twilio_sms",
        action="send_sms",
        idempotency_key="one",
        target=TO,
        status="sent",
        purpose="marketing",
    )
    compliance.message_check(organization=org, channel="sms", address=TO)
    policy.compliance_settings_save(
        principal=principal, values={"frequency_caps": {"sms": {"day": 1}}}
    )
    org.refresh_from_db()
    with pytest.raises(PolicyBlocked, match="1 sms message"):
        compliance.message_check(organization=org, channel="sms", address=TO)


def test_express_opt_in_needs_granted_consent(org, principal):
    contact = Contact.objects.create(organization=org, phone=TO, consent={})
    compliance.message_check(organization=org, channel="sms", address=TO, contact=contact)
    policy.compliance_settings_save(principal=principal, values={"require_consent": ["sms"]})
    org.refresh_from_db()
    with pytest.raises(PolicyBlocked, match="requires consent"):
        compliance.message_check(organization=org, channel="sms", address=TO, contact=contact)
    contact.consent = {"sms": {"status": "granted"}}
    compliance.message_check(organization=org, channel="sms", address=TO, contact=contact)


def test_a_damaged_stored_value_is_shown_unset_and_the_rest_kept(org):
    org.settings = {"quiet_hours": {"start": "late"}, "require_consent": ["email"]}
    current = policy.compliance_settings_of(organization=org)
    assert current.quiet_hours is None and current.require_consent == ["email"]

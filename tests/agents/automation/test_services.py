"""Small pieces: mapping paths, the trigger services' checks, the template helper."""

from __future__ import annotations

import pytest

from agents.automation import services
from agents.automation.templatetags.automation_ui import eta
from neonhub.core.errors import InvalidInput
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db


def test_trigger_checks(org, other_org, twilio_sms):
    with pytest.raises(InvalidInput, match="source"):
        services.trigger_create(
            organization=org, name="x", source="fax", agent="support", intent="triage"
        )
    foreign = ConnectorFactory(organization=other_org, provider="twilio_sms")
    with pytest.raises(InvalidInput, match="unknown connector"):
        services.trigger_create(
            organization=org,
            name="x",
            source="twilio_sms.inbound",
            connector=foreign,
            agent="support",
            intent="reply",
        )
    with pytest.raises(InvalidInput, match="defaults"):
        services.trigger_create(
            organization=org,
            name="x",
            source="generic",
            agent="support",
            intent="triage",
            defaults=["x"],
        )
    trigger, secret = services.trigger_create(
        organization=org,
        name="x",
        source="twilio_sms.inbound",
        connector=twilio_sms,
        agent="support",
        intent="reply",
    )
    assert secret is None and str(trigger).startswith("x (twilio_sms.inbound")
    services.trigger_update(trigger=trigger, mapping={"from": "From"}, defaults={"channel": "sms"})
    assert trigger.mapping == {"from": "From"}
    with pytest.raises(InvalidInput, match="defaults"):
        services.trigger_update(trigger=trigger, defaults="nope")


def test_eta_reads_like_a_person_would_say_it():
    assert [eta(v) for v in (None, 45, 600, 3600, 12_000)] == [
        "–",
        "45 s",
        "10 min",
        "1 h",
        "3 h 20 min",
    ]


def test_the_demo_organization_gets_a_reply_trigger_a_weekly_post_and_contacts(org):
    from agents.audience.models import ContactList
    from agents.automation.models import RecurringSchedule, Trigger
    from connectors.services import demo_connectors_ensure

    demo_connectors_ensure(org)
    services.demo_automation_ensure(org)
    services.demo_automation_ensure(org)  # idempotent
    assert Trigger.objects.get(organization=org).intent == "reply"
    assert RecurringSchedule.objects.get(organization=org).next_run_at is not None
    assert ContactList.objects.get(organization=org).memberships.count() == 3


def test_trigger_sources_are_checked_against_the_provider_registry(org, twilio_sms):
    with pytest.raises(InvalidInput) as err:
        services.trigger_create(
            organization=org, name="x", source="shopify.fax", agent="support", intent="triage"
        )
    assert err.value.details[0]["field"] == "source"
    assert "shopify.orders/create" in err.value.details[0]["message"]
    # A source only a test-only provider declares is as good as any other.
    trigger, secret = services.trigger_create(
        organization=org, name="Pings", source="fake_hooks.ping", agent="support", intent="triage"
    )
    assert trigger.source == "fake_hooks.ping" and secret is None
    with pytest.raises(InvalidInput, match="needs a fake_hooks connector") as err:
        services.trigger_create(
            organization=org,
            name="y",
            source="fake_hooks.ping",
            connector=twilio_sms,
            agent="support",
            intent="triage",
        )
    assert err.value.details[0]["field"] == "connector_id"


def test_the_demo_organization_gets_a_campaign_a_template_and_a_segment_of_subscribers(org):
    from agents.automation.demo import demo_email_ensure
    from agents.campaigns.models import Campaign
    from agents.mailtemplates.models import EmailTemplate
    from agents.mailtemplates.services import template_compile
    from agents.segments.models import Segment
    from agents.segments.selectors import segment_count

    demo_email_ensure(org)
    demo_email_ensure(org)  # idempotent
    assert Campaign.objects.get(organization=org).name == "Spring launch"
    assert template_compile(template=EmailTemplate.objects.get(organization=org)).html
    assert segment_count(segment=Segment.objects.get(organization=org)) == 3

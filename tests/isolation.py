"""Objects of another organization, by the URL parameter name that carries their id.

The tenant-isolation tests walk every URL route; a route with a parameter missing here
fails the test, so a new endpoint cannot skip the check.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from neonhub.core.services import api_key_create
from tests.factories import (
    ABTestFactory,
    AgentRunFactory,
    BatchFactory,
    BrandFactory,
    ConnectorFactory,
    ContactFactory,
    ContactListFactory,
    ContentDraftFactory,
    InvitationFactory,
    KnowledgeArticleFactory,
    MembershipFactory,
    OAuthGrantFactory,
    RecurringScheduleFactory,
    TriggerFactory,
)


def _import(org):
    """A CSV another organization uploaded and has not confirmed yet."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save(
        f"imports/{org.pk}/{'f' * 32}.csv", ContentFile(b"phone\n+14155550100\n")
    )
    return name.rsplit("/", 1)[-1].removesuffix(".csv")


def _delivery(org):
    """A delivery recorded for another organization (deliveries are written only by the
    webhook endpoints, so no factory: the row as ``delivery_reject`` writes it)."""
    from agents.automation.inbound import RequestFacts, delivery_reject

    return delivery_reject(
        facts=RequestFacts(), source="generic", http_status=400, reason="x", organization=org
    ).id


def _alert_destination(org):
    import uuid

    from neonhub.alerts.services import destination_create

    return destination_create(
        organization=org,
        name=f"Theirs {uuid.uuid4().hex[:8]}",
        kind="email",
        target="t@example.com",
    )[0].id


def _alert_rule(org):
    import uuid

    from neonhub.alerts.services import rule_create

    name = f"Theirs {uuid.uuid4().hex[:8]}"
    return rule_create(organization=org, name=name, kind="batch_paused", alert_level=1).id


def _tracked_post(org):
    from agents.analytics.services import post_track

    return post_track(
        connector=ConnectorFactory(organization=org), provider_post_id="SM" + "0" * 32
    ).id


def _recipe(org):
    from agents.automation.recipes import recipes_of

    return recipes_of(organization=org)[0]


def _campaign(org):
    from agents.campaigns.services import campaign_create

    return campaign_create(organization=org, name=f"Theirs {uuid.uuid4().hex[:8]}")


def _email_message(org):
    from agents.mail.services import message_record

    return message_record(organization=org, to="theirs@example.com", subject="Theirs")


def _email_template(org):
    from agents.mailtemplates.models import EmailTemplate

    # Unique names: a walk may ask for another organization's template more than once.
    name = f"Theirs {uuid.uuid4().hex[:8]}"
    return EmailTemplate.objects.create(organization=org, name=name, subject="Theirs")


def _segment(org):
    from agents.segments.services import segment_create

    return segment_create(organization=org, name=f"Theirs {uuid.uuid4().hex[:8]}", rules={}).id


def _sequence(org):
    from agents.sequences.services import sequence_create

    steps = [{"subject": "Hi", "body": "Hello"}]
    return sequence_create(organization=org, name=f"Theirs {uuid.uuid4().hex[:8]}", steps=steps)


def _enrollment(org):
    from agents.sequences.services import enrollment_create

    contact = ContactFactory(organization=org, email=f"theirs-{uuid.uuid4().hex[:8]}@example.com")
    return enrollment_create(sequence=_sequence(org), contact=contact).enrollment.id


FOREIGN_OBJECTS: dict[str, Callable] = {
    "run_id": lambda org: AgentRunFactory(organization=org).id,
    "connector_id": lambda org: ConnectorFactory(organization=org).id,
    "trigger_id": lambda org: TriggerFactory(organization=org).id,
    "schedule_id": lambda org: RecurringScheduleFactory(organization=org).id,
    "recipe_id": lambda org: _recipe(org).id,
    "contact_id": lambda org: ContactFactory(organization=org).id,
    "list_id": lambda org: ContactListFactory(organization=org).id,
    "batch_id": lambda org: BatchFactory(organization=org).id,
    "import_id": _import,
    "draft_id": lambda org: ContentDraftFactory(organization=org).id,
    "member_id": lambda org: MembershipFactory(organization=org).id,
    "invitation_id": lambda org: InvitationFactory(organization=org).id,
    "brand_id": lambda org: BrandFactory(organization=org).id,
    "article_id": lambda org: KnowledgeArticleFactory(organization=org).id,
    "api_key_id": lambda org: api_key_create(organization=org, name="theirs").api_key.id,
    "delivery_id": _delivery,
    "post_id": lambda org: _tracked_post(org),
    "grant_id": lambda org: OAuthGrantFactory(organization=org).id,
    "rule_id": _alert_rule,
    "destination_id": _alert_destination,
    "campaign_id": lambda org: _campaign(org).id,
    "message_id": lambda org: _email_message(org).id,
    "template_id": lambda org: _email_template(org).id,
    "segment_id": _segment,
    "sequence_id": lambda org: _sequence(org).id,
    "step_id": lambda org: _sequence(org).steps.get().id,
    "enrollment_id": _enrollment,
    "test_id": lambda org: ABTestFactory(organization=org).id,
}

# Parameters that are not object ids (an action name, a token) get a plain value.
PLAIN_VALUES: dict[str, str] = {
    "action": "send_sms",
    "token": "not-a-valid-token",
    "index": "0",  # a batch input's position; the batch in the URL is another organization's
}

# Public endpoints that providers call without logging in (webhooks).  They identify the
# organization by the connector or trigger in the URL and prove themselves by signature;
# tests/agents/automation/test_webhooks.py checks that each answers 404 for an unknown id.
# The password reset link names a user and a signed token, not an organization's object
# (tests/neonhub/core/test_password_reset.py checks that a used link is refused).
# An email's open pixel answers the same image for any token, never telling whether it exists
# (tests/agents/mail/test_tracking_events.py checks that an unknown one records nothing).
PUBLIC_PREFIXES: tuple[str, ...] = ("hooks/", "password-reset/", "m/o/")

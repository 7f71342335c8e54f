"""One factory per model the tests create rows of (tests/test_factories.py keeps the list whole).

Defaults make a valid row of a sandbox organization; pass what a test is about.  Connectors
and triggers are made by their services, so credentials and signing secrets are encrypted
the way production encrypts them.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from agents.audience.models import (
    ConsentEvent,
    Contact,
    ContactList,
    ContactListMembership,
    InboundMessage,
)
from agents.automation.models import (
    Batch,
    BatchItem,
    BatchSource,
    BatchStatus,
    CalendarFeed,
    ItemStatus,
    Recipe,
    RecipeKind,
    RecurringSchedule,
    ScheduleKind,
    Trigger,
)
from agents.models import ABTest, Brand, ContentDraft, DraftStatus, KnowledgeArticle
from connectors.models import (
    Connector,
    Mode,
    OutboundMessage,
    OutboxStatus,
    Suppression,
    SuppressionChannel,
    SuppressionSource,
)
from neonhub.core.models import AuditEvent, Invitation, Membership, Organization, Role
from runs.models import AgentRun, RunApproval, RunRollup, RunStatus, RunStep, StepStatus
from runs.models import Trigger as RunTrigger

TWILIO_SID = "AC" + "0123456789abcdef" * 2


def _create_through(service: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Call a create service with the arguments it takes; save the other fields after it."""
    takes = inspect.signature(service).parameters
    made = service(**{k: v for k, v in kwargs.items() if k in takes})
    extra = {k: v for k, v in kwargs.items() if k not in takes}
    if extra:
        obj = made[0] if isinstance(made, tuple) else made
        for field, value in extra.items():
            setattr(obj, field, value)
        obj.save(update_fields=list(extra))
    return made


# --- core -------------------------------------------------------------------------------------


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organization {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda u: u.username)
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    organization = factory.SubFactory(OrganizationFactory)
    actor = "owner@example.com"
    action = "connector.update"
    target_type = "connector"
    target_label = "Twilio (live)"
    changes = factory.LazyFunction(lambda: {"name": ["Twilio", "Twilio (live)"]})


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation; its link's token is ``invitation-<n>`` (see ``neonhub.core.team``)."""

    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.MEMBER
    token_hash = factory.Sequence(lambda n: hashlib.sha256(f"invitation-{n}".encode()).hexdigest())
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


# --- connectors -------------------------------------------------------------------------------


class ConnectorFactory(factory.django.DjangoModelFactory):
    """A connector made by ``connector_create``: validated, its credentials encrypted for real.

    ``credentials`` and ``config`` are the plain values the service takes (never the stored
    token).  Fields the service does not take (``health``, ``state``, ...) are saved after it.
    The defaults are a sandbox Twilio SMS number whose values would pass as live too.
    """

    class Meta:
        model = Connector

    organization = factory.SubFactory(OrganizationFactory)
    provider = "twilio_sms"
    name = factory.Sequence(lambda n: f"Connector {n}")
    mode = Mode.SANDBOX
    credentials = factory.Dict({"account_sid": TWILIO_SID, "auth_token": "test-auth-token-01"})
    config = factory.Dict({"from_number": "+15005550006"})

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from connectors.services import connector_create

        return _create_through(connector_create, kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        from connectors.runtime import credentials_store
        from connectors.services import connector_check

        credentials, config = connector_check(
            provider=kwargs["provider"],
            mode=kwargs["mode"],
            credentials=kwargs.pop("credentials"),
            config=kwargs.pop("config"),
        )
        connector = model_class(*args, config=config, **kwargs)
        credentials_store(connector, credentials)
        return connector


class OutboundMessageFactory(factory.django.DjangoModelFactory):
    """A side effect in the outbox; given a connector, it takes its organization and provider."""

    class Meta:
        model = OutboundMessage

    connector = None
    organization = factory.Maybe(
        "connector",
        yes_declaration=factory.SelfAttribute("connector.organization"),
        no_declaration=factory.SubFactory(OrganizationFactory),
    )
    provider = factory.LazyAttribute(
        lambda o: o.connector.provider if o.connector else "twilio_sms"
    )
    action = "send_sms"
    idempotency_key = factory.Sequence(lambda n: f"test-key-{n}")
    target = "+14155550100"
    status = OutboxStatus.PENDING


class SuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suppression

    organization = factory.SubFactory(OrganizationFactory)
    channel = SuppressionChannel.SMS
    address = factory.Sequence(lambda n: f"+447800{n:06d}")
    source = SuppressionSource.STAFF


# --- runs -------------------------------------------------------------------------------------


class AgentRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentRun

    organization = factory.SubFactory(OrganizationFactory)
    agent = "support"
    intent = "triage"
    input = factory.LazyFunction(lambda: {"content": "hello"})
    input_hash = "0" * 64


class RunApprovalFactory(factory.django.DjangoModelFactory):
    """A pending approval of a run held for it (the run is ``awaiting_approval``)."""

    class Meta:
        model = RunApproval

    run = factory.SubFactory(AgentRunFactory, status="awaiting_approval")
    reasons = factory.LazyFunction(lambda: ["Email sends need approval"])
    preview = factory.LazyFunction(
        lambda: {"summary": "Email to 1 recipient", "recipients": 1, "items": [], "more": 0}
    )
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=72))


class RunStepFactory(factory.django.DjangoModelFactory):
    """A finished step of one second."""

    class Meta:
        model = RunStep

    run = factory.SubFactory(AgentRunFactory)
    seq = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"step {n}")
    status = StepStatus.COMPLETED
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyAttribute(lambda s: s.started_at + timedelta(seconds=1))
    duration_ms = 1000


class RunRollupFactory(factory.django.DjangoModelFactory):
    """One completed 150 ms run counted in the current UTC hour.

    A rollup is a unique cell: a second one for the same organization and hour needs another
    agent, status, error code or connector.
    """

    class Meta:
        model = RunRollup

    organization = factory.SubFactory(OrganizationFactory)
    hour = factory.LazyFunction(
        lambda: timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    )
    agent = "support"
    status = RunStatus.COMPLETED
    count = 1
    duration_total_ms = 150
    h05 = 1  # the 100-178 ms bucket


# --- agents -----------------------------------------------------------------------------------


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    tone = "friendly"


class ContentDraftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentDraft

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Draft {n}")
    topic = "Spring launch"
    body = "Our spring collection is here."
    status = DraftStatus.DRAFT


class KnowledgeArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KnowledgeArticle

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Article {n}")
    body = "Orders ship within two working days."


class ABTestFactory(factory.django.DjangoModelFactory):
    """A draft test of two subject lines, shaped as ``abtests.services.abtest_create`` stores them."""

    class Meta:
        model = ABTest

    organization = factory.SubFactory(OrganizationFactory)
    campaign_label = "spring"
    name = factory.Sequence(lambda n: f"Subject test {n}")
    variants = factory.LazyFunction(
        lambda: [
            {"key": "A", "subject": "Spring is here", "body": "Hello", "template_id": None},
            {"key": "B", "subject": "New for spring", "body": "Hello", "template_id": None},
        ]
    )


# --- audience ---------------------------------------------------------------------------------


class ContactFactory(factory.django.DjangoModelFactory):
    """A contact with no consent recorded.

    Its phone is in the UK's drama range, so it never takes a +1415555… number a test writes out.
    """

    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    phone = factory.Sequence(lambda n: f"+447700{n:06d}")


class ContactListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactList

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"List {n}")


class ContactListMembershipFactory(factory.django.DjangoModelFactory):
    """A contact on a list, both of one organization."""

    class Meta:
        model = ContactListMembership

    contact_list = factory.SubFactory(ContactListFactory)
    contact = factory.SubFactory(
        ContactFactory, organization=factory.SelfAttribute("..contact_list.organization")
    )


class ConsentEventFactory(factory.django.DjangoModelFactory):
    """A grant of SMS consent in a contact's history."""

    class Meta:
        model = ConsentEvent

    contact = factory.SubFactory(ContactFactory)
    organization = factory.SelfAttribute("contact.organization")
    channel = "sms"
    status = "granted"
    source = "web form"
    at = factory.LazyFunction(timezone.now)


class InboundMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundMessage

    organization = factory.SubFactory(OrganizationFactory)
    channel = "sms"
    address = "+14155550100"
    body = "hi"


# --- automation -------------------------------------------------------------------------------


class TriggerFactory(factory.django.DjangoModelFactory):
    """A trigger made by ``trigger_create``: a generic one gets a real, encrypted signing secret.

    The secret itself is not kept; a test that signs requests creates its trigger through the
    service, which answers it once.  A provider source needs ``connector`` of its organization.
    """

    class Meta:
        model = Trigger

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Trigger {n}")
    source = "generic"
    agent = "support"
    intent = "triage"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from agents.automation.services import trigger_create

        trigger, _secret = _create_through(trigger_create, kwargs)
        return trigger


def _next_run(schedule: Any) -> Any:
    from agents.automation.schedules import schedule_times

    if schedule.paused:
        return None
    return schedule_times(
        kind=schedule.kind,
        cron=schedule.cron,
        interval_minutes=schedule.interval_minutes,
        tz=schedule.timezone,
        after=timezone.now(),
        count=1,
    )[0]


class RecurringScheduleFactory(factory.django.DjangoModelFactory):
    """A weekly cron schedule, its next time computed as the service computes it."""

    class Meta:
        model = RecurringSchedule

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Schedule {n}")
    agent = "support"
    intent = "triage"
    payload = factory.LazyFunction(lambda: {"content": "Weekly check-in"})
    kind = ScheduleKind.CRON
    cron = "0 9 * * 1"
    interval_minutes = None
    timezone = "UTC"
    paused = False
    next_run_at = factory.LazyAttribute(_next_run)


class BatchFactory(factory.django.DjangoModelFactory):
    """A running batch over a contact list of its organization (empty unless a test adds people)."""

    class Meta:
        model = Batch

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Batch {n}")
    agent = "support"
    intent = "triage"
    source = BatchSource.CONTACT_LIST
    contact_list = factory.SubFactory(
        ContactListFactory, organization=factory.SelfAttribute("..organization")
    )
    defaults = factory.LazyFunction(lambda: {"content": "Hello"})
    status = BatchStatus.RUNNING


class BatchItemFactory(factory.django.DjangoModelFactory):
    """An input of a batch and the queued run it became."""

    class Meta:
        model = BatchItem

    batch = factory.SubFactory(BatchFactory)
    index = factory.Sequence(lambda n: n)
    input = factory.LazyFunction(lambda: {"content": "Hello"})
    status = ItemStatus.QUEUED
    run = factory.SubFactory(
        AgentRunFactory,
        organization=factory.SelfAttribute("..batch.organization"),
        agent=factory.SelfAttribute("..batch.agent"),
        intent=factory.SelfAttribute("..batch.intent"),
        input=factory.SelfAttribute("..input"),
        trigger=RunTrigger.BATCH,
    )


class CalendarFeedFactory(factory.django.DjangoModelFactory):
    """An organization's calendar link (agents.automation.feed signs it)."""

    class Meta:
        model = CalendarFeed

    organization = factory.SubFactory(OrganizationFactory)
    nonce = factory.Sequence(lambda n: f"nonce{n:06d}")


# --- "Connect with …" (connectors/oauth) ------------------------------------------------------


class OAuthAppFactory(factory.django.DjangoModelFactory):
    """An organization's own app, saved by ``oauth_app_save`` (the secret encrypted)."""

    class Meta:
        model = "connectors.OAuthApp"

    organization = factory.SubFactory(OrganizationFactory)
    app = "reddit"
    client_id = "redditwebclient1"
    client_secret = "reddit-secret-0123456789"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from connectors.oauth.services import oauth_app_save

        return _create_through(oauth_app_save, kwargs)


class OAuthGrantFactory(factory.django.DjangoModelFactory):
    """Tokens waiting for their account to be chosen, encrypted to the row as the flow does."""

    class Meta:
        model = "connectors.OAuthGrant"

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.LazyAttribute(
        lambda o: MembershipFactory(organization=o.organization, role=Role.OWNER).user
    )
    target = "reddit"
    accounts = factory.LazyFunction(
        lambda: [{"id": "acme_bot", "name": "u/acme_bot", "provider": "reddit", "detail": ""}]
    )
    scopes = factory.LazyFunction(lambda: ["identity", "read", "submit"])
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))
    secrets = factory.Dict({"access_token": "reddit-access-0001", "refresh_token": "r-0001"})

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        import json

        from connectors import crypto

        values = kwargs.pop("secrets")
        grant = model_class(**kwargs)
        grant.secrets = crypto.encrypt(json.dumps(values), aad=grant.pk.bytes)
        grant.save()
        return grant


class OAuthLinkFactory(factory.django.DjangoModelFactory):
    """How a connector was connected with a Connect button."""

    class Meta:
        model = "connectors.OAuthLink"

    connector = factory.SubFactory(ConnectorFactory)
    target = "reddit"
    account_id = "acme_bot"
    account_name = "u/acme_bot"
    scopes = factory.LazyFunction(lambda: ["identity", "read", "submit"])


class RecipeFactory(factory.django.DjangoModelFactory):
    """A commerce recipe, switched off with its kind's default settings (as recipes_of makes it)."""

    class Meta:
        model = Recipe

    organization = factory.SubFactory(OrganizationFactory)
    kind = RecipeKind.ABANDONED_CHECKOUT
    enabled = False

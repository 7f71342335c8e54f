"""API schemas of triggers, schedules, contacts and batches: separate In and Out, never a secret out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.urls import reverse
from ninja import Schema
from pydantic import Field

from agents.automation.batches import batch_progress
from agents.automation.inbound import excerpt_redact
from agents.automation.models import (
    BatchSource,
    BatchStatus,
    DeliveryStatus,
    ItemStatus,
    ScheduleKind,
)
from agents.automation.schedules import schedule_times
from agents.automation.sources import GENERIC
from connectors.registry import get_provider_class
from neonhub.core.schemas import In
from runs.models import RunStatus

# How a sender signs a generic trigger's webhooks, answered with the secret.
SIGNING = (
    "Standard Webhooks (https://www.standardwebhooks.com): send webhook-id (a unique id per "
    "event, kept on retries), webhook-timestamp (unix seconds) and webhook-signature "
    '("v1," + base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>", keyed by the '
    "base64-decoded part of the secret after whsec_); any Standard Webhooks library does it."
)


# --- triggers -------------------------------------------------------------------------------


class TriggerIn(In):
    name: str = Field(min_length=1, max_length=100)
    source: str = Field(
        min_length=1,
        max_length=40,
        description='What starts the run: "<provider>.<event>" (GET /triggers/sources) or "generic"',
    )
    connector_id: UUID | None = Field(
        default=None, description="For provider sources: one connector (default: any)"
    )
    agent: str = Field(min_length=1, max_length=64)
    intent: str = Field(min_length=1, max_length=64)
    mapping: dict[str, str] = Field(
        default_factory=dict,
        description='Payload field → event path, e.g. {"from": "From", "body": "Body"}',
    )
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Payload fields every run gets"
    )
    enabled: bool = True


class TriggerPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    agent: str | None = Field(default=None, min_length=1, max_length=64)
    intent: str | None = Field(default=None, min_length=1, max_length=64)
    mapping: dict[str, str] | None = None
    defaults: dict[str, Any] | None = None
    enabled: bool | None = None


def trigger_webhook_url(trigger) -> str | None:
    if trigger.source == GENERIC:
        return f"{settings.NEONHUB_PUBLIC_URL}{reverse('hooks:generic', args=[str(trigger.pk)])}"
    if trigger.connector_id is None:
        return None

    urls = get_provider_class(trigger.connector.provider).webhook_urls(trigger.connector_id)
    return urls.get("inbound") or urls.get("events")


class TriggerOut(Schema):
    id: UUID
    name: str
    source: str
    connector_id: UUID | None
    agent: str
    intent: str
    mapping: dict[str, str]
    defaults: dict[str, Any]
    enabled: bool
    webhook_url: str | None = Field(
        description="Where the sender posts (per connector for provider sources)"
    )
    secret_set: str | None = Field(description="Mask of the signing secret of a generic trigger")
    last_delivery_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_webhook_url(obj) -> str | None:
        return trigger_webhook_url(obj)

    @staticmethod
    def resolve_secret_set(obj) -> str | None:
        return obj.secret_mask or None


class TriggerCreatedOut(TriggerOut):
    secret: str | None = Field(
        default=None, description="Shown once: sign generic webhooks with it"
    )
    signing: str | None = Field(default=None, description="How to sign with the secret")

    @staticmethod
    def resolve_secret(obj) -> str | None:
        # Never the stored (encrypted) column: only the value just generated, once.
        return getattr(obj, "secret_once", None)

    @staticmethod
    def resolve_signing(obj) -> str | None:
        return SIGNING if getattr(obj, "secret_once", None) else None


class SecretOut(Schema):
    secret: str
    signing: str = SIGNING


class SourceOut(Schema):
    source: str
    label: str
    provider: str | None = Field(description="The provider whose connector it may be tied to")


class DeliveryOut(Schema):
    id: UUID
    source: str
    status: Literal[tuple(DeliveryStatus.values)]  # type: ignore[valid-type]
    http_status: int
    reason: str
    event_id: str
    trigger_id: UUID | None
    connector_id: UUID | None
    run_id: UUID | None
    remote_addr: str
    headers: dict[str, str]
    body_excerpt: str
    created_at: datetime

    @staticmethod
    def resolve_body_excerpt(obj) -> str:
        # Redacted when stored; again on the way out for rows kept from before that.
        return excerpt_redact(obj.body_excerpt)


class DeliveryPageOut(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


# --- schedules ------------------------------------------------------------------------------


class ScheduleIn(In):
    name: str = Field(min_length=1, max_length=100)
    agent: str = Field(min_length=1, max_length=64)
    intent: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)
    cron: str | None = Field(
        default=None, max_length=120, description="Five fields, e.g. '0 9 * * 2' (Tuesdays 9:00)"
    )
    interval_minutes: int | None = Field(
        default=None, description="Instead of cron: every N minutes"
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="Default: the organization's"
    )
    paused: bool = False
    campaignId: UUID | None = Field(  # noqa: N815 - the name the campaigns contract gives it
        default=None, description="The campaign its runs count for"
    )


class SchedulePatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    agent: str | None = Field(default=None, min_length=1, max_length=64)
    intent: str | None = Field(default=None, min_length=1, max_length=64)
    payload: dict[str, Any] | None = None
    cron: str | None = Field(default=None, max_length=120)
    interval_minutes: int | None = None
    timezone: str | None = Field(default=None, max_length=64)
    campaignId: UUID | None = Field(  # noqa: N815 - the name the campaigns contract gives it
        default=None, description="The campaign its runs count for; null for none"
    )


class PreviewIn(In):
    cron: str | None = Field(default=None, max_length=120)
    interval_minutes: int | None = None
    timezone: str | None = Field(default=None, max_length=64)


class PreviewOut(Schema):
    timezone: str
    times: list[datetime]


class ScheduleOut(Schema):
    id: UUID
    name: str
    agent: str
    intent: str
    payload: dict[str, Any]
    kind: ScheduleKind
    cron: str
    interval_minutes: int | None
    timezone: str
    paused: bool
    next_run_at: datetime | None
    next_runs: list[datetime] = Field(description="The next five times, in the schedule's timezone")
    last_run_id: UUID | None
    last_run_status: RunStatus | None
    last_run_at: datetime | None
    skipped: int
    last_skip_reason: str
    created_at: datetime
    campaignId: UUID | None = Field(  # noqa: N815 - the name the campaigns contract gives it
        default=None, description="The campaign its runs count for"
    )

    @staticmethod
    def resolve_campaignId(obj):  # noqa: N802
        return obj.campaign_id

    @staticmethod
    def resolve_next_runs(obj) -> list[datetime]:
        from django.utils import timezone

        if obj.paused:
            return []
        return schedule_times(
            kind=obj.kind,
            cron=obj.cron,
            interval_minutes=obj.interval_minutes,
            tz=obj.timezone,
            after=timezone.now(),
            anchor=obj.created_at,
        )

    @staticmethod
    def resolve_last_run_status(obj) -> str | None:
        return obj.last_run.status if obj.last_run_id and obj.last_run else None


# --- batches --------------------------------------------------------------------------------


class BatchIn(In):
    name: str = Field(default="", max_length=200)
    agent: str = Field(min_length=1, max_length=64)
    intent: str = Field(min_length=1, max_length=64)
    items: list[dict[str, Any]] | None = Field(default=None, description="One payload per input")
    contact_list_id: UUID | None = Field(
        default=None, description="Instead of items: one input per contact"
    )
    segment_id: UUID | None = Field(
        default=None,
        description="Instead of items: the segment's matching contacts, frozen into a new "
        "contact list when the batch starts (its id is the batch's contact_list_id)",
    )
    mapping: dict[str, str] = Field(
        default_factory=dict, description="Payload field → item field, CSV column or contact field"
    )
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Payload fields every input gets"
    )
    campaignId: UUID | None = Field(  # noqa: N815 - the name the campaigns contract gives it
        default=None, description="The campaign its runs count for"
    )


class ProgressOut(Schema):
    total: int
    done: int
    failed: int
    cancelled: int
    remaining: int
    in_flight: int
    fed: int
    percent: float
    rate_per_second: float
    eta_seconds: int | None


class BatchOut(Schema):
    id: UUID
    name: str
    agent: str
    intent: str
    source: BatchSource
    status: Literal[tuple(BatchStatus.values)]  # type: ignore[valid-type]
    pause_reason: str
    contact_list_id: UUID | None
    mapping: dict[str, str]
    defaults: dict[str, Any]
    progress: ProgressOut
    started_at: datetime
    finished_at: datetime | None
    created_at: datetime
    campaignId: UUID | None = Field(  # noqa: N815 - the name the campaigns contract gives it
        default=None, description="The campaign its runs count for"
    )

    @staticmethod
    def resolve_campaignId(obj):  # noqa: N802
        return obj.campaign_id

    @staticmethod
    def resolve_progress(obj) -> dict:

        return batch_progress(obj)


class BatchPageOut(Schema):
    items: list[BatchOut]
    next_cursor: str | None


class BatchItemOut(Schema):
    index: int
    status: ItemStatus
    input: dict[str, Any]
    run_id: UUID | None
    run_status: RunStatus | None
    error: str

    @staticmethod
    def resolve_run_status(obj) -> str | None:
        return obj.run.status if obj.run_id and obj.run else None


class BatchItemPageOut(Schema):
    items: list[BatchItemOut]
    next_cursor: str | None


# --- the calendar ---------------------------------------------------------------------------


class CalendarQuery(Schema):
    start: datetime | None = Field(
        default=None,
        description="From (with a time zone); default now.  Past entries are the "
        "scheduled publishes that already went out",
    )
    end: datetime | None = Field(
        default=None, description="Until, excluded; default seven days after start, at most 62"
    )
    channel: str | None = Field(
        default=None,
        description="Only entries going out on this channel: facebook_page, instagram, reddit, "
        "youtube, tiktok, email, sms or whatsapp",
    )


class CalendarEntryOut(Schema):
    kind: str = Field(description="publish (a scheduled social post), run or schedule")
    run_id: UUID | None = Field(description="The scheduled run (publish, run)")
    schedule_id: UUID | None = Field(description="The recurring schedule (schedule)")
    agent: str
    intent: str
    channels: list[str]
    due_at: datetime = Field(description="When it goes out (or went out), UTC")
    status: str = Field(description="scheduled, or the run's status once it has started")
    title: str
    summary: str
    page: str = Field(description="The run's or the schedule's page")


class CalendarOut(Schema):
    start: datetime
    end: datetime
    items: list[CalendarEntryOut]
    capped_schedules: list[str] = Field(
        description="Schedules with more occurrences in the range than listed (100 each)"
    )
    runs_capped: bool = Field(description="More than 500 scheduled runs in the range")


# --- commerce recipes -----------------------------------------------------------------------


class RecipeStep(Schema):
    delay_minutes: int = Field(ge=0, description="Minutes after the event (0: at once)")
    subject: str = Field(default="", max_length=300, description="Email subject ({{placeholders}})")
    body: str = Field(max_length=20000, description="Message text with {{placeholders}}")


class RecipeActivityOut(Schema):
    id: UUID
    created_at: datetime
    subject: str = Field(description="checkout:<token>, order:<id> or customer:<id>")
    step: int
    channel: str
    recipient: str
    state: Literal["scheduled", "running", "sent", "cancelled", "refused", "failed", "skipped"]
    text: str = Field(description="What happened, in words (the gate's reason when refused)")
    due_at: datetime | None
    run_id: UUID | None


class RecipeOut(Schema):
    id: UUID
    kind: Literal["abandoned_checkout", "review_request", "welcome_sequence"]
    title: str
    description: str
    topics: list[str] = Field(description="The Shopify webhook topics it listens to")
    placeholders: list[str]
    enabled: bool
    connector_id: UUID | None = Field(description="The Shopify connector (null: any)")
    channel: Literal["email", "sms"]
    steps: list[RecipeStep]
    link_template: str | None = None
    counts: dict[str, int] = Field(description="Actions by outcome over the last 500")
    recent: list[RecipeActivityOut]


class RecipePatch(Schema):
    enabled: bool | None = None
    connector_id: UUID | None = None
    channel: Literal["email", "sms"] | None = None
    steps: list[RecipeStep] | None = Field(default=None, min_length=1, max_length=5)
    link_template: str | None = Field(default=None, max_length=500)


class RecipePreviewIn(Schema):
    channel: Literal["email", "sms"] | None = None
    steps: list[RecipeStep] | None = Field(default=None, min_length=1, max_length=5)
    link_template: str | None = Field(default=None, max_length=500)


class RecipePreviewOut(Schema):
    steps: list[RecipeStep]

"""Which runs wait for a person's approval, and what they will send.

An organization's approval settings (``Organization.settings["approvals"]``, validated by
``ApprovalSettings``) name the channels whose sends wait (social publishing per platform,
email, SMS, WhatsApp, support replies) and a recipient count above which an email or message
send waits.  ``approval_hold`` answers, for a validated run about to start, whether it waits,
why, until when, and with which preview: the intent's own ``preview`` (``agents.base.intent``),
computed before anything is sent.  An intent marked ``always_approve`` (a Google Ads budget
change) is held whatever the settings say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.base import Agent, validation_details
from agents.fields import CHOICE_LABELS, SOCIAL_PLATFORMS
from neonhub.core.errors import InvalidInput
from neonhub.core.models import Organization
from runs.models import AgentRun, ApprovalState, Trigger

SETTINGS_KEY = "approvals"
# The platforms of agents.publishing.Target (a test keeps the two the same; importing it here
# would make a circle: publishing starts runs through agents.services, which asks this module).
SOCIAL_PLATFORMS: dict[str, str] = {slug: CHOICE_LABELS[slug] for slug in SOCIAL_PLATFORMS}
# (agent, intent) → the settings flag that holds it.  Social publishing is held per platform.
CHANNELS: dict[tuple[str, str], tuple[str, str]] = {
    ("email", "send"): ("email_send", "Email sends"),
    ("messaging", "send-sms"): ("sms_send", "SMS sends"),
    ("messaging", "send-whatsapp"): ("whatsapp_send", "WhatsApp sends"),
    ("support", "reply"): ("support_reply", "Support replies that send"),
}
# The sends the recipient threshold applies to.
COUNTED = frozenset({("email", "send"), ("messaging", "send-sms"), ("messaging", "send-whatsapp")})


class ApprovalSettings(BaseModel):
    """What waits for approval in one organization.  Nothing waits by default."""

    model_config = ConfigDict(extra="forbid")

    social_platforms: list[str] = Field(
        default_factory=list, description="Publishing to any of these platforms waits"
    )
    email_send: bool = False
    sms_send: bool = False
    whatsapp_send: bool = False
    support_reply: bool = False
    recipients_above: int | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="An email or message send to more than this many recipients waits",
    )
    expires_hours: int = Field(
        default=72, ge=1, le=720, description="An unapproved run is cancelled after this long"
    )

    @field_validator("social_platforms")
    @classmethod
    def _platforms(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in SOCIAL_PLATFORMS]
        if unknown:
            raise ValueError(f"unknown platform {unknown[0]!r}")
        return [p for p in SOCIAL_PLATFORMS if p in value]  # in a fixed order, once each

    @property
    def anything(self) -> bool:
        return bool(
            self.social_platforms
            or self.email_send
            or self.sms_send
            or self.whatsapp_send
            or self.support_reply
            or self.recipients_above is not None
        )


def settings_parse(raw: Any) -> ApprovalSettings:
    """Settings from a dict; bad values raise ``InvalidInput`` naming the field."""
    try:
        return ApprovalSettings.model_validate(raw or {})
    except ValidationError as exc:
        details = validation_details(exc)
        raise InvalidInput(
            "; ".join(f"{d['field'] or 'settings'}: {d['message']}" for d in details),
            details=details,
        ) from None


def settings_of(organization: Organization) -> ApprovalSettings:
    """The organization's settings; a stored value that no longer validates holds nothing back
    rather than failing every start (the settings page shows and replaces it)."""
    try:
        return settings_parse((organization.settings or {}).get(SETTINGS_KEY))
    except InvalidInput:
        return ApprovalSettings()


@dataclass(frozen=True)
class Hold:
    reasons: list[str]
    preview: dict
    expires_at: datetime


def hold_reasons(
    settings: ApprovalSettings, *, agent: str, intent: str, data: BaseModel, recipients: int | None
) -> list[str]:
    """Why the organization's settings hold this run, in words; empty when it may go."""
    reasons: list[str] = []
    if (agent, intent) == ("social", "publish"):
        held = [p for p in getattr(data, "platforms", []) if p in settings.social_platforms]
        if held:
            names = ", ".join(SOCIAL_PLATFORMS[p] for p in held)
            reasons.append(f"Publishing to {names} needs approval")
    flag = CHANNELS.get((agent, intent))
    if flag and getattr(settings, flag[0]):
        if (agent, intent) != ("support", "reply") or getattr(data, "send", True):
            reasons.append(f"{flag[1]} need approval")
    if (
        (agent, intent) in COUNTED
        and settings.recipients_above is not None
        and recipients is not None
        and recipients > settings.recipients_above
    ):
        reasons.append(
            f"Sends to more than {settings.recipients_above} recipients need approval "
            f"(this one has {recipients})"
        )
    return reasons


def recipient_count(*, agent: str, intent: str, data: BaseModel) -> int | None:
    if (agent, intent) == ("email", "send"):
        return len({r.email for r in data.recipients})  # type: ignore[attr-defined]
    if (agent, intent) in COUNTED:
        return 1
    return None


def preview_of(*, organization: Organization, agent: Agent, intent: str, data: BaseModel) -> dict:
    """What the run will send, from the intent's own preview; the input itself otherwise."""
    spec = agent.get_intent(intent)
    if spec.preview is not None:
        return spec.preview(data, organization)
    return {
        "summary": f"{agent.slug}/{intent}",
        "recipients": None,
        "items": [{"to": "", "action": intent, "content": data.model_dump(mode="json")}],
        "more": 0,
    }


def _exempt(parent: AgentRun | None, trigger: str) -> bool:
    """A Retry of an approved run, or the scheduled child a publish approved for later makes,
    sends what was approved: it is not asked again.  "Run again with new input" is."""
    if parent is None or trigger not in (Trigger.RETRY, Trigger.SCHEDULE):
        return False
    # None when it has none: the reverse one-to-one's DoesNotExist is an AttributeError.
    approval = getattr(parent, "approval", None)
    if approval is not None and approval.state == ApprovalState.APPROVED:
        return True
    # Further down a lineage (a retry of a retry): the lineage's first run decided.
    return _exempt(parent.parent, trigger) if parent.parent_id else False


def approval_hold(
    *,
    organization: Organization,
    agent: Agent,
    intent: str,
    data: BaseModel,
    trigger: str,
    parent: AgentRun | None = None,
    now: datetime | None = None,
) -> Hold | None:
    """Whether a run about to start waits for approval; ``None`` when it may be queued.

    The preview can refuse the input (``InvalidInput``): what a platform would reject, a
    placeholder without a value.
    """
    settings = settings_of(organization)
    if _exempt(parent, trigger):
        return None
    always = agent.get_intent(intent).always_approve
    if always:
        preview = preview_of(organization=organization, agent=agent, intent=intent, data=data)
        expires = (now or timezone.now()) + timedelta(hours=settings.expires_hours)
        return Hold(reasons=[always], preview=preview, expires_at=expires)
    if not settings.anything:
        return None
    count = recipient_count(agent=agent.slug, intent=intent, data=data)
    reasons = hold_reasons(settings, agent=agent.slug, intent=intent, data=data, recipients=count)
    if not reasons:
        return None
    preview = preview_of(organization=organization, agent=agent, intent=intent, data=data)
    now = now or timezone.now()
    return Hold(
        reasons=reasons, preview=preview, expires_at=now + timedelta(hours=settings.expires_hours)
    )


def always_held(agents: list[Agent]) -> list[str]:
    """The reasons of the intents every run of which waits, whatever the settings say."""
    return [
        spec.always_approve
        for agent in agents
        for spec in agent.intents.values()
        if spec.always_approve
    ]

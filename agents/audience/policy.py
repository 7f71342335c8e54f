"""The organization's compliance settings: the typed shape of what the gate reads, read and saved.

``compliance.message_gate`` reads four keys of ``Organization.settings``; this module is the one
place that says what they may hold, so the settings page and ``PUT /settings/compliance`` store
exactly what the gate obeys on the next message:

- ``frequency_caps``: ``{"sms": {"day": 3, "week": 10}}``, marketing messages per recipient;
- ``quiet_hours``: ``{"start": "21:00", "end": "08:00", "channels": [...], "days": [...]}`` in
  the recipient's timezone (the contact's, else the organization's); absent when off;
- ``require_consent``: the channels that need express opt-in (consent recorded as granted);
  the others send unless the person revoked consent or is suppressed (soft opt-in);
- ``whatsapp_templates``: the approved templates the organization sends outside WhatsApp's
  24-hour window (name, language, category, body with ``{{1}}`` placeholders, Content SID).

Saving replaces the four keys in one transaction with the audit event (``settings.compliance``).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from neonhub.core import audit
from neonhub.core.errors import InvalidInput
from neonhub.core.models import Organization

CHANNELS: dict[str, str] = {"sms": "SMS", "whatsapp": "WhatsApp", "email": "Email"}
DAYS: dict[str, str] = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
KEYS = ("frequency_caps", "quiet_hours", "require_consent", "whatsapp_templates")
TEMPLATE_CATEGORIES: dict[str, str] = {
    "marketing": "Marketing",
    "utility": "Utility",
    "authentication": "Authentication",
}
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Cap(BaseModel):
    """Marketing messages one recipient may get on a channel; empty means no cap."""

    model_config = ConfigDict(extra="forbid")

    day: int | None = Field(default=None, ge=0, le=1000, description="At most this many a day")
    week: int | None = Field(default=None, ge=0, le=5000, description="At most this many a week")

    @model_validator(mode="after")
    def _week_covers_day(self) -> Cap:
        if self.day is not None and self.week is not None and self.week < self.day:
            raise ValueError("the weekly cap cannot be lower than the daily cap")
        return self


class QuietHours(BaseModel):
    """A nightly window (``start`` to ``end``, local to the recipient) when marketing waits."""

    model_config = ConfigDict(extra="forbid")

    start: str = Field(description="HH:MM, 24-hour clock")
    end: str = Field(description="HH:MM, 24-hour clock; before start means overnight")
    channels: list[str] = Field(min_length=1, description="The channels it applies to")
    days: list[str] = Field(
        default_factory=lambda: list(DAYS), min_length=1, description="The days it starts on"
    )

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not CLOCK.match(value or ""):
            raise ValueError("a time as HH:MM, e.g. 21:00")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        return _known(value, CHANNELS, "channel")

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        return _known(value, DAYS, "day")

    @model_validator(mode="after")
    def _window(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end are the same time: the window would be empty")
        return self


class WhatsAppTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=512,
        pattern=r"^[a-z0-9_]+$",
        description="As approved by Meta: lower-case letters, digits and underscores",
    )
    language: str = Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", description="e.g. en or en_US")
    category: Literal["marketing", "utility", "authentication"]
    body: str = Field(min_length=1, max_length=1024, description="Placeholders {{1}}, {{2}}, …")
    content_sid: str = Field(
        default="",
        pattern=r"^(HX[0-9a-fA-F]{32})?$",
        description="Twilio Content SID (HX…) that send_template takes; optional",
    )

    @field_validator("body")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        numbers = sorted({int(n) for n in PLACEHOLDER.findall(value)})
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("placeholders must be numbered {{1}}, {{2}}, … without gaps")
        return value


class ComplianceSettings(BaseModel):
    """What the compliance gate obeys in one organization.  Nothing is capped by default."""

    model_config = ConfigDict(extra="forbid")

    frequency_caps: dict[str, Cap] = Field(default_factory=dict)
    quiet_hours: QuietHours | None = None
    require_consent: list[str] = Field(
        default_factory=list, description="Channels that need express opt-in (consent granted)"
    )
    whatsapp_templates: list[WhatsAppTemplate] = Field(default_factory=list, max_length=100)

    @field_validator("frequency_caps")
    @classmethod
    def _cap_channels(cls, value: dict[str, Cap]) -> dict[str, Cap]:
        _known(list(value), CHANNELS, "channel")
        return {c: value[c] for c in CHANNELS if c in value}

    @field_validator("require_consent")
    @classmethod
    def _consent_channels(cls, value: list[str]) -> list[str]:
        return _known(value, CHANNELS, "channel")

    @field_validator("whatsapp_templates")
    @classmethod
    def _unique(cls, value: list[WhatsAppTemplate]) -> list[WhatsAppTemplate]:
        seen = set()
        for template in value:
            if (template.name, template.language) in seen:
                raise ValueError(f"{template.name} ({template.language}) is listed twice")
            seen.add((template.name, template.language))
        return value

    def stored(self) -> dict[str, Any]:
        """The four keys as the gate reads them (caps without empty limits, no quiet hours: absent)."""
        caps = {
            channel: {k: v for k, v in cap.model_dump().items() if v is not None}
            for channel, cap in self.frequency_caps.items()
        }
        return {
            "frequency_caps": {c: limits for c, limits in caps.items() if limits},
            "quiet_hours": self.quiet_hours.model_dump() if self.quiet_hours else None,
            "require_consent": self.require_consent,
            "whatsapp_templates": [t.model_dump() for t in self.whatsapp_templates],
        }


def _known(values: list[str], names: dict[str, str], what: str) -> list[str]:
    unknown = [v for v in values if v not in names]
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; one of {', '.join(names)}")
    return [name for name in names if name in values]  # a fixed order, once each


def error_details(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {
            "field": ".".join(str(p) for p in err["loc"]) or "settings",
            "message": err["msg"].removeprefix("Value error, "),
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]


def compliance_settings_parse(raw: Any) -> ComplianceSettings:
    """Settings from a dict; bad values raise ``InvalidInput`` whose details name each field."""
    try:
        return ComplianceSettings.model_validate(raw or {})
    except ValidationError as exc:
        details = error_details(exc)
        raise InvalidInput(
            "; ".join(f"{d['field']}: {d['message']}" for d in details), details=details
        ) from None


def compliance_settings_of(*, organization: Organization) -> ComplianceSettings:
    """The organization's settings as the page and the API show them.  A stored value that no
    longer validates is shown as unset (the gate skips damaged values too) until replaced."""
    stored = organization.settings or {}
    raw = {key: stored[key] for key in KEYS if stored.get(key) is not None}
    try:
        return compliance_settings_parse(raw)
    except InvalidInput:
        values: dict[str, Any] = {}
        for key, value in raw.items():
            try:
                ComplianceSettings.model_validate({key: value})
                values[key] = value
            except ValidationError:
                continue
        return ComplianceSettings.model_validate(values)


def compliance_settings_save(
    *, principal, values: dict | ComplianceSettings, request=None
) -> ComplianceSettings:
    """Replace the organization's compliance settings; the gate obeys them on the next message.

    Bad values raise ``InvalidInput`` naming the field; the change is audited
    (``settings.compliance``) in the same transaction.
    """
    parsed = values if isinstance(values, ComplianceSettings) else compliance_settings_parse(values)
    stored = parsed.stored()
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=principal.organization.pk)
        current = org.settings or {}
        before = {key: current.get(key) for key in KEYS}
        after = {key: stored[key] for key in KEYS}
        merged = {k: v for k, v in current.items() if k not in KEYS}
        merged.update({k: v for k, v in after.items() if v not in (None, [], {})})
        org.settings = merged
        org.save(update_fields=["settings", "updated_at"])
        changes = audit.changes_between(
            {k: v for k, v in before.items() if v not in (None, [], {})},
            {k: v for k, v in after.items() if v not in (None, [], {})},
        )
        if changes:
            audit.audit_record(
                action="settings.compliance",
                principal=principal,
                organization=org,
                target=org,
                target_label="Compliance settings",
                changes=changes,
                request=request,
            )
    principal.organization.settings = org.settings
    return parsed


def quiet_window_applies(*, quiet: dict, local_start_weekday: int) -> bool:
    """Whether a quiet window that started on ``local_start_weekday`` (Monday 0) is kept."""
    days = quiet.get("days") or list(DAYS)
    return list(DAYS)[local_start_weekday] in days

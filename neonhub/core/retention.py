"""How long an organization keeps its run history: the setting, read and saved.

``Organization.settings["retention"] = {"days": N}``; absent, the installation's default
``NEONHUB_RETENTION_DAYS`` applies.  The hourly retention job (``neonhub.ops.retention``)
deletes finished runs (with their steps and approvals), outbox rows and webhook deliveries
older than that.  Saving is audited (``settings.retention``) in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from neonhub.core import audit
from neonhub.core.errors import InvalidInput
from neonhub.core.models import Organization

SETTINGS_KEY = "retention"
# The frequency caps (agents.audience.policy) count a week of messages from the outbox: a
# shorter history would let a capped recipient be messaged again.
MIN_DAYS = 7
MAX_DAYS = 3650


class RetentionSettings(BaseModel):
    """How many days of run history the organization keeps; ``None``: the installation's default."""

    model_config = ConfigDict(extra="forbid")

    days: int | None = Field(
        default=None,
        ge=MIN_DAYS,
        le=MAX_DAYS,
        description=(
            "Finished runs, their steps, outbox rows and webhook deliveries older than this many "
            "days are deleted; empty: the installation's default"
        ),
    )


class RetentionOut(RetentionSettings):
    default_days: int = Field(description="The installation's default (NEONHUB_RETENTION_DAYS)")
    effective_days: int = Field(description="The days that apply: days, else the default")


def default_days() -> int:
    return max(MIN_DAYS, int(settings.NEONHUB_RETENTION_DAYS))


def retention_parse(raw: Any) -> RetentionSettings:
    """Settings from a dict; bad values raise ``InvalidInput`` naming the field."""
    try:
        return RetentionSettings.model_validate(raw or {})
    except ValidationError as exc:
        details = [
            {
                "field": ".".join(str(p) for p in err["loc"]) or "days",
                "message": err["msg"].removeprefix("Value error, "),
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidInput(
            "; ".join(f"{d['field']}: {d['message']}" for d in details), details=details
        ) from None


def retention_of(*, organization: Organization) -> RetentionOut:
    """The organization's setting with the default and what applies.  A stored value that no
    longer validates is ignored (the default applies) until it is replaced."""
    try:
        own = retention_parse((organization.settings or {}).get(SETTINGS_KEY)).days
    except InvalidInput:
        own = None
    fallback = default_days()
    return RetentionOut(days=own, default_days=fallback, effective_days=own or fallback)


def retention_days(*, organization: Organization) -> int:
    return retention_of(organization=organization).effective_days


def retention_save(*, principal, values: dict | RetentionSettings, request=None) -> RetentionOut:
    """Set (or clear, with ``days`` empty) the organization's retention; audited as
    ``settings.retention``.  Bad values raise ``InvalidInput`` naming the field."""
    parsed = values if isinstance(values, RetentionSettings) else retention_parse(values)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=principal.organization.pk)
        current = dict(org.settings or {})
        before = (current.get(SETTINGS_KEY) or {}).get("days")
        if parsed.days is None:
            current.pop(SETTINGS_KEY, None)
        else:
            current[SETTINGS_KEY] = {"days": parsed.days}
        org.settings = current
        org.save(update_fields=["settings", "updated_at"])
        changes = audit.changes_between({"retention_days": before}, {"retention_days": parsed.days})
        if changes:
            audit.audit_record(
                action="settings.retention",
                principal=principal,
                organization=org,
                target=org,
                target_label="Data retention",
                changes=changes,
                request=request,
            )
    principal.organization.settings = org.settings
    return retention_of(organization=org)

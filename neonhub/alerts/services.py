"""Writes for alerts: destinations and rules (audited), evaluating a rule, and the
notifications a change of state sends.

States: ``ok`` → ``warning`` → ``alert`` by the rule's two levels.  A change to a worse state
notifies as a breach, back to ``ok`` as a recovery; a change between warning and alert is a
breach too (going up) or a plain change (going down, told as a breach at the lower level).
While a rule stays breached, ``renotify_minutes`` (0: never) sends a reminder.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from agents.automation.signatures import standard_secret
from agents.registry import get_agent
from connectors.crypto import encrypt, mask
from connectors.http import check_public_url
from connectors.models import Connector
from neonhub.alerts import measures
from neonhub.alerts.models import (
    AlertDelivery,
    AlertDestination,
    AlertRule,
    AlertState,
    DeliveryEvent,
    DestinationKind,
    RuleKind,
)
from neonhub.alerts.notify import delivery_attempt
from neonhub.core.audit import audit_record, changes_between
from neonhub.core.errors import Conflict, InvalidInput, NeonHubError
from neonhub.core.models import Organization

logger = logging.getLogger(__name__)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SEVERITY = {AlertState.OK: 0, AlertState.WARNING: 1, AlertState.ALERT: 2}
# A rule is evaluated at most once in this many seconds, however many workers tick.
EVALUATE_EVERY_SECONDS = 50
RULE_FIELDS = (
    "name",
    "kind",
    "agent",
    "intent",
    "connector",
    "warning_level",
    "alert_level",
    "window_minutes",
    "min_runs",
    "renotify_minutes",
    "enabled",
)


# --- destinations -----------------------------------------------------------------------------


def destination_snapshot(d: AlertDestination) -> dict:
    return {
        "name": d.name,
        "kind": d.kind,
        "target": d.target,
        "enabled": d.enabled,
        "secret": d.secret,
    }


def _destination_check(kind: str, target: str) -> str:
    target = (target or "").strip()
    if kind not in DestinationKind.values:
        raise InvalidInput.for_field(
            "kind", f"expected one of: {', '.join(DestinationKind.values)}"
        )
    if kind == DestinationKind.EMAIL and not EMAIL.match(target):
        raise InvalidInput.for_field("target", "not an email address")
    if kind == DestinationKind.WEBHOOK:
        check_public_url(target, field="target")
    if len(target) > 500:
        raise InvalidInput.for_field("target", "at most 500 characters")
    return target


def _secret_set(destination: AlertDestination) -> str:
    value = standard_secret()
    destination.secret = encrypt(value, aad=str(destination.pk).encode())
    destination.secret_mask = mask(value)
    return value


def _save_named(obj, *, field: str = "name") -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise Conflict(
            f"An {obj._meta.verbose_name} named {obj.name!r} already exists",
            details=[{"field": field, "message": "already used"}],
        ) from exc


def destination_create(
    *,
    organization: Organization,
    name: str,
    kind: str,
    target: str,
    enabled: bool = True,
    principal=None,
    request=None,
) -> tuple[AlertDestination, str | None]:
    """Save a destination; a webhook gets its signing secret, answered once (else None)."""
    destination = AlertDestination(
        organization=organization,
        name=_name(name),
        kind=kind,
        target=_destination_check(kind, target),
        enabled=enabled,
    )
    secret = _secret_set(destination) if kind == DestinationKind.WEBHOOK else None
    with transaction.atomic():
        _save_named(destination)
        audit_record(
            action="alert_destination.create",
            principal=principal,
            organization=organization,
            target=destination,
            request=request,
            changes=changes_between({}, destination_snapshot(destination), secret={"secret"}),
        )
    return destination, secret


def destination_update(
    *, destination: AlertDestination, principal=None, request=None, **fields: Any
) -> AlertDestination:
    before = destination_snapshot(destination)
    if "name" in fields:
        destination.name = _name(fields["name"])
    if "target" in fields:
        destination.target = _destination_check(destination.kind, fields["target"])
    if "enabled" in fields:
        destination.enabled = bool(fields["enabled"])
    with transaction.atomic():
        _save_named(destination)
        audit_record(
            action="alert_destination.update",
            principal=principal,
            organization=destination.organization,
            target=destination,
            request=request,
            changes=changes_between(before, destination_snapshot(destination), secret={"secret"}),
        )
    return destination


def destination_rotate_secret(
    *, destination: AlertDestination, principal=None, request=None
) -> str:
    if destination.kind != DestinationKind.WEBHOOK:
        raise InvalidInput.for_field("kind", "only a webhook destination has a signing secret")
    before = destination_snapshot(destination)
    value = _secret_set(destination)
    with transaction.atomic():
        destination.save(update_fields=["secret", "secret_mask", "updated_at"])
        audit_record(
            action="alert_destination.rotate_secret",
            principal=principal,
            organization=destination.organization,
            target=destination,
            request=request,
            changes=changes_between(before, destination_snapshot(destination), secret={"secret"}),
        )
    return value


def destination_delete(*, destination: AlertDestination, principal=None, request=None) -> None:
    with transaction.atomic():
        audit_record(
            action="alert_destination.delete",
            principal=principal,
            organization=destination.organization,
            target=destination,
            request=request,
        )
        destination.delete()


# --- rules ------------------------------------------------------------------------------------


def rule_snapshot(rule: AlertRule) -> dict:
    values = {f: getattr(rule, f) for f in RULE_FIELDS if f != "connector"}
    values["connector"] = str(rule.connector_id) if rule.connector_id else None
    values["destinations"] = sorted(str(d.pk) for d in rule.destinations.all()) if rule.pk else []
    return values


def _name(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput.for_field("name", "required")
    if len(value) > 100:
        raise InvalidInput.for_field("name", "at most 100 characters")
    return value


def _rule_check(rule: AlertRule) -> None:
    rule.agent, rule.intent = rule.agent or "", rule.intent or ""  # null: every agent, any intent
    if rule.kind not in RuleKind.values:
        raise InvalidInput.for_field("kind", f"expected one of: {', '.join(RuleKind.values)}")
    if rule.agent:
        try:
            impl = get_agent(rule.agent)
        except NeonHubError:
            raise InvalidInput.for_field("agent", f"unknown agent {rule.agent!r}") from None
        rule.agent = impl.slug
        if rule.intent:
            try:
                impl.get_intent(rule.intent)
            except NeonHubError:
                raise InvalidInput.for_field(
                    "intent", f"{rule.agent} has no intent {rule.intent!r}"
                ) from None
    elif rule.intent:
        raise InvalidInput.for_field("intent", "choose the agent too")
    if (
        rule.connector_id
        and not Connector.objects.filter(
            organization_id=rule.organization_id, pk=rule.connector_id
        ).exists()
    ):
        raise InvalidInput.for_field("connector_id", "unknown connector")
    if rule.alert_level is None or rule.alert_level < 0:
        raise InvalidInput.for_field("alert_level", "a number of 0 or more")
    if rule.warning_level is not None:
        if rule.warning_level < 0:
            raise InvalidInput.for_field("warning_level", "a number of 0 or more")
        lower_worse = rule.kind in measures.LOWER_IS_WORSE
        if (
            (rule.warning_level < rule.alert_level)
            if lower_worse
            else (rule.warning_level > rule.alert_level)
        ):
            side = "at or above" if lower_worse else "at or below"
            raise InvalidInput.for_field("warning_level", f"must be {side} the alert level")
    if rule.kind == RuleKind.ERROR_RATE and rule.alert_level > 1:
        raise InvalidInput.for_field(
            "alert_level", "an error rate is a fraction from 0 to 1 (0.2 is 20%)"
        )
    if not 1 <= rule.window_minutes <= 7 * 24 * 60:
        raise InvalidInput.for_field("window_minutes", "from 1 minute to 7 days (10080)")


def _destinations(organization: Organization, ids) -> list[AlertDestination]:
    ids = list(ids or [])
    found = list(AlertDestination.objects.filter(organization=organization, pk__in=ids))
    if len(found) != len(set(ids)):
        raise InvalidInput.for_field("destination_ids", "unknown destination")
    return found


def _rule_save(rule, destinations, action, before, principal, request) -> None:
    with transaction.atomic():
        _save_named(rule)
        if destinations is not None:
            rule.destinations.set(destinations)
        audit_record(
            action=action,
            principal=principal,
            organization=rule.organization,
            target=rule,
            changes=changes_between(before, rule_snapshot(rule)),
            request=request,
        )


def rule_create(
    *,
    organization: Organization,
    name: str,
    kind: str,
    alert_level: float,
    destination_ids=(),
    principal=None,
    request=None,
    **fields: Any,
) -> AlertRule:
    rule = AlertRule(
        organization=organization, name=_name(name), kind=kind, alert_level=alert_level
    )
    for key, value in fields.items():
        setattr(rule, key, value)
    _rule_check(rule)
    destinations = _destinations(organization, destination_ids)
    _rule_save(rule, destinations, "alert_rule.create", {}, principal, request)
    return rule


def rule_update(
    *, rule: AlertRule, destination_ids=None, principal=None, request=None, **fields: Any
) -> AlertRule:
    before = rule_snapshot(rule)
    for key, value in fields.items():
        setattr(rule, key, _name(value) if key == "name" else value)
    _rule_check(rule)
    destinations = (
        None if destination_ids is None else _destinations(rule.organization, destination_ids)
    )
    # A changed rule is judged afresh at the next tick.
    rule.evaluated_at = None
    _rule_save(rule, destinations, "alert_rule.update", before, principal, request)
    return rule


def rule_delete(*, rule: AlertRule, principal=None, request=None) -> None:
    with transaction.atomic():
        audit_record(
            action="alert_rule.delete",
            principal=principal,
            organization=rule.organization,
            target=rule,
            request=request,
        )
        rule.delete()


# --- evaluating -------------------------------------------------------------------------------


def judge(rule: AlertRule, value: float | None) -> str:
    """The state a value puts a rule in."""
    if value is None:
        return AlertState.OK
    if rule.kind in measures.LOWER_IS_WORSE:
        worse = lambda level: value <= level  # noqa: E731
    else:
        worse = lambda level: value >= level  # noqa: E731
    if worse(rule.alert_level):
        return AlertState.ALERT
    if rule.warning_level is not None and worse(rule.warning_level):
        return AlertState.WARNING
    return AlertState.OK


def _payload(rule: AlertRule, event: str, previous: str, now: datetime) -> dict:
    return {
        "type": f"alert.{event}",
        "event": event,
        "organization": rule.organization.name,
        "rule": {
            "id": str(rule.pk),
            "name": rule.name,
            "kind": rule.kind,
            "kind_label": rule.get_kind_display(),
            "agent": rule.agent or None,
            "intent": rule.intent or None,
            "connector_id": str(rule.connector_id) if rule.connector_id else None,
            "warning_level": rule.warning_level,
            "alert_level": rule.alert_level,
            "url": settings.NEONHUB_PUBLIC_URL + reverse("alerts:rule", args=[rule.pk]),
        },
        "state": rule.state,
        "previous_state": previous,
        "value": rule.value,
        "summary": rule.summary,
        "at": now.isoformat(),
    }


def _notify(rule: AlertRule, event: str, previous: str, now: datetime) -> int:
    payload = _payload(rule, event, previous, now)
    rows = [
        AlertDelivery(
            organization_id=rule.organization_id,
            rule=rule,
            destination=d,
            event=event,
            state=rule.state,
            payload=payload,
            next_attempt_at=now,
        )
        for d in rule.destinations.filter(enabled=True)
    ]
    AlertDelivery.objects.bulk_create(rows)
    return len(rows)


def _claim(rule: AlertRule, now: datetime) -> bool:
    """Take this tick's evaluation of a rule with one conditional UPDATE, so however many
    workers run the minute task, a rule is judged (and notifies) once a tick."""
    fresh = now - timedelta(seconds=EVALUATE_EVERY_SECONDS)
    taken = (
        AlertRule.objects.filter(pk=rule.pk)
        .filter(Q(evaluated_at__isnull=True) | Q(evaluated_at__lte=fresh))
        .update(evaluated_at=now)
    )
    return bool(taken)


def rule_evaluate(*, rule: AlertRule, now: datetime | None = None, force: bool = False) -> int:
    """Measure a rule, keep its state, queue the notifications a change (or a due reminder)
    sends.  Returns how many were queued; 0 also when another worker had this tick."""
    now = now or timezone.now()
    if not force and not _claim(rule, now):
        return 0
    reading = measures.measure(rule, now)
    previous = rule.state
    state = judge(rule, reading.value)
    rule.value, rule.summary, rule.evaluated_at = reading.value, reading.summary[:300], now
    fields = ["value", "summary", "evaluated_at"]
    event = None
    if state != previous:
        rule.state, rule.state_changed_at = state, now
        fields += ["state", "state_changed_at"]
        event = DeliveryEvent.RECOVERY if state == AlertState.OK else DeliveryEvent.BREACH
    elif state != AlertState.OK and rule.renotify_minutes and rule.notified_at is not None:
        if now - rule.notified_at >= timedelta(minutes=rule.renotify_minutes):
            event = DeliveryEvent.REMINDER
    queued = 0
    with transaction.atomic():
        if event is not None:
            rule.notified_at = now
            fields.append("notified_at")
            queued = _notify(rule, event, previous, now)
        AlertRule.objects.filter(pk=rule.pk).update(**{f: getattr(rule, f) for f in fields})
    return queued


def rules_evaluate(*, now: datetime | None = None, limit: int = 500) -> dict:
    """The minute task's evaluation: every enabled rule not judged in this tick yet."""
    now = now or timezone.now()
    fresh = now - timedelta(seconds=EVALUATE_EVERY_SECONDS)
    due = (
        AlertRule.objects.filter(enabled=True)
        .filter(Q(evaluated_at__isnull=True) | Q(evaluated_at__lte=fresh))
        .select_related("organization", "connector")
        .order_by("evaluated_at")[:limit]
    )
    evaluated = queued = 0
    for rule in due:
        if not _claim(rule, now):
            continue
        try:
            queued += rule_evaluate(rule=rule, now=now, force=True)
        except Exception:  # one rule's failure must not silence every other rule
            logger.exception("alert rule %s could not be evaluated", rule.pk)
            continue
        evaluated += 1
    return {"evaluated": evaluated, "queued": queued}


def test_notification(
    *, destination: AlertDestination, principal=None, request=None
) -> AlertDelivery:
    """Send a test notification to one destination now (one attempt, kept in the log)."""
    now = timezone.now()
    payload = {
        "type": "alert.test",
        "event": "test",
        "organization": destination.organization.name,
        "rule": {
            "id": None,
            "name": "Test notification",
            "kind": "test",
            "kind_label": "Test",
            "url": None,
        },
        "state": AlertState.OK,
        "previous_state": AlertState.OK,
        "value": None,
        "summary": f"A test from NeonHub to {destination.name}: nothing is wrong.",
        "at": now.isoformat(),
    }
    delivery = AlertDelivery.objects.create(
        organization=destination.organization,
        destination=destination,
        event=DeliveryEvent.TEST,
        state=AlertState.OK,
        payload=payload,
        next_attempt_at=None,
    )
    delivery = delivery_attempt(delivery)
    if delivery.status == "pending":  # a test is tried once, not again later
        AlertDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
        delivery.status, delivery.next_attempt_at = "failed", None
    return delivery

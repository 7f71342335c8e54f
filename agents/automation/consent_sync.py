"""Marketing consent kept in step between contacts and a Shopify store's customers, both ways.

- From Shopify: a verified ``customers/*`` webhook reports the customer's email and SMS
  marketing consent (``ConsentReport``, source "shopify"); it is applied to the contact with
  the same email or phone (``contact_consent_report``), recorded in the consent history.
- To Shopify: every consent change recorded in NeonHub (a person, an import, an unsubscribe
  link, an opt-out keyword) is pushed, after its commit, by a task to each enabled Shopify
  connector of the organization: the customer with the contact's email (or phone) gets the
  same state through ``customer_email_consent_update`` / ``customer_sms_consent_update``,
  carried out like any side effect (an outbox row per change and connector, never twice).

No loops: a change whose source is "shopify" is not pushed back, and a report that says what
the contact's consent already says (Shopify echoing our push) changes nothing.

A push that fails for a passing reason (Shopify unavailable, its rate limit) is tried again
later, after 1, 5 and 30 minutes, 2 and 12 hours; connectors it already reached are not asked
again (their outbox rows answer). A permanent failure (a revoked token) is not retried: the
connector shows that it needs reconnecting.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from agents.audience.models import ConsentEvent
from agents.audience.services import contact_consent_report
from connectors.execution import connector_session
from connectors.models import Connector
from connectors.webhooks import ConsentReport
from neonhub.core.errors import NeonHubError
from neonhub.core.models import Organization
from neonhub.core.queue import enqueue
from neonhub.core.recording import NullRecorder

logger = logging.getLogger(__name__)

SHOPIFY = "shopify"
PUSH_CHUNK = 200
ACTIONS = {"email": "customer_email_consent_update", "sms": "customer_sms_consent_update"}
STATES = {"granted": "SUBSCRIBED", "revoked": "UNSUBSCRIBED"}
# Waits before each new try of pushes that failed for a passing reason.
RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)


def consent_reports_apply(*, organization: Organization, reports: list[ConsentReport]) -> int:
    """Apply a webhook's consent reports to the contacts; answers how many changed."""
    changed = 0
    for report in reports:
        contact = contact_consent_report(
            organization=organization,
            channel=report.channel,
            address=report.address,
            status=report.status,
            at=report.at,
            source=report.source,
        )
        changed += contact is not None
    return changed


def consent_changed(event_ids: list[str]) -> None:
    """The audience app's listener: push the recorded changes, in tasks of a few hundred.
    Organizations without a Shopify connector get no task at all."""
    organizations = ConsentEvent.objects.filter(pk__in=event_ids).values("organization_id")
    if not Connector.objects.filter(
        organization_id__in=organizations, provider=SHOPIFY, enabled=True
    ).exists():
        return
    for start in range(0, len(event_ids), PUSH_CHUNK):
        enqueue(
            "agents.automation.tasks.consent_push",
            *event_ids[start : start + PUSH_CHUNK],
            group="consent-sync",
        )


def consent_push(*, event_ids: list[str], attempt: int = 0) -> dict:
    """Push each consent change to the organization's Shopify customers; answers counts.

    Changes whose push failed for a passing reason are tried again later (``RETRY_AFTER``)."""
    counts = {"pushed": 0, "skipped": 0, "failed": 0, "retrying": 0}
    again: set[str] = set()
    events = ConsentEvent.objects.filter(pk__in=event_ids, channel__in=ACTIONS).select_related(
        "contact"
    )
    for event in events:
        if event.source == SHOPIFY or event.status not in STATES:
            counts["skipped"] += 1  # it came from Shopify: never pushed back
            continue
        connectors = Connector.objects.filter(
            organization_id=event.organization_id, provider=SHOPIFY, enabled=True
        ).select_related("organization")
        for connector in connectors:
            outcome = _push(connector, event)
            if outcome == "retrying":
                again.add(str(event.pk))
            counts[outcome] += 1
    if again:
        _retry_later(sorted(again), attempt=attempt)
    return counts


def _retry_later(event_ids: list[str], *, attempt: int) -> None:
    if attempt >= len(RETRY_AFTER):
        logger.warning("consent push of events %s gave up after %d tries", event_ids, attempt + 1)
        return
    when = timezone.now() + RETRY_AFTER[attempt]
    Schedule.objects.create(
        name=f"consent-push-{event_ids[0]}-{attempt + 1}"[:100],
        func="agents.automation.tasks.consent_push_retry",
        args=repr((attempt + 1, *event_ids)),
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=when,
    )


def _push(connector: Connector, event: ConsentEvent) -> str:
    contact = event.contact
    field, address = (
        ("email", contact.email) if event.channel == "email" else ("phone", contact.phone)
    )
    if not address:
        return "skipped"
    try:
        with connector_session(connector=connector, recorder=NullRecorder()) as session:
            found = session.execute(
                action="customers_list", input={"query": f'{field}:"{address}"', "first": 1}
            )
            customers = found.output.get("customers") or []
            if not customers:
                return "skipped"
            session.execute(
                action=ACTIONS[event.channel],
                input={
                    "customer_id": customers[0]["id"],
                    "marketing_state": STATES[event.status],
                    "consent_updated_at": event.at.isoformat(),
                },
                idempotency_key=f"consent-sync:{event.pk}:{connector.pk}",
                contact_id=contact.pk,
            )
    except NeonHubError as exc:
        logger.warning(
            "consent push of event %s to connector %s failed: %s", event.pk, connector.pk, exc.code
        )
        return "retrying" if exc.transient else "failed"
    return "pushed"

"""Reads of A/B tests: the organization's tests, one test, its audience and its numbers."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from agents.abtests.models import ABTestRecipient, RecipientGroup
from agents.audience.models import Contact
from agents.campaigns.models import Campaign
from agents.mail.models import EmailMessage, MessageStatus
from agents.models import ABTest
from agents.segments.selectors import segment_contacts
from connectors.models import Suppression
from neonhub.core.models import Organization
from neonhub.core.selectors import organization_object_get
from runs.models import TERMINAL_STATUSES, AgentRun

SENT_STATUSES = (MessageStatus.SENT, MessageStatus.BOUNCED, MessageStatus.COMPLAINED)


def abtest_list(*, organization: Organization) -> QuerySet[ABTest]:
    return ABTest.objects.filter(organization=organization).select_related("campaign")


def abtest_get(*, organization: Organization, test_id: uuid.UUID) -> ABTest:
    return organization_object_get(
        ABTest.objects.select_related("campaign", "segment", "contact_list"),
        organization=organization,
        pk=test_id,
        what="A/B test",
    )


def abtest_for_campaign(*, organization: Organization, campaign_id: uuid.UUID) -> QuerySet[ABTest]:
    """The campaign's tests; another organization's campaign (or an unknown one) is a 404."""
    campaign = organization_object_get(
        Campaign.objects.all(), organization=organization, pk=campaign_id, what="Campaign"
    )
    return abtest_list(organization=organization).filter(campaign=campaign)


# --- the audience ---------------------------------------------------------------------------


@dataclass
class Split:
    """The audience of a test in its stable order, split into the test share and the rest."""

    test: list[Contact] = field(default_factory=list)
    rest: list[Contact] = field(default_factory=list)
    # Left out, with why: "no_email", "suppressed", "no_consent".
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def eligible(self) -> int:
        return len(self.test) + len(self.rest)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def per_variant(self, keys: list[str]) -> dict[str, int]:
        return {k: len(self.test[i :: len(keys)]) for i, k in enumerate(keys)}

    def counts(self, keys: list[str]) -> dict:
        return {
            "eligible": self.eligible,
            "test": len(self.test),
            "rest": len(self.rest),
            "per_variant": self.per_variant(keys),
            "skipped": dict(self.skipped),
        }


def audience_contacts(*, test: ABTest) -> QuerySet[Contact]:
    """The test's segment or list, as it is now (not erased)."""
    if test.segment_id is not None:
        return segment_contacts(segment=test.segment)
    if test.contact_list_id is not None:
        return Contact.objects.filter(
            organization=test.organization_id,
            memberships__contact_list_id=test.contact_list_id,
            erased_at__isnull=True,
        )
    return Contact.objects.none()


def order_key(test_id: uuid.UUID, contact_id: uuid.UUID) -> str:
    return hashlib.sha256(f"{test_id}{contact_id}".encode()).hexdigest()


def audience_split(*, test: ABTest) -> Split:
    """Who would get what if the test started now: stable for the same audience."""
    contacts = list(
        audience_contacts(test=test).only("id", "organization_id", "email", "consent", "erased_at")
    )
    return contacts_split(test=test, contacts=contacts)


def contacts_split(*, test: ABTest, contacts: list[Contact]) -> Split:
    """The split of an audience given as contacts (the test's organization's, not erased)."""
    split = Split(skipped={"no_email": 0, "suppressed": 0, "no_consent": 0})
    contacts = [
        c for c in contacts if c.organization_id == test.organization_id and c.erased_at is None
    ]
    with_email = [c for c in contacts if c.email]
    split.skipped["no_email"] = len(contacts) - len(with_email)
    suppressed = _suppressed(test.organization, [c.email.lower() for c in with_email])
    require = "email" in ((test.organization.settings or {}).get("require_consent") or [])
    eligible = []
    for c in with_email:
        if c.email.lower() in suppressed:
            split.skipped["suppressed"] += 1
        elif not _consents(c, require):
            split.skipped["no_consent"] += 1
        else:
            eligible.append(c)
    eligible.sort(key=lambda c: order_key(test.id, c.id))
    size = test_share_size(len(eligible), test.share_percent, len(test.variants))
    split.test, split.rest = eligible[:size], eligible[size:]
    return split


def test_share_size(eligible: int, share_percent: int, variants: int) -> int:
    """``share_percent`` of the audience, rounded, at least one per variant (never more than all)."""
    return min(eligible, max(round(eligible * share_percent / 100), variants))


def _suppressed(organization: Organization, emails: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(emails), 500):
        found.update(
            Suppression.objects.filter(
                organization=organization, channel="email", address__in=emails[i : i + 500]
            ).values_list("address", flat=True)
        )
    return found


def _consents(contact: Contact, required: bool) -> bool:
    entry = (contact.consent or {}).get("email")
    status = entry.get("status") if isinstance(entry, dict) else None
    return status != "revoked" and (status == "granted" or not required)


def test_share_pending(*, test: ABTest) -> int:
    """The test share's send runs not finished yet (queued, running, awaiting approval)."""
    return (
        AgentRun.objects.filter(
            organization_id=test.organization_id, idempotency_key__startswith=f"abtest:{test.pk}:"
        )
        .exclude(idempotency_key__startswith=f"abtest:{test.pk}:winner:")
        .exclude(status__in=TERMINAL_STATUSES)
        .count()
    )


# --- the numbers ----------------------------------------------------------------------------


def variant_numbers(*, test: ABTest, group: str = RecipientGroup.TEST) -> dict[str, dict]:
    """Per variant of one group: sent, delivered, opened, clicked and the rates (of delivered).

    Opened and clicked count people (``first_*_at`` set), never machine opens or clicks.
    """
    contacts = ABTestRecipient.objects.filter(test=test, group=group).values("contact_id")
    rows = (
        EmailMessage.objects.filter(
            organization_id=test.organization_id, ab_test=test, contact_id__in=contacts
        )
        .values("variant")
        .annotate(
            sent=Count("id", filter=Q(status__in=SENT_STATUSES)),
            hard=Count("id", filter=Q(status=MessageStatus.BOUNCED)),
            opened=Count("id", filter=Q(status__in=SENT_STATUSES, first_opened_at__isnull=False)),
            clicked=Count("id", filter=Q(status__in=SENT_STATUSES, first_clicked_at__isnull=False)),
        )
    )
    found = {r["variant"]: r for r in rows}
    keys = [v["key"] for v in test.variants] if group == RecipientGroup.TEST else list(found)
    return {k: _numbers(found.get(k, {})) for k in keys}


def _numbers(row: dict) -> dict:
    sent = row.get("sent", 0)
    delivered = sent - row.get("hard", 0)
    opened, clicked = row.get("opened", 0), row.get("clicked", 0)
    return {
        "sent": sent,
        "delivered": delivered,
        "opened": opened,
        "clicked": clicked,
        "open_rate": opened / delivered if delivered else 0.0,
        "click_rate": clicked / delivered if delivered else 0.0,
    }


def result_summary(test: ABTest, result: dict) -> str:
    """The result in plain words."""
    if not result.get("variants"):
        return ""
    word = "open" if test.metric == "opens" else "click"
    outcome, leader = result.get("outcome"), result.get("leader")
    if outcome == "winner":
        sure = int((result.get("confidence") or 0) * 100)
        return f"Variant {result['winner']}'s {word} rate is higher with {sure}% confidence."
    if outcome == "not_enough_data":
        return (
            f"Not enough data yet: each variant needs at least {result.get('min_sample', 30)} "
            "delivered emails before a winner can be called."
        )
    if not leader:
        return "No results yet."
    prefix = "No clear winner" if test.decided_at else "No clear winner yet"
    return f"{prefix}: the difference could be chance (Variant {leader} leads)."

"""What the Email agent's intents call: ``enroll`` (from webhooks, recipes, schedules and the
API) and the draft ``generate-sequence`` writes.  Errors name the run's payload fields.

An ``email`` that no contact has yet becomes a new contact (no consent is assumed: the
compliance gate decides at every send); a ``contactId`` must be one of the organization's.
"""

from __future__ import annotations

from typing import Any

from agents.audience.models import Contact
from agents.campaigns.models import Campaign
from agents.sequences import services
from agents.sequences.models import EnrollmentSource, Sequence
from neonhub.core.errors import InvalidInput, NeonHubError
from neonhub.core.ids import uuid_from
from neonhub.core.models import Organization


def _sequence(*, organization: Organization, sequence_id: str) -> Sequence:
    pk = uuid_from(sequence_id, field="payload.sequenceId")
    found = Sequence.objects.filter(organization=organization, pk=pk).first()
    if found is None:
        raise InvalidInput.for_field("payload.sequenceId", "no sequence with this id")
    return found


def _contact(*, organization: Organization, contact_id: str) -> Contact:
    pk = uuid_from(contact_id, field="payload.contactId")
    found = Contact.objects.filter(organization=organization, pk=pk, erased_at__isnull=True).first()
    if found is None:
        raise InvalidInput.for_field("payload.contactId", "no contact with this id")
    return found


def campaign_known(*, organization: Organization, campaign_id: Any) -> Campaign | None:
    if not campaign_id:
        return None
    pk = uuid_from(campaign_id, field="payload.campaignId")
    found = Campaign.objects.filter(organization=organization, pk=pk).first()
    if found is None:
        raise InvalidInput.for_field("payload.campaignId", "no campaign with this id")
    return found


def enroll_check(*, organization: Organization, sequence_id: str, contact_id: str | None) -> None:
    _sequence(organization=organization, sequence_id=sequence_id)
    if contact_id:
        contact = _contact(organization=organization, contact_id=contact_id)
        if not contact.email:
            raise InvalidInput.for_field("payload.contactId", "this contact has no email address")


def enroll(
    *,
    organization: Organization,
    sequence_id: str,
    email: str | None = None,
    contact_id: str | None = None,
) -> dict[str, Any]:
    """Enroll by address or contact id; a second try answers the existing enrollment."""
    sequence = _sequence(organization=organization, sequence_id=sequence_id)
    if contact_id:
        contact = _contact(organization=organization, contact_id=contact_id)
    else:
        try:
            contact = services.contact_for_email(organization=organization, email=email or "")
        except NeonHubError as exc:
            raise InvalidInput.for_field("payload.email", exc.message) from None
    try:
        done = services.enrollment_create(
            sequence=sequence, contact=contact, source=EnrollmentSource.TRIGGER
        )
    except InvalidInput as exc:
        raise InvalidInput.for_field("payload.contactId", exc.message) from None
    e = done.enrollment
    return {
        "enrollmentId": str(e.pk),
        "created": done.created,
        "status": e.status,
        "sequenceId": str(sequence.pk),
        "contactId": str(contact.pk),
    }


def draft_from_written(
    *,
    organization: Organization,
    topic: str,
    emails: list[dict[str, Any]],
    campaign_id: Any = None,
    source_run_id: Any = None,
) -> Sequence:
    campaign = None
    if campaign_id:
        campaign = Campaign.objects.filter(
            organization=organization, pk=uuid_from(campaign_id, field="payload.campaignId")
        ).first()
    return services.sequence_from_written(
        organization=organization,
        topic=topic,
        emails=emails,
        campaign=campaign,
        source_run_id=source_run_id,
    )

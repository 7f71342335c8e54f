"""Reading sequences, their steps and enrollments, and the funnel of each sequence."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Count, Q, QuerySet

from agents.audience.models import Contact
from agents.mail.models import EmailMessage
from agents.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    EnrollmentStep,
    ExitReason,
    Sequence,
    SequenceStep,
    StepOutcome,
)
from neonhub.core.errors import NotFound
from neonhub.core.models import Organization

RECENT_ENROLLMENTS = 50


def sequence_list(*, organization: Organization) -> QuerySet[Sequence]:
    """The organization's sequences, newest first, each with its enrollment counts."""
    return (
        Sequence.objects.filter(organization=organization)
        .select_related("campaign")
        # distinct: the join with the steps repeats each enrollment once per step.
        .annotate(
            enrolled=Count("enrollments", distinct=True),
            active=_enrollments_count(EnrollmentStatus.ACTIVE),
            completed=_enrollments_count(EnrollmentStatus.COMPLETED),
            exited=_enrollments_count(EnrollmentStatus.EXITED),
            step_count=Count("steps", distinct=True),
        )
        .order_by("-created_at")
    )


def _enrollments_count(status: str) -> Count:
    return Count("enrollments", distinct=True, filter=Q(enrollments__status=status))


def sequences_for_campaign(*, organization: Organization, campaign_id: UUID) -> QuerySet[Sequence]:
    return sequence_list(organization=organization).filter(campaign_id=campaign_id)


def sequence_get(*, organization: Organization, sequence_id: UUID) -> Sequence:
    found = (
        Sequence.objects.filter(organization=organization, pk=sequence_id)
        .select_related("campaign", "segment")
        .first()
    )
    if found is None:
        raise NotFound("Sequence not found")
    return found


def step_list(*, sequence: Sequence) -> list[SequenceStep]:
    return list(sequence.steps.select_related("template", "ab_test").order_by("position"))


def step_get(*, organization: Organization, step_id: UUID) -> SequenceStep:
    found = (
        SequenceStep.objects.filter(sequence__organization=organization, pk=step_id)
        .select_related("sequence", "template")
        .first()
    )
    if found is None:
        raise NotFound("Step not found")
    return found


def enrollment_get(*, organization: Organization, enrollment_id: UUID) -> Enrollment:
    found = (
        Enrollment.objects.filter(organization=organization, pk=enrollment_id)
        .select_related("contact", "sequence")
        .first()
    )
    if found is None:
        raise NotFound("Enrollment not found")
    return found


def enrollment_list(
    *, sequence: Sequence, status: str = "", limit: int = RECENT_ENROLLMENTS
) -> list[Enrollment]:
    """The sequence's enrollments, newest first (``status`` narrows them)."""
    rows = Enrollment.objects.filter(
        organization_id=sequence.organization_id, sequence=sequence
    ).select_related("contact")
    if status:
        rows = rows.filter(status=status)
    return list(rows.order_by("-enrolled_at", "-id")[:limit])


def enrollment_history(*, enrollment: Enrollment) -> list[EnrollmentStep]:
    """What happened to one contact in the sequence, step by step ("what happened to Ada")."""
    return list(enrollment.taken.select_related("step").order_by("step__position"))


def _message_counts(*, organization_id: Any, run_ids: list[UUID]) -> dict[str, int]:
    if not run_ids:
        return {"delivered": 0, "opened": 0, "clicked": 0, "replied": 0, "bounced": 0}
    # A person's Retry of a send run keeps the first run's rows (keyed by the lineage).
    messages = EmailMessage.objects.filter(organization_id=organization_id).filter(
        Q(run_id__in=run_ids) | Q(lineage_id__in=run_ids)
    )
    return messages.aggregate(
        delivered=Count("id", filter=Q(sent_at__isnull=False)),
        opened=Count("id", filter=Q(first_opened_at__isnull=False)),
        clicked=Count("id", filter=Q(first_clicked_at__isnull=False)),
        replied=Count("id", filter=Q(replied_at__isnull=False)),
        bounced=Count("id", filter=Q(status="bounced")),
    )


def sequence_funnel(*, sequence: Sequence) -> dict[str, Any]:
    """How many contacts wait at each step, what each step did (sent, skipped, not sent) and
    what its emails did (opened, clicked, replied, bounced), and how many finished or left."""
    enrollments = Enrollment.objects.filter(
        organization_id=sequence.organization_id, sequence=sequence
    )
    waiting = dict(
        enrollments.filter(status=EnrollmentStatus.ACTIVE)
        .values_list("position")
        .annotate(n=Count("id"))
        .values_list("position", "n")
    )
    steps = []
    for step in step_list(sequence=sequence):
        taken = dict(
            EnrollmentStep.objects.filter(step=step)
            .values_list("outcome")
            .annotate(n=Count("id"))
            .values_list("outcome", "n")
        )
        run_ids = list(
            EnrollmentStep.objects.filter(step=step, outcome=StepOutcome.SENT, run_id__isnull=False)
            .values_list("run_id", flat=True)
            .distinct()
        )
        steps.append(
            {
                "step": step,
                "waiting": waiting.get(step.position, 0),
                "sent": taken.get(StepOutcome.SENT, 0),
                "skipped": taken.get(StepOutcome.SKIPPED, 0),
                "failed": taken.get(StepOutcome.FAILED, 0),
                "run_ids": run_ids,
                **_message_counts(organization_id=sequence.organization_id, run_ids=run_ids),
            }
        )
    by_status = dict(
        enrollments.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    reasons = dict(
        enrollments.filter(status=EnrollmentStatus.EXITED)
        .values_list("exit_reason")
        .annotate(n=Count("id"))
        .values_list("exit_reason", "n")
    )
    return {
        "steps": steps,
        "enrolled": sum(by_status.values()),
        "active": by_status.get(EnrollmentStatus.ACTIVE, 0),
        "completed": by_status.get(EnrollmentStatus.COMPLETED, 0),
        "exited": by_status.get(EnrollmentStatus.EXITED, 0),
        "exits": [
            {"reason": value, "label": label, "count": reasons[value]}
            for value, label in ExitReason.choices
            if reasons.get(value)
        ],
    }


def contact_variables(contact: Contact) -> dict[str, str | int | float]:
    """A contact's values for ``{{placeholders}}`` in a step written in the sequence: first_name,
    last_name, name, email and each attribute (the same names as templates use)."""
    name = (contact.name or "").strip()
    first, _, last = name.partition(" ")
    values: dict[str, str | int | float] = {}
    for key, value in (contact.attributes or {}).items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float | str):
            values[str(key)] = value
    values.update(
        {"first_name": first, "last_name": last.strip(), "name": name, "email": contact.email}
    )
    # An empty value would print nothing: leave it out so "{{first_name|there}}" uses its default.
    return {k: v for k, v in values.items() if v != ""}

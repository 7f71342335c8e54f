"""Writing sequences: building them step by step, switching them on and off, and enrolling
contacts (one by one, or a segment's contacts at once).

A contact is enrolled at most once in a sequence: a second try answers the enrollment that
exists, unchanged (a contact who finished or left is not enrolled again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from agents.audience.models import Contact
from agents.audience.services import contact_create
from agents.campaigns.models import Campaign
from agents.mailtemplates.models import EmailTemplate
from agents.segments.models import Segment
from agents.segments.selectors import segment_contacts, segment_count
from agents.sequences import subject_tests
from agents.sequences.models import (
    Enrollment,
    EnrollmentSource,
    EnrollmentStatus,
    ExitReason,
    GoalKind,
    Sequence,
    SequenceStatus,
    SequenceStep,
    StepCondition,
)
from neonhub.core.errors import Conflict, InvalidInput, NotFound
from neonhub.core.models import Organization

SEQUENCE_FIELDS = (
    "name",
    "campaign",
    "goal_kind",
    "goal_value",
    "exit_on_reply",
    "segment",
    "keep_enrolling",
)
STEP_FIELDS = ("wait_days", "wait_hours", "condition", "template", "subject", "body")
MAX_STEPS = 20


# --- sequences ------------------------------------------------------------------------------------


def _sequence_clean(organization: Organization, fields: dict[str, Any]) -> dict[str, Any]:
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise InvalidInput.for_field("name", "give the sequence a name")
    for key, model in (("campaign", Campaign), ("segment", Segment)):
        value = fields.get(key)
        if value is not None and value.organization_id != organization.pk:
            raise NotFound(f"{model._meta.verbose_name.capitalize()} not found")
    goal = fields.get("goal_kind")
    if goal is not None:
        if goal not in GoalKind.values:
            raise InvalidInput.for_field("goal_kind", "choose no goal, a clicked link or a tag")
        fields["goal_value"] = (fields.get("goal_value") or "").strip()
        if goal != GoalKind.NONE and not fields["goal_value"]:
            what = "the text the link contains" if goal == GoalKind.CLICKED else "the tag"
            raise InvalidInput.for_field("goal_value", f"give {what}")
    return fields


def sequence_create(
    *,
    organization: Organization,
    name: str,
    created_by: Any = None,
    steps: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Sequence:
    """A draft sequence, with its steps (each as ``step_add`` takes them) when given."""
    data = _sequence_clean(organization, {"name": name, **fields})
    sequence = Sequence(organization=organization, created_by=created_by, **data)
    with transaction.atomic():
        _save_sequence(sequence)
        for index, step in enumerate(steps or []):
            step_add(sequence=sequence, field_prefix=f"steps.{index}.", **step)
    return sequence


def _save_sequence(sequence: Sequence) -> None:
    try:
        with transaction.atomic():
            sequence.save()
    except IntegrityError:
        raise Conflict.for_field(
            "name", "another sequence has this name", summary="Another sequence has this name"
        ) from None


def sequence_update(*, sequence: Sequence, **fields: Any) -> Sequence:
    data = _sequence_clean(sequence.organization, {k: fields[k] for k in fields})
    if data.get("goal_kind") is None and "goal_value" in data:
        data.pop("goal_value")
    for key, value in data.items():
        setattr(sequence, key, value)
    _save_sequence(sequence)
    return sequence


def sequence_delete(*, sequence: Sequence) -> None:
    with transaction.atomic():
        # Subject tests not started go with it; running ones stop (their numbers stay).
        for step in sequence.steps.filter(ab_test__isnull=False).select_related("ab_test"):
            subject_tests.step_test_remove(step=step)
        sequence.delete()


def sequence_activate(*, sequence: Sequence) -> Sequence:
    """Start sending: every step needs something to send."""
    steps = list(sequence.steps.order_by("position"))
    if not steps:
        raise InvalidInput.for_field("steps", "add at least one step before activating")
    for step in steps:
        if step.template_id is None and not (step.subject.strip() and step.body.strip()):
            raise InvalidInput.for_field(
                f"steps.{step.position - 1}.subject",
                f"step {step.position} has no template and no subject and text",
            )
    sequence.status = SequenceStatus.ACTIVE
    sequence.last_problem = ""
    sequence.save(update_fields=["status", "last_problem", "updated_at"])
    return sequence


def sequence_pause(*, sequence: Sequence) -> Sequence:
    """Stop sending; contacts keep their place and continue when it is activated again."""
    sequence.status = SequenceStatus.PAUSED
    sequence.save(update_fields=["status", "updated_at"])
    return sequence


# --- steps ----------------------------------------------------------------------------------------


def _step_clean(
    sequence: Sequence,
    fields: dict[str, Any],
    *,
    position: int,
    prefix: str = "",
    condition_given: bool = True,
) -> dict[str, Any]:
    for key in ("wait_days", "wait_hours"):
        value = fields.get(key, 0) or 0
        limit = 365 if key == "wait_days" else 23
        if not isinstance(value, int) or not 0 <= value <= limit:
            raise InvalidInput.for_field(f"{prefix}{key}", f"a whole number from 0 to {limit}")
        fields[key] = value
    condition = fields.get("condition") or StepCondition.ALWAYS
    if condition not in StepCondition.values:
        raise InvalidInput.for_field(f"{prefix}condition", "not a known condition")
    # A condition a move brought to the first step is kept (and ignored there); a new one is
    # refused, as the first step has no previous email.
    if position == 1 and condition != StepCondition.ALWAYS and condition_given:
        raise InvalidInput.for_field(
            f"{prefix}condition", "the first step has no previous email: it is always sent"
        )
    fields["condition"] = condition
    template = fields.get("template")
    if template is not None and template.organization_id != sequence.organization_id:
        raise NotFound("Template not found")
    fields["subject"] = (fields.get("subject") or "").strip()
    fields["body"] = (fields.get("body") or "").strip()
    if template is None and not (fields["subject"] and fields["body"]):
        missing = "subject" if not fields["subject"] else "body"
        raise InvalidInput.for_field(
            f"{prefix}{missing}", "choose a template, or write a subject and a text"
        )
    return fields


def step_add(*, sequence: Sequence, field_prefix: str = "", **fields: Any) -> SequenceStep:
    """A step at the end of the sequence."""
    with transaction.atomic():
        last = sequence.steps.aggregate(m=Max("position"))["m"] or 0
        if last >= MAX_STEPS:
            raise InvalidInput.for_field("steps", f"a sequence has at most {MAX_STEPS} steps")
        data = _step_clean(
            sequence,
            {k: fields.get(k) for k in STEP_FIELDS},
            position=last + 1,
            prefix=field_prefix,
        )
        step = SequenceStep.objects.create(sequence=sequence, position=last + 1, **data)
        _reschedule(sequence=sequence, position=step.position)
    return step


def step_update(*, step: SequenceStep, **fields: Any) -> SequenceStep:
    current = {k: getattr(step, k) for k in STEP_FIELDS}
    data = _step_clean(
        step.sequence,
        {**current, **fields},
        position=step.position,
        condition_given="condition" in fields,
    )
    with transaction.atomic():
        for key, value in data.items():
            setattr(step, key, value)
        step.save()
        _reschedule(sequence=step.sequence, position=step.position)
        subject_tests.step_test_sync(step=step)  # a draft subject test's variant A follows
    return step


def step_remove(*, step: SequenceStep) -> None:
    """Remove a step; the later ones move up, and contacts waiting for it wait for the next."""
    sequence = step.sequence
    with transaction.atomic():
        position = step.position
        subject_tests.step_test_remove(step=step)  # a draft test goes, a running one stops
        step.delete()
        sequence.steps.filter(position__gt=position).update(position=F("position") - 1)
        _enrollments(sequence).filter(position__gt=position).update(position=F("position") - 1)
        _reschedule(sequence=sequence, position=position)


def step_move(*, step: SequenceStep, direction: str) -> SequenceStep:
    """Swap a step with the one before ("up") or after ("down")."""
    if direction not in ("up", "down"):
        raise InvalidInput.for_field("direction", "up or down")
    other_position = step.position - 1 if direction == "up" else step.position + 1
    sequence = step.sequence
    other = sequence.steps.filter(position=other_position).first()
    if other is None:
        return step
    with transaction.atomic():
        other.position, step.position = step.position, other_position
        other.save(update_fields=["position", "updated_at"])
        step.save(update_fields=["position", "updated_at"])
        # A condition is kept when its step becomes the first (which is always sent: the
        # engine ignores it there), so moving a step back restores it.
        _reschedule(sequence=sequence, position=step.position)
        _reschedule(sequence=sequence, position=other.position)
    return step


def _enrollments(sequence: Sequence):
    return Enrollment.objects.filter(
        organization_id=sequence.organization_id, sequence=sequence, status=EnrollmentStatus.ACTIVE
    )


def _reschedule(*, sequence: Sequence, position: int) -> None:
    """Those waiting for the step at ``position`` wait its (new) wait from when they started."""
    step = sequence.steps.filter(position=position).first()
    hours = step.wait_hours_total if step is not None else 0
    _enrollments(sequence).filter(position=position).update(
        next_step_at=F("waiting_since") + timedelta(hours=hours)
    )


# --- enrollments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolled:
    enrollment: Enrollment
    created: bool


def _first_due(sequence: Sequence, now: datetime) -> datetime:
    first = sequence.steps.filter(position=1).first()
    return now + timedelta(hours=first.wait_hours_total if first is not None else 0)


def enrollment_create(
    *,
    sequence: Sequence,
    contact: Contact,
    source: str = EnrollmentSource.PERSON,
    now: datetime | None = None,
) -> Enrolled:
    """Enroll one contact.  Already enrolled (in any state): the existing enrollment, unchanged."""
    if contact.organization_id != sequence.organization_id:
        raise NotFound("Contact not found")
    if contact.erased_at is not None or not contact.email:
        raise InvalidInput.for_field("contact", "this contact has no email address")
    existing = Enrollment.objects.filter(sequence=sequence, contact=contact).first()
    if existing is not None:
        return Enrolled(existing, False)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            made = Enrollment.objects.create(
                organization_id=sequence.organization_id,
                sequence=sequence,
                contact=contact,
                source=source,
                enrolled_at=now,
                waiting_since=now,
                next_step_at=_first_due(sequence, now),
            )
    except IntegrityError:  # enrolled at the same moment by another request
        return Enrolled(Enrollment.objects.get(sequence=sequence, contact=contact), False)
    return Enrolled(made, True)


def enrollment_remove(*, enrollment: Enrollment, now: datetime | None = None) -> Enrollment:
    """A person takes a contact out: nothing more is sent to them by this sequence."""
    if enrollment.status == EnrollmentStatus.ACTIVE:
        enrollment_exit(enrollments=[enrollment], reason=ExitReason.REMOVED, now=now)
        enrollment.refresh_from_db()
    return enrollment


def enrollment_exit(
    *, enrollments: list[Enrollment], reason: str, now: datetime | None = None
) -> int:
    """Take active enrollments out of their sequence for ``reason``."""
    return Enrollment.objects.filter(
        pk__in=[e.pk for e in enrollments], status=EnrollmentStatus.ACTIVE
    ).update(
        status=EnrollmentStatus.EXITED,
        exit_reason=reason,
        finished_at=now or timezone.now(),
        next_step_at=None,
        claim=None,
    )


def segment_preview(*, sequence: Sequence, segment: Segment) -> int:
    """How many contacts the segment has now (shown before enrolling them)."""
    return segment_count(segment=segment)


def segment_enroll(
    *,
    sequence: Sequence,
    segment: Segment,
    source: str = EnrollmentSource.SEGMENT,
    now: datetime | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """Enroll the segment's contacts that are not in the sequence yet.  Contacts without an
    email address are skipped and counted; so are those already enrolled."""
    if segment.organization_id != sequence.organization_id:
        raise NotFound("Segment not found")
    now = now or timezone.now()
    due = _first_due(sequence, now)
    contacts = segment_contacts(segment=segment).filter(organization_id=sequence.organization_id)
    already = set(Enrollment.objects.filter(sequence=sequence).values_list("contact_id", flat=True))
    new, no_email, skipped = [], 0, 0
    for contact_id, email in contacts.values_list("id", "email").iterator(chunk_size=2000):
        if contact_id in already:
            skipped += 1
        elif not email:
            no_email += 1
        else:
            new.append(contact_id)
    if limit is not None:
        new = new[:limit]
    rows = [
        Enrollment(
            organization_id=sequence.organization_id,
            sequence=sequence,
            contact_id=contact_id,
            source=source,
            enrolled_at=now,
            waiting_since=now,
            next_step_at=due,
        )
        for contact_id in new
    ]
    Enrollment.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return {"enrolled": len(rows), "already_enrolled": skipped, "no_email": no_email}


def template_for(*, organization: Organization, template_id: Any) -> EmailTemplate:
    found = EmailTemplate.objects.filter(organization=organization, pk=template_id).first()
    if found is None:
        raise NotFound("Template not found")
    return found


def contact_for_email(*, organization: Organization, email: str) -> Contact:
    """The organization's contact with this address, or a new contact with it (no consent is
    assumed: the compliance gate decides at every send)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput.for_field("email", "not a valid email address") from None
    found = Contact.objects.filter(
        organization=organization, email__iexact=email, erased_at__isnull=True
    ).first()
    if found is not None:
        return found
    return contact_create(organization=organization, email=email, entered_by="sequence enrollment")


def sequence_from_written(
    *,
    organization: Organization,
    topic: str,
    emails: list[dict[str, Any]],
    campaign: Campaign | None = None,
    source_run_id: Any = None,
) -> Sequence:
    """A draft sequence of written emails (``day`` = days after the first), named after the
    topic; the run lineage that wrote it finds the same draft again."""
    if source_run_id is not None:
        found = Sequence.objects.filter(
            organization=organization, source_run_id=source_run_id
        ).first()
        if found is not None:
            return found
    base = (topic.strip() or "Written sequence")[:180]
    taken = set(
        Sequence.objects.filter(organization=organization, name__startswith=base).values_list(
            "name", flat=True
        )
    )
    name = base
    n = 2
    while name in taken:
        name, n = f"{base} ({n})", n + 1
    steps, previous_day = [], 0
    for index, email in enumerate(emails[:MAX_STEPS]):
        day = email.get("day") if isinstance(email.get("day"), int) else index * 3
        wait = 0 if index == 0 else max(0, min(365, day - previous_day))
        previous_day = max(previous_day, day)
        steps.append({"wait_days": wait, "subject": email["subject"][:300], "body": email["body"]})
    with transaction.atomic():
        sequence = sequence_create(
            organization=organization, name=name, campaign=campaign, steps=steps
        )
        if source_run_id is not None:
            sequence.source_run_id = source_run_id
            sequence.save(update_fields=["source_run_id"])
    return sequence

"""The sequence engine: every minute, take the contacts whose next step is due and act on it.

For each (sequence, step) with due enrollments, in chunks of at most ``CHUNK`` contacts:

1. claim the chunk with one conditional UPDATE inside the transaction that acts on it (a
   second worker's UPDATE finds the rows moved on and takes nothing);
2. take out those who must leave: no email address, a reply (when the sequence exits on
   one), a hard bounce, an unsubscribe, a complaint, a suppression or missing consent, or the
   goal reached;
3. skip, for the others, a step whose condition on the previous email is false;
4. send the step to the rest with ONE Email agent ``send`` run (keyed by the step and the
   chunk, so it never goes twice): the compliance gate, suppressions, the outbox and tracking
   apply to every message;
5. record what was done to each contact and move them to the next step (its wait counts from
   now) or finish them.

A run that cannot be started (no usable SMTP connector, say) leaves the chunk due and the
reason on the sequence's page; the next minute tries again.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agents import services as agent_services
from agents.abtests import services as ab_services
from agents.audience.models import Contact
from agents.mail.models import EmailEvent, EmailMessage, EventKind, MessageStatus
from agents.mailtemplates.services import contact_values, template_compile
from agents.models import ABTest, ABTestStatus
from agents.sequences import selectors, subject_tests
from agents.sequences.models import (
    Enrollment,
    EnrollmentSource,
    EnrollmentStatus,
    EnrollmentStep,
    ExitReason,
    GoalKind,
    Sequence,
    SequenceStatus,
    SequenceStep,
    StepCondition,
    StepOutcome,
)
from agents.sequences.services import enrollment_exit, segment_enroll
from agents.writer import PLACEHOLDER_RE
from connectors.models import Suppression
from neonhub.core.errors import Conflict, NeonHubError
from runs.models import Trigger

logger = logging.getLogger(__name__)

CHUNK = 1000  # the Email agent's send takes at most 1000 recipients per run
BUDGET_SECONDS = 40.0
SWEEP_WINDOW = timedelta(minutes=15)  # recent events checked for exits of waiting contacts
ENROLL_PER_TICK = 5000
FILLED_BY_SEND = {"email", "unsubscribe_url"}


def engine_tick(
    *, now: datetime | None = None, budget_seconds: float = BUDGET_SECONDS, chunk: int = CHUNK
) -> dict[str, int]:
    """One pass of the engine; ``now`` is the time it acts at (tests move it)."""
    now = now or timezone.now()
    started = time.monotonic()
    totals = {"enrolled": 0, "exited": 0, "sent": 0, "skipped": 0, "failed": 0, "completed": 0}
    totals["held"] = 0  # due at a step whose subject test is under way
    totals["enrolled"] = _keep_enrolling(now)
    totals["exited"] += _exit_sweep(now)
    groups = (
        Enrollment.objects.filter(
            status=EnrollmentStatus.ACTIVE,
            sequence__status=SequenceStatus.ACTIVE,
            next_step_at__lte=now,
            claim__isnull=True,
        )
        .order_by()  # no ordering column in the DISTINCT
        .values_list("sequence_id", "position")
        .distinct()
    )
    for sequence_id, position in list(groups):
        while time.monotonic() - started < budget_seconds:
            done = step_take(sequence_id=sequence_id, position=position, now=now, chunk=chunk)
            for key in totals:
                totals[key] += done.get(key, 0)
            if done["claimed"] < chunk or done.get("stuck"):
                break
    return totals


def _keep_enrolling(now: datetime) -> int:
    enrolled = 0
    for sequence in Sequence.objects.filter(
        status=SequenceStatus.ACTIVE, keep_enrolling=True, segment__isnull=False
    ).select_related("segment"):
        try:
            done = segment_enroll(
                sequence=sequence,
                segment=sequence.segment,
                source=EnrollmentSource.SEGMENT,
                now=now,
                limit=ENROLL_PER_TICK,
            )
        except NeonHubError as exc:  # a segment whose rules no longer read: said on the page
            _problem(sequence.pk, f"New matches of the segment were not enrolled: {exc.message}")
            continue
        enrolled += done["enrolled"]
    return enrolled


def _exit_sweep(now: datetime) -> int:
    """Contacts waiting between steps who replied, bounced or unsubscribed just now leave at
    once, not only when their next step comes."""
    kinds = [EventKind.REPLY, EventKind.BOUNCE, EventKind.UNSUBSCRIBE, EventKind.COMPLAINT]
    contact_ids = set(
        EmailEvent.objects.filter(
            kind__in=kinds, at__gte=now - SWEEP_WINDOW, contact_id__isnull=False
        ).values_list("contact_id", flat=True)
    )
    if not contact_ids:
        return 0
    waiting = list(
        Enrollment.objects.filter(
            status=EnrollmentStatus.ACTIVE, contact_id__in=contact_ids
        ).select_related("contact", "sequence")
    )
    exited = 0
    by_sequence: dict[Any, list[Enrollment]] = {}
    for enrollment in waiting:
        by_sequence.setdefault(enrollment.sequence_id, []).append(enrollment)
    for rows in by_sequence.values():
        exits = exit_reasons(sequence=rows[0].sequence, enrollments=rows, goal=False)
        exited += _apply_exits(rows, exits, now)
    return exited


def step_take(
    *, sequence_id: Any, position: int, now: datetime, chunk: int = CHUNK
) -> dict[str, Any]:
    """Act on one chunk of the contacts due for the step at ``position``."""
    sequence = Sequence.objects.filter(pk=sequence_id, status=SequenceStatus.ACTIVE).first()
    done: dict[str, Any] = {"claimed": 0}
    if sequence is None:
        return done
    due = list(
        Enrollment.objects.filter(
            sequence=sequence,
            status=EnrollmentStatus.ACTIVE,
            position=position,
            next_step_at__lte=now,
            claim__isnull=True,
        )
        .select_related("contact")
        .order_by("next_step_at", "id")[:chunk]
    )
    if not due:
        return done
    steps = {s.position: s for s in selectors.step_list(sequence=sequence)}
    step = steps.get(position)
    if step is not None and step.ab_test_id is not None:
        test = ABTest.objects.get(pk=step.ab_test_id)
        if test.status != ABTestStatus.DRAFT and subject_tests.chosen_variant(test) is None:
            # The subject test is under way: whoever is due waits here for the winner.
            done["held"] = len(due)
            return done
    with transaction.atomic():
        token = uuid.uuid4()
        Enrollment.objects.filter(
            pk__in=[e.pk for e in due],
            status=EnrollmentStatus.ACTIVE,
            position=position,
            next_step_at__lte=now,
            claim__isnull=True,
        ).update(claim=token)
        mine_ids = set(Enrollment.objects.filter(claim=token).values_list("pk", flat=True))
        mine = [e for e in due if e.pk in mine_ids]
        done["claimed"] = len(mine)
        if step is None:  # past the last step (a step was removed): they are done
            done["completed"] = _finish(mine, now)
        else:
            done.update(_act(sequence, step, steps, mine, now))
        Enrollment.objects.filter(claim=token).update(claim=None)
    return done


def _act(
    sequence: Sequence,
    step: SequenceStep,
    steps: dict[int, SequenceStep],
    mine: list[Enrollment],
    now: datetime,
) -> dict[str, Any]:
    exits = exit_reasons(sequence=sequence, enrollments=mine)
    exited = _apply_exits(mine, exits, now)
    staying = [e for e in mine if e.pk not in exits]
    previous = previous_messages(enrollments=staying)
    # The first step has no previous email: it is always sent, whatever a move left on it.
    condition = StepCondition.ALWAYS if step.position == 1 else step.condition
    to_send = [e for e in staying if condition_met(condition, previous.get(e.pk))]
    skipped = [e for e in staying if e not in to_send]
    result: dict[str, Any] = {"exited": exited, "skipped": len(skipped)}
    failed: list[Enrollment] = []
    run_id = None
    runs: dict[Any, Any] = {}  # enrollment id -> the run that sent it (a subject test's share)
    held: list[Enrollment] = []
    if to_send:
        try:
            with transaction.atomic():
                if step.ab_test_id is not None:
                    run_id, failed, runs, held = _send_tested(sequence, step, to_send)
                else:
                    run_id, failed = _send(sequence, step, to_send)
        except Conflict:  # another worker started the subject test just now: wait for it
            result["held"] = len(to_send)
            to_send = []
        except NeonHubError as exc:
            _problem(sequence.pk, f"Step {step.position} could not be sent: {exc.message}")
            result["stuck"] = True
            # They stay due (the claim is released) and are tried again next minute.
            to_send = []
        else:
            if sequence.last_problem:
                _problem(sequence.pk, "")
    sent = [e for e in to_send if e not in failed and e not in held]
    if held:
        result["held"] = len(held)
    EnrollmentStep.objects.bulk_create(
        [
            EnrollmentStep(
                enrollment=e,
                step=step,
                outcome=StepOutcome.SENT,
                run_id=runs.get(e.pk, run_id),
                at=now,
            )
            for e in sent
        ]
        + [
            EnrollmentStep(enrollment=e, step=step, outcome=StepOutcome.SKIPPED, at=now)
            for e in skipped
        ]
        + [
            EnrollmentStep(enrollment=e, step=step, outcome=StepOutcome.FAILED, at=now)
            for e in failed
        ],
        ignore_conflicts=True,
    )
    moving = sent + skipped + failed
    result.update(sent=len(sent), failed=len(failed))
    next_step = steps.get(step.position + 1)
    if next_step is None:
        result["completed"] = _finish(moving, now)
    else:
        Enrollment.objects.filter(pk__in=[e.pk for e in moving]).update(
            position=next_step.position,
            waiting_since=now,
            next_step_at=now + timedelta(hours=next_step.wait_hours_total),
        )
    return result


def _finish(enrollments: list[Enrollment], now: datetime) -> int:
    return Enrollment.objects.filter(
        pk__in=[e.pk for e in enrollments], status=EnrollmentStatus.ACTIVE
    ).update(status=EnrollmentStatus.COMPLETED, finished_at=now, next_step_at=None)


def _problem(sequence_id: Any, message: str) -> None:
    Sequence.objects.filter(pk=sequence_id).update(last_problem=message[:500])


# --- exits ----------------------------------------------------------------------------------------


def exit_reasons(
    *, sequence: Sequence, enrollments: list[Enrollment], goal: bool = True
) -> dict[Any, str]:
    """Who must leave the sequence, and why (enrollment id → ``ExitReason``)."""
    if not enrollments:
        return {}
    org = sequence.organization
    since = min(e.enrolled_at for e in enrollments)
    contacts = [e.contact for e in enrollments]
    emails = [c.email for c in contacts if c.email]
    events = EmailEvent.objects.filter(organization=org, at__gte=since, machine=False).filter(
        Q(contact_id__in=[c.pk for c in contacts]) | Q(message__to__in=emails)
    )
    seen: dict[tuple[Any, str], list[tuple[datetime, str]]] = {}
    for contact_id, to, kind, at, url in events.values_list(
        "contact_id", "message__to", "kind", "at", "url"
    ):
        for key in (contact_id, to):
            seen.setdefault((key, kind), []).append((at, url))
    bounced = set(
        EmailMessage.objects.filter(
            organization=org, to__in=emails, status=MessageStatus.BOUNCED, created_at__gte=since
        ).values_list("to", flat=True)
    )
    suppressed = set(
        Suppression.objects.filter(
            organization=org, channel="email", address__in=[e.lower() for e in emails]
        ).values_list("address", flat=True)
    )
    require = "email" in ((org.settings or {}).get("require_consent") or [])
    reasons: dict[Any, str] = {}
    for enrollment in enrollments:
        reason = _exit_reason(sequence, enrollment, seen, bounced, suppressed, require, goal=goal)
        if reason:
            reasons[enrollment.pk] = reason
    return reasons


def _exit_reason(
    sequence: Sequence,
    enrollment: Enrollment,
    seen: dict,
    bounced: set[str],
    suppressed: set[str],
    require_consent: bool,
    *,
    goal: bool,
) -> str:
    contact: Contact = enrollment.contact
    if contact.erased_at is not None or not contact.email:
        return ExitReason.NO_EMAIL

    def happened(kind: str) -> list[tuple[datetime, str]]:
        found = seen.get((contact.pk, kind), []) + seen.get((contact.email, kind), [])
        return [(at, url) for at, url in found if at >= enrollment.enrolled_at]

    if sequence.exit_on_reply and happened(EventKind.REPLY):
        return ExitReason.REPLIED
    if contact.email in bounced:
        return ExitReason.BOUNCED
    consent = (contact.consent or {}).get("email")
    status = consent.get("status") if isinstance(consent, dict) else None
    if (
        happened(EventKind.UNSUBSCRIBE)
        or happened(EventKind.COMPLAINT)
        or status == "revoked"
        or (require_consent and status != "granted")
        or contact.email.lower() in suppressed
    ):
        return ExitReason.UNSUBSCRIBED
    if goal and _goal_reached(sequence, contact, happened):
        return ExitReason.GOAL
    return ""


def _goal_reached(sequence: Sequence, contact: Contact, happened) -> bool:
    value = sequence.goal_value.strip()
    if sequence.goal_kind == GoalKind.CLICKED and value:
        return any(value.lower() in url.lower() for _, url in happened(EventKind.CLICK))
    if sequence.goal_kind == GoalKind.TAG and value:
        return value.lower() in {str(t).lower() for t in (contact.tags or [])}
    return False


def _apply_exits(enrollments: list[Enrollment], exits: dict[Any, str], now: datetime) -> int:
    count = 0
    for reason in set(exits.values()):
        count += enrollment_exit(
            enrollments=[e for e in enrollments if exits.get(e.pk) == reason],
            reason=reason,
            now=now,
        )
    return count


# --- conditions -----------------------------------------------------------------------------------


def previous_messages(*, enrollments: list[Enrollment]) -> dict[Any, EmailMessage]:
    """The last email each enrollment was sent by its sequence (enrollment id → message)."""
    if not enrollments:
        return {}
    last_run: dict[Any, Any] = {}
    for enrollment_id, run_id in (
        EnrollmentStep.objects.filter(
            enrollment__in=enrollments, outcome=StepOutcome.SENT, run_id__isnull=False
        )
        .order_by("step__position", "at")
        .values_list("enrollment_id", "run_id")
    ):
        last_run[enrollment_id] = run_id  # the later step wins
    run_ids = set(last_run.values())
    emails = {e.pk: e.contact.email for e in enrollments}
    found: dict[tuple[Any, str], EmailMessage] = {}
    for message in EmailMessage.objects.filter(
        organization_id=enrollments[0].organization_id, to__in=list(emails.values())
    ).filter(Q(run_id__in=run_ids) | Q(lineage_id__in=run_ids)):
        for key in (message.run_id, message.lineage_id):
            found.setdefault((key, message.to), message)
    return {
        pk: found[(last_run[pk], email)]
        for pk, email in emails.items()
        if pk in last_run and (last_run[pk], email) in found
    }


def condition_met(condition: str, previous: EmailMessage | None) -> bool:
    """Whether a step with ``condition`` is sent, given the previous email (None: none sent)."""
    opened = bool(previous and previous.first_opened_at)
    clicked = bool(previous and previous.first_clicked_at)
    replied = bool(previous and previous.replied_at)
    return {
        StepCondition.ALWAYS: True,
        StepCondition.OPENED: opened,
        StepCondition.NOT_OPENED: not opened,
        StepCondition.CLICKED: clicked,
        StepCondition.NOT_CLICKED: not clicked,
        StepCondition.REPLIED: replied,
        StepCondition.NOT_REPLIED: not replied,
    }.get(condition, False)


# --- sending --------------------------------------------------------------------------------------


def step_content(step: SequenceStep) -> dict[str, Any]:
    """Subject, plain text and HTML of a step, placeholders kept."""
    if step.template_id is not None:
        compiled = template_compile(template=step.template)
        return {
            "subject": compiled.subject or step.template.subject or step.subject,
            "body": compiled.text,
            "html": compiled.html,
            "uses_template": True,
        }
    return {"subject": step.subject, "body": step.body, "html": None, "uses_template": False}


def recipient_values(contact: Contact, *, uses_template: bool) -> dict[str, str | int | float]:
    if uses_template:
        raw = contact_values(contact)
        return {k: v for k, v in raw.items() if isinstance(v, str | int | float) and v != ""}
    return selectors.contact_variables(contact)


def missing_values(texts: list[str], values: dict[str, Any]) -> list[str]:
    names = []
    for text in texts:
        for match in PLACEHOLDER_RE.finditer(text or ""):
            name, default = match.group(1), match.group(2)
            if name not in values and name not in FILLED_BY_SEND and default is None:
                names.append(name)
    return sorted(set(names))


def _send_tested(
    sequence: Sequence, step: SequenceStep, enrollments: list[Enrollment]
) -> tuple[Any, list[Enrollment], dict[Any, Any], list[Enrollment]]:
    """Send a step whose subject is under test: ``(run id, failed, runs, held)``.

    A draft test starts with these contacts as its audience: its test share gets A or B now
    (``runs`` says which run sent each), the others are ``held`` (they stay due at this step,
    and the engine leaves the step alone until the test is decided).  Once it is decided,
    everyone gets the chosen variant's subject, sent here, by the sequence.
    """
    test = ABTest.objects.select_for_update().get(pk=step.ab_test_id)
    if test.status == ABTestStatus.DRAFT:
        missing = _failing(step, enrollments)
        audience = [e for e in enrollments if e not in missing]
        if not audience:
            return None, missing, {}, []
        subject_tests.step_test_sync(step=step)
        test.refresh_from_db()
        sent = ab_services.abtest_start_for_contacts(
            test=test, contacts=[e.contact for e in audience]
        )
        runs = {e.pk: sent[e.contact_id][1] for e in audience if e.contact_id in sent}
        held = [e for e in audience if e.contact_id not in sent]
        return None, missing, runs, held
    key = subject_tests.chosen_variant(test)
    if key is None:  # decided meanwhile by nobody: still holding
        return None, [], {}, list(enrollments)
    if not key:  # the test was stopped: the step as written
        run_id, failed = _send(sequence, step, enrollments)
        return run_id, failed, {}, []
    variant = next((v for v in test.variants if v["key"] == key), None)
    subject = variant["subject"] if variant else None
    run_id, failed = _send(
        sequence, step, enrollments, subject=subject, ab_test_id=test.pk, variant=key
    )
    return run_id, failed, {}, []


def _failing(step: SequenceStep, enrollments: list[Enrollment]) -> list[Enrollment]:
    """Those whose values leave a ``{{placeholder}}`` of the step empty."""
    content = step_content(step)
    texts = [content["subject"], content["body"], content["html"] or ""]
    return [
        e
        for e in enrollments
        if missing_values(
            texts, recipient_values(e.contact, uses_template=content["uses_template"])
        )
    ]


def _send(
    sequence: Sequence,
    step: SequenceStep,
    enrollments: list[Enrollment],
    *,
    subject: str | None = None,
    ab_test_id: Any = None,
    variant: str = "",
) -> tuple[Any, list[Enrollment]]:
    """Start the Email agent run of this step for these contacts.  Those whose values leave a
    ``{{placeholder}}`` empty are not sent (they would refuse the whole run) and are returned.

    ``subject`` replaces the step's (a subject test's chosen variant; its messages then carry
    the test and the variant, ``ab_test_id`` and ``variant``)."""
    content = step_content(step)
    if subject:
        content["subject"] = subject
    texts = [content["subject"], content["body"], content["html"] or ""]
    recipients, failed = [], []
    for enrollment in enrollments:
        values = recipient_values(enrollment.contact, uses_template=content["uses_template"])
        if missing_values(texts, values):
            failed.append(enrollment)
            continue
        values.pop("email", None)
        recipients.append({"email": enrollment.contact.email, "variables": values})
    if not recipients:
        return None, failed
    payload = {"subject": content["subject"], "body": content["body"], "recipients": recipients}
    if content["html"]:
        payload["html"] = content["html"]
    if ab_test_id is not None:
        payload.update(abTestId=str(ab_test_id), variant=variant)
    ids = sorted(str(e.pk) for e in enrollments if e not in failed)
    chunk_key = hashlib.sha256(",".join(ids).encode()).hexdigest()[:24]
    run, _ = agent_services.run_start(
        organization=sequence.organization,
        agent="email",
        intent="send",
        payload=payload,
        trigger=Trigger.SCHEDULE,
        campaign_id=sequence.campaign_id,
        idempotency_key=f"seq:{step.pk}:{variant}{chunk_key}",
    )
    return run.pk, failed

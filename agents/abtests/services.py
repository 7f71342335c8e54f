"""Writes of A/B tests: create, start (the test share), decide, send the winner, pick, cancel.

Email leaves only through Email agent ``send`` runs (compliance gate, suppressions, the outbox
and tracking apply), each with a stable idempotency key, so nothing is sent twice however often
a step is repeated.  Every status change is a conditional UPDATE: of two workers (or a worker
and a person) only one moves a test on.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents import services as agent_services
from agents.abtests import selectors, stats
from agents.abtests.models import ABTestRecipient, RecipientGroup
from agents.audience.models import Contact, ContactList
from agents.campaigns.models import Campaign
from agents.mailtemplates.models import EmailTemplate
from agents.mailtemplates.services import contact_values, template_compile
from agents.models import (
    SHARE_PERCENT_MAX,
    SHARE_PERCENT_MIN,
    WINDOW_HOURS_MAX,
    WINDOW_HOURS_MIN,
    ABTest,
    ABTestMetric,
    ABTestStatus,
    NoWinnerAction,
)
from agents.segments.models import Segment
from neonhub.core.errors import Conflict, InvalidInput, NeonHubError
from neonhub.core.models import Organization
from runs.models import Trigger

CHUNK = 1000  # recipients per Email agent run (its limit)
MAX_VARIANTS = 5
CONFIDENCES = (90, 95, 99)
STUCK_AFTER = timedelta(minutes=5)  # a winner's send that stopped half-way is tried again
KEYS = "ABCDE"


# --- create ---------------------------------------------------------------------------------


def abtest_create(
    *,
    organization: Organization,
    name: str,
    variants: list[dict],
    campaign: Campaign | None = None,
    campaign_label: str = "",
    segment: Segment | None = None,
    contact_list: ContactList | None = None,
    metric: str = ABTestMetric.OPENS,
    share_percent: int = 20,
    window_hours: int = 4,
    confidence: int = 95,
    no_winner: str = NoWinnerAction.LEADER,
    min_sample: int = stats.MIN_SAMPLE,
    created_by: Any = None,
    run_id: uuid.UUID | None = None,
) -> ABTest:
    """A draft test; ``variants`` are ``{"subject", "body", "template_id"}`` dicts (A, B, ...)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput.for_field("name", "give the test a name")
    _check_settings(metric, share_percent, window_hours, confidence, no_winner)
    check_min_sample(min_sample)
    if segment is not None and contact_list is not None:
        raise InvalidInput.for_field("segment", "choose a segment or a list, not both")
    for what, obj in (("campaign", campaign), ("segment", segment), ("list", contact_list)):
        if obj is not None and obj.organization_id != organization.pk:
            raise InvalidInput.for_field(what, f"unknown {what}")
    return ABTest.objects.create(
        organization=organization,
        name=name[:200],
        campaign=campaign,
        campaign_label=campaign_label[:100],
        segment=segment,
        contact_list=contact_list,
        variants=variants_clean(organization=organization, variants=variants),
        metric=metric,
        share_percent=share_percent,
        window_hours=window_hours,
        confidence=confidence,
        no_winner=no_winner,
        min_sample=min_sample,
        created_by=created_by,
        run_id=run_id,
    )


def _check_settings(
    metric: str, share_percent: int, window_hours: int, confidence: int, no_winner: str
) -> None:
    if metric not in ABTestMetric.values:
        raise InvalidInput.for_field("metric", "opens or clicks")
    if not SHARE_PERCENT_MIN <= share_percent <= SHARE_PERCENT_MAX:
        raise InvalidInput.for_field(
            "share_percent", f"between {SHARE_PERCENT_MIN} and {SHARE_PERCENT_MAX} (percent)"
        )
    if not WINDOW_HOURS_MIN <= window_hours <= WINDOW_HOURS_MAX:
        raise InvalidInput.for_field(
            "window_hours", f"between {WINDOW_HOURS_MIN} and {WINDOW_HOURS_MAX} hours"
        )
    if confidence not in CONFIDENCES:
        raise InvalidInput.for_field("confidence", "90, 95 or 99 (percent)")
    if no_winner not in NoWinnerAction.values:
        raise InvalidInput.for_field("no_winner", "leader or manual")


def check_min_sample(min_sample: int) -> None:
    """The fewest delivered emails per variant before a winner is called (30 unless lowered)."""
    if not isinstance(min_sample, int) or not 1 <= min_sample <= 100000:
        raise InvalidInput.for_field("min_sample", "between 1 and 100000 emails per variant")


def variants_clean(*, organization: Organization, variants: list[dict]) -> list[dict]:
    """Two to five variants, each with a subject and a body, or an email template."""
    if not 2 <= len(variants) <= MAX_VARIANTS:
        raise InvalidInput.for_field("variants", f"give between 2 and {MAX_VARIANTS} variants")
    cleaned = []
    for i, v in enumerate(variants):
        subject = str(v.get("subject") or "").strip()
        body = str(v.get("body") or "").strip()
        template_id = v.get("template_id") or None
        if template_id:
            template = EmailTemplate.objects.filter(
                organization=organization, pk=_uuid(template_id, f"variants.{i}.template_id")
            ).first()
            if template is None:
                raise InvalidInput.for_field(f"variants.{i}.template_id", "unknown template")
            template_id = str(template.pk)
            subject = subject or template.subject
        if not subject:
            raise InvalidInput.for_field(f"variants.{i}.subject", "give a subject")
        if not body and not template_id:
            raise InvalidInput.for_field(f"variants.{i}.body", "give a text, or choose a template")
        if len(subject) > 300:
            raise InvalidInput.for_field(f"variants.{i}.subject", "at most 300 characters")
        cleaned.append(
            {"key": KEYS[i], "subject": subject, "body": body, "template_id": template_id}
        )
    return cleaned


def _uuid(value: Any, field: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput.for_field(field, "not a valid id") from None


def owned_get(*, model: type, organization: Organization, value: Any, field: str):
    """The organization's ``model`` row with id ``value`` (None for none); else 422 on ``field``.

    Used for ids given in a form or a payload (a campaign, segment, list or template), where an
    unknown or foreign id is bad input naming the field.
    """
    if value in (None, ""):
        return None
    found = model.objects.filter(organization=organization, pk=_uuid(value, field)).first()
    if found is None:
        raise InvalidInput.for_field(field, f"no such {model._meta.verbose_name}")
    return found


# --- start ----------------------------------------------------------------------------------


def abtest_start(*, test: ABTest, trigger: str = Trigger.UI, created_by: Any = None) -> ABTest:
    """Snapshot the audience, split it and send the test share; all or nothing.

    Raises ``Conflict`` if the test is not a draft, ``InvalidInput`` if the audience is too
    small or a send could not start (no SMTP connector, a placeholder without a value).
    """
    if test.segment_id is None and test.contact_list_id is None:
        raise InvalidInput.for_field("audience", "choose a segment or a contact list first")
    with transaction.atomic():
        _claim_draft(test)
        _start(test, selectors.audience_split(test=test), trigger, created_by, {})
    test.refresh_from_db()
    return test


def abtest_start_for_contacts(
    *,
    test: ABTest,
    contacts: list[Contact],
    trigger: str = Trigger.SCHEDULE,
    created_by: Any = None,
) -> dict[uuid.UUID, tuple[str, uuid.UUID]]:
    """Start a test whose audience is ``contacts`` (given by the caller, e.g. the contacts a
    sequence step is due for) instead of a segment or a list; all or nothing.

    The test share gets its variants now, as with ``abtest_start``.  The rest is snapshotted
    but **not** sent by this app: the caller holds those contacts and sends them the chosen
    variant itself (``split["rest_sent_elsewhere"]``; the decision then only records the
    winner).  Returns, for each contact of the test share, its variant and the id of the
    Email agent run that sent it.
    """
    with transaction.atomic():
        _claim_draft(test)
        split = selectors.contacts_split(test=test, contacts=contacts)
        return _start(test, split, trigger, created_by, {"rest_sent_elsewhere": True})


def _claim_draft(test: ABTest) -> None:
    if not ABTest.objects.filter(pk=test.pk, status=ABTestStatus.DRAFT).update(
        status=ABTestStatus.TESTING
    ):
        raise Conflict("This test has already been started or cancelled")


def _start(
    test: ABTest, split: selectors.Split, trigger: str, created_by: Any, extra: dict
) -> dict[uuid.UUID, tuple[str, uuid.UUID]]:
    """Snapshot ``split``, send the test share and open the window (inside the caller's
    transaction, after the test moved from draft to testing)."""
    keys = [v["key"] for v in test.variants]
    if len(split.test) < len(keys):
        raise InvalidInput.for_field(
            "audience",
            f"the audience has {split.eligible} people who can be emailed; "
            f"a test of {len(keys)} variants needs at least {len(keys)}",
        )
    _snapshot(test, split, keys)
    sent: dict[uuid.UUID, tuple[str, uuid.UUID]] = {}
    for i, key in enumerate(keys):
        contacts = split.test[i :: len(keys)]
        runs = _send(test, key, contacts, f"abtest:{test.pk}:{key}", trigger, created_by)
        sent.update({contact_id: (key, run_id) for contact_id, run_id in runs.items()})
    now = timezone.now()
    ABTest.objects.filter(pk=test.pk).update(
        status=ABTestStatus.WAITING,
        started_at=now,
        window_ends_at=now + timedelta(hours=test.window_hours),
        split={**split.counts(keys), **extra},
    )
    return sent


def _snapshot(test: ABTest, split: selectors.Split, keys: list[str]) -> None:
    rows = [
        ABTestRecipient(
            test=test,
            contact=c,
            group=RecipientGroup.TEST,
            variant=keys[i % len(keys)],
            position=i,
        )
        for i, c in enumerate(split.test)
    ]
    rows += [
        ABTestRecipient(test=test, contact=c, group=RecipientGroup.REST, position=len(rows) + i)
        for i, c in enumerate(split.rest)
    ]
    ABTestRecipient.objects.bulk_create(rows, batch_size=1000)


def _send(
    test: ABTest,
    key: str,
    contacts: list[Contact],
    key_prefix: str,
    trigger: str,
    created_by: Any,
) -> dict[uuid.UUID, uuid.UUID]:
    """Start one Email agent ``send`` run per chunk of ``contacts`` with variant ``key``;
    returns the run that carries each contact's email (contact id → run id)."""
    variant = next(v for v in test.variants if v["key"] == key)
    content, values = _content(variant)
    runs: dict[uuid.UUID, uuid.UUID] = {}
    for chunk, start in enumerate(range(0, len(contacts), CHUNK)):
        part = contacts[start : start + CHUNK]
        recipients = [{"email": c.email, "variables": values(c)} for c in part]
        run, _ = agent_services.run_start(
            organization=test.organization,
            agent="email",
            intent="send",
            payload={**content, "recipients": recipients, "abTestId": str(test.pk), "variant": key},
            trigger=trigger,
            created_by=created_by,
            idempotency_key=f"{key_prefix}:{chunk}",
            campaign_id=test.campaign_id,
        )
        runs.update({c.pk: run.pk for c in part})
    return runs


def _content(variant: dict):
    """The send payload's subject/body/html of a variant, and its per-recipient variables."""
    if variant.get("template_id"):
        template = EmailTemplate.objects.get(pk=variant["template_id"])
        compiled = template_compile(template=template)
        content = {
            "subject": variant["subject"] or compiled.subject,
            "body": variant["body"] or compiled.text,
            "html": compiled.html,
        }
        return content, lambda c: {k: str(v) for k, v in contact_values(c).items()}
    return {"subject": variant["subject"], "body": variant["body"]}, contact_variables


def contact_variables(contact: Contact) -> dict[str, str]:
    """A contact's values for ``{{placeholders}}``: its attributes, name parts and email."""
    first, _, last = (contact.name or "").partition(" ")
    values = {k: str(v) for k, v in (contact.attributes or {}).items() if v not in (None, "")}
    values.setdefault("first_name", first)
    values.setdefault("last_name", last)
    values.setdefault("name", contact.name or "")
    values = {k: v for k, v in values.items() if v}  # blank: the text's default applies
    return values


# --- decide ---------------------------------------------------------------------------------


def abtests_decide_due(*, now=None) -> dict:
    """The minute task: decide every test whose window has ended; resume a stopped winner's send."""
    now = now or timezone.now()
    decided = [
        abtest_decide(test_id=pk, now=now)
        for pk in ABTest.objects.filter(
            status=ABTestStatus.WAITING, window_ends_at__lte=now
        ).values_list("pk", flat=True)[:50]
    ]
    resumed = [
        _send_rest(ABTest.objects.get(pk=pk))
        for pk in ABTest.objects.filter(
            status=ABTestStatus.SENDING, decided_at__lte=now - STUCK_AFTER
        ).values_list("pk", flat=True)[:50]
    ]
    return {"decided": len(decided), "resumed": len(resumed)}


def abtest_verdict(*, test: ABTest) -> dict:
    """The test's numbers and what they say now (the ``result`` a decision stores)."""
    numbers = selectors.variant_numbers(test=test)
    success = "opened" if test.metric == ABTestMetric.OPENS else "clicked"
    found = stats.verdict(
        {k: (n[success], n["delivered"]) for k, n in numbers.items()},
        confidence=test.confidence,
        min_sample=test.min_sample,
    )
    outcome = (
        "winner"
        if found.winner
        else ("no_clear_winner" if found.enough_data else "not_enough_data")
    )
    return {
        "metric": test.metric,
        "variants": [{"key": k, **n} for k, n in numbers.items()],
        "leader": found.leader,
        "winner": found.winner,
        "p_value": found.p_value,
        "confidence": found.confidence,
        "confidence_needed": test.confidence,
        "min_sample": test.min_sample,
        "outcome": outcome,
        "comparisons": found.comparisons,
    }


def abtest_decide(*, test_id: uuid.UUID, now=None) -> ABTest:
    """Choose the winner of a test whose window has ended, then send it to the rest.

    No clear winner: the leader goes out (``no_winner="leader"``), or the test waits for a
    person to pick (``"manual"``).  Only the worker whose UPDATE moves the test on acts.
    """
    now = now or timezone.now()
    test = ABTest.objects.select_related("organization").get(pk=test_id)
    if selectors.test_share_pending(test=test):
        return test  # judged once the whole test share has gone out (approval, quiet hours)
    result = abtest_verdict(test=test)
    send = result["winner"] or (result["leader"] if test.no_winner == NoWinnerAction.LEADER else "")
    result["sent_variant"] = send
    status = ABTestStatus.SENDING if send else ABTestStatus.PICKING
    moved = ABTest.objects.filter(
        pk=test.pk, status=ABTestStatus.WAITING, window_ends_at__lte=now
    ).update(status=status, result=result, winner=result["winner"], decided_at=now)
    test.refresh_from_db()
    if moved and send:
        _send_rest(test)
        test.refresh_from_db()
    return test


def abtest_pick(*, test: ABTest, variant: str, created_by: Any = None) -> ABTest:
    """A person's choice when there was no clear winner: send ``variant`` to the rest."""
    if variant not in [v["key"] for v in test.variants]:
        raise InvalidInput.for_field("variant", "not one of this test's variants")
    result = {**test.result, "sent_variant": variant, "picked_by_person": True}
    if not ABTest.objects.filter(pk=test.pk, status=ABTestStatus.PICKING).update(
        status=ABTestStatus.SENDING, result=result, decided_at=timezone.now()
    ):
        raise Conflict("This test is not waiting for a pick")
    test.refresh_from_db()
    _send_rest(test, created_by=created_by)
    test.refresh_from_db()
    return test


def _send_rest(test: ABTest, *, created_by: Any = None) -> ABTest:
    key = test.result.get("sent_variant") or ""
    rest = list(
        ABTestRecipient.objects.filter(test=test, group=RecipientGroup.REST)
        .select_related("contact")
        .order_by("position")
    )
    # Whoever was erased or suppressed since the start is skipped by the send run itself.
    contacts = [r.contact for r in rest if r.contact.email and r.contact.erased_at is None]
    if (test.split or {}).get("rest_sent_elsewhere"):
        # The caller that gave the audience (a sequence step) holds the rest and sends them the
        # chosen variant itself: here the decision is only recorded, nothing is sent.
        with transaction.atomic():
            ABTestRecipient.objects.filter(test=test, group=RecipientGroup.REST).update(variant=key)
            ABTest.objects.filter(pk=test.pk, status=ABTestStatus.SENDING).update(
                status=ABTestStatus.DONE,
                completed_at=timezone.now(),
                result={**test.result, "rest_sent_elsewhere": True, "error": ""},
            )
        return test
    try:
        with transaction.atomic():
            _send(test, key, contacts, f"abtest:{test.pk}:winner", Trigger.SCHEDULE, created_by)
            ABTestRecipient.objects.filter(test=test, group=RecipientGroup.REST).update(variant=key)
            ABTest.objects.filter(pk=test.pk, status=ABTestStatus.SENDING).update(
                status=ABTestStatus.DONE,
                completed_at=timezone.now(),
                result={**test.result, "rest_sent": len(contacts), "error": ""},
            )
    except NeonHubError as exc:  # tried again by the minute task; the page says why
        ABTest.objects.filter(pk=test.pk).update(result={**test.result, "error": exc.message})
    return test


# --- cancel ---------------------------------------------------------------------------------


def abtest_cancel(*, test: ABTest) -> ABTest:
    """Stop the test: nobody else gets an email from it (what was sent stays sent)."""
    if not ABTest.objects.filter(
        pk=test.pk,
        status__in=[ABTestStatus.DRAFT, ABTestStatus.WAITING, ABTestStatus.PICKING],
    ).update(status=ABTestStatus.CANCELLED, completed_at=timezone.now()):
        raise Conflict("Only a test that is not sending and not finished can be cancelled")
    test.refresh_from_db()
    return test

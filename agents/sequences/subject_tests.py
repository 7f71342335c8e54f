"""A/B tests of a step's subject line, built on the A/B tests app (``agents.abtests``).

A step with a test points at an ``agents.ABTest`` (``SequenceStep.ab_test``) whose variant A is
the step as written and variant B the same email with a second subject.  The engine
(``agents.sequences.engine``) acts on it when the step is due:

* draft: the contacts due now are the test's audience; the test share gets A or B at once
  (``abtests.services.abtest_start_for_contacts``), the others are held at the step;
* waiting for the window to end (or for a person to pick): whoever is due is held;
* decided: the held contacts and everyone due later get the chosen variant's subject, sent by
  the sequence itself (the A/B test only records the decision, it sends nothing to "the rest");
* cancelled: the step goes out as written.

The test's settings and subject B can change only while it is a draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from agents.abtests import selectors as ab_selectors
from agents.abtests import services as ab_services
from agents.abtests import stats
from agents.mailtemplates.services import template_compile
from agents.models import ABTest, ABTestMetric, ABTestStatus
from agents.sequences.models import SequenceStep
from neonhub.core.errors import Conflict, InvalidInput

DEFAULTS = {
    "metric": ABTestMetric.OPENS,
    "share_percent": 20,
    "window_hours": 4,
    "confidence": 95,
    "min_sample": stats.MIN_SAMPLE,
}
HOLDING = (ABTestStatus.TESTING, ABTestStatus.WAITING, ABTestStatus.PICKING)


def variants_for(step: SequenceStep, subject_b: str) -> list[dict]:
    """A: the step as written; B: the same email with ``subject_b``."""
    if step.template_id is not None:
        compiled = template_compile(template=step.template)
        subject_a = compiled.subject or step.template.subject or step.subject
        template_id = str(step.template_id)
        body = ""
    else:
        subject_a, template_id, body = step.subject, None, step.body
    return [
        {"subject": subject_a, "body": body, "template_id": template_id},
        {"subject": subject_b, "body": body, "template_id": template_id},
    ]


def subject_b_of(step: SequenceStep) -> str:
    test = step.ab_test
    if test is None or len(test.variants) < 2:
        return ""
    return test.variants[1].get("subject", "")


def _test_name(step: SequenceStep) -> str:
    return f"{step.sequence.name}: subject of email {step.position}"[:200]


def step_test_set(
    *,
    step: SequenceStep,
    subject_b: str,
    metric: str = DEFAULTS["metric"],
    share_percent: int = DEFAULTS["share_percent"],
    window_hours: int = DEFAULTS["window_hours"],
    confidence: int = DEFAULTS["confidence"],
    min_sample: int = DEFAULTS["min_sample"],
    created_by: Any = None,
) -> ABTest:
    """Test ``subject_b`` against the step's own subject (create or change the draft test)."""
    subject_b = (subject_b or "").strip()
    if not subject_b:
        raise InvalidInput.for_field("subject_b", "write the second subject line")
    sequence = step.sequence
    settings = {
        "metric": metric,
        "share_percent": share_percent,
        "window_hours": window_hours,
        "confidence": confidence,
    }
    with transaction.atomic():
        step = (
            SequenceStep.objects.select_for_update(of=("self",))
            .select_related("ab_test")
            .get(pk=step.pk)
        )
        test = step.ab_test
        if test is not None and test.status == ABTestStatus.CANCELLED:
            test = None  # a cancelled test is kept for its numbers; a new one starts
        if test is None:
            test = ab_services.abtest_create(
                organization=sequence.organization,
                name=_test_name(step),
                variants=variants_for(step, subject_b),
                campaign=sequence.campaign,
                min_sample=min_sample,
                created_by=created_by,
                **settings,
            )
            SequenceStep.objects.filter(pk=step.pk).update(ab_test=test)
            step.ab_test = test
            return test
        same = subject_b_of(step) == subject_b and min_sample == test.min_sample
        same = same and all(getattr(test, k) == v for k, v in settings.items())
        if test.status != ABTestStatus.DRAFT and same:
            return test  # the step's other fields changed; the test stays as it is
        if test.status != ABTestStatus.DRAFT:
            raise Conflict(
                "This subject test has started: its subjects and settings can no longer change"
            )
        ab_services._check_settings(metric, share_percent, window_hours, confidence, test.no_winner)
        ab_services.check_min_sample(min_sample)
        variants = ab_services.variants_clean(
            organization=sequence.organization, variants=variants_for(step, subject_b)
        )
        ABTest.objects.filter(pk=test.pk, status=ABTestStatus.DRAFT).update(
            name=_test_name(step),
            variants=variants,
            campaign=sequence.campaign,
            min_sample=min_sample,
            **settings,
        )
    test.refresh_from_db()
    return test


def step_test_remove(*, step: SequenceStep) -> None:
    """Stop testing a subject: a draft test is deleted, a started one cancelled (what was sent
    stays sent; the held contacts then get the step as written)."""
    test = step.ab_test
    if test is None:
        return
    with transaction.atomic():
        SequenceStep.objects.filter(pk=step.pk).update(ab_test=None)
        if test.status == ABTestStatus.DRAFT:
            ABTest.objects.filter(pk=test.pk, status=ABTestStatus.DRAFT).delete()
        elif test.status in (ABTestStatus.WAITING, ABTestStatus.PICKING):
            ab_services.abtest_cancel(test=test)
    step.ab_test = None


def step_test_sync(*, step: SequenceStep) -> None:
    """After the step itself changed: a draft test's variant A follows it."""
    test = step.ab_test
    if test is None or test.status != ABTestStatus.DRAFT:
        return
    variants = ab_services.variants_clean(
        organization=step.sequence.organization, variants=variants_for(step, subject_b_of(step))
    )
    ABTest.objects.filter(pk=test.pk, status=ABTestStatus.DRAFT).update(
        variants=variants, campaign=step.sequence.campaign
    )


# --- what the engine sends ------------------------------------------------------------------


def chosen_variant(test: ABTest) -> str | None:
    """The variant the step sends now: ``None`` while the test holds contacts, ``""`` when the
    step goes out as written (cancelled), else the decided variant's key."""
    if test.status == ABTestStatus.DRAFT or test.status in HOLDING:
        return None
    if test.status == ABTestStatus.CANCELLED:
        return ""
    return test.result.get("sent_variant") or None


def subject_test_out(step: SequenceStep) -> dict | None:
    """The step's test for the API (``schemas.SubjectTestOut``)."""
    test = step.ab_test if step.ab_test_id else None
    if test is None:
        return None
    view = step_test_view(step)
    return {
        "ab_test_id": test.pk,
        "status": test.status,
        "subject_a": test.variants[0]["subject"] if test.variants else "",
        "subject_b": subject_b_of(step),
        "metric": test.metric,
        "share_percent": test.share_percent,
        "window_hours": test.window_hours,
        "confidence": test.confidence,
        "min_sample": test.min_sample,
        "winner": test.winner,
        "sent_variant": (test.result or {}).get("sent_variant", ""),
        "summary": view.winner_words if view else "",
    }


# --- what the pages show --------------------------------------------------------------------


@dataclass
class StepTest:
    test: ABTest
    subject_b: str
    variants: list[dict]
    summary: str
    winner_words: str


def step_test_view(step: SequenceStep) -> StepTest | None:
    """The step's test for its card: each variant's subject and numbers, the outcome in words."""
    test = step.ab_test
    if test is None:
        return None
    numbers = ab_selectors.variant_numbers(test=test)
    variants = [{**v, **numbers.get(v["key"], {})} for v in test.variants]
    result = test.result or {}
    summary = ab_selectors.result_summary(test, result) if result else ""
    sent = result.get("sent_variant", "")
    if test.status == ABTestStatus.DRAFT:
        words = "Starts when the first contacts reach this email."
    elif test.status in (ABTestStatus.TESTING, ABTestStatus.WAITING):
        words = (
            "Testing: the test share got A or B; the others wait here until the winner is chosen."
        )
    elif test.status == ABTestStatus.PICKING:
        words = "No clear winner: pick the subject to send on the test's page."
    elif test.status == ABTestStatus.CANCELLED:
        words = "Test stopped: everyone else gets subject A (the step as written)."
    elif test.winner:
        words = f"Variant {test.winner} won: everyone else gets its subject."
    else:
        words = f"No clear winner: everyone else gets variant {sent} (it led)."
    return StepTest(
        test=test,
        subject_b=subject_b_of(step),
        variants=variants,
        summary=summary,
        winner_words=words,
    )

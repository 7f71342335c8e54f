"""Starting, retrying, cancelling and recovering runs."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from agents import admission, approvals, queue
from agents.checks import provider_label
from agents.models import Brand, ContentDraft, DraftStatus, KnowledgeArticle
from agents.registry import get_agent
from connectors.models import Connector, Health
from neonhub.core import audit, lanes
from neonhub.core import queue as core_queue
from neonhub.core.errors import Conflict, InvalidInput
from neonhub.core.models import Organization
from runs import services as run_services
from runs.models import AgentRun, ApprovalState, RunApproval, RunStatus, Trigger

if TYPE_CHECKING:
    from django.http import HttpRequest

    from neonhub.core.auth import Principal

logger = logging.getLogger(__name__)

DRAFT_FIELDS = frozenset({"title", "body", "primary_keyword", "status"})


def run_start(
    *,
    organization: Organization,
    agent: str,
    intent: str,
    payload: dict,
    trigger: str = Trigger.API,
    created_by=None,
    idempotency_key: str | None = None,
    parent: AgentRun | None = None,
    batch_id: UUID | None = None,
    schedule_id: UUID | None = None,
    delivery_id: UUID | None = None,
    **extra,
) -> tuple[AgentRun, bool]:
    """Validate and queue a run; it is enqueued when the transaction commits.

    ``parent``, ``batch_id``, ``schedule_id`` and ``delivery_id`` record where the run came from
    (at most one of the last three).  Returns ``(run, created)``; ``created`` is False when an
    idempotency key matched (the first run keeps its origin).
    Raises ``AgentNotRegistered``, ``UnsupportedIntent`` or ``InvalidInput`` before
    anything is written: the payload must fit the intent's schema, and pass the intent's
    pre-run checks (``Agent.preflight``: a private URL, a platform without a usable
    connector), so a run exists only when it can succeed.  A repeated idempotency key skips
    the checks and answers the first run, as it did then.

    A run the organization's approval settings hold (``agents.approvals``) is created
    ``awaiting_approval`` with its preview and is not enqueued until a person approves it.
    """
    impl = get_agent(agent)
    data = impl.validate(intent, payload)
    replay = (
        idempotency_key is not None
        and AgentRun.objects.filter(
            organization=organization, idempotency_key=idempotency_key
        ).exists()
    )
    if not replay:
        impl.preflight(intent, data, organization=organization)
    hold = approvals.approval_hold(
        organization=organization,
        agent=impl,
        intent=intent,
        data=data,
        trigger=trigger,
        parent=parent,
    )
    if hold is not None:
        extra["status"] = RunStatus.AWAITING_APPROVAL
    # With the ORM broker the run and its task commit together.  Otherwise the run's INSERT is
    # one statement (its own commit, unless the caller holds a transaction) and the task is
    # sent once it is committed.  A held run and its approval are written together.
    atomic = hold is not None or core_queue.enqueue_in_transaction()
    with transaction.atomic() if atomic else nullcontext():
        run, created = run_services.run_create(
            organization=organization,
            agent=impl.slug,
            intent=intent,
            payload=payload,
            trigger=trigger,
            max_attempts=impl.max_attempts,
            created_by=created_by,
            idempotency_key=idempotency_key,
            parent=parent,
            batch_id=batch_id,
            schedule_id=schedule_id,
            delivery_id=delivery_id,
            **extra,
        )
        if created and hold is not None:
            run_services.run_approval_create(
                run=run, reasons=hold.reasons, preview=hold.preview, expires_at=hold.expires_at
            )
        elif created:
            # Fair admission: a run due now whose organization has its share in flight is
            # parked in the organization's lane (agents.admission); every other run is queued.
            if extra.get("next_attempt_at") is not None or admission.admit(organization.pk):
                queue.enqueue_run(run.id)
            else:
                queue.enqueue_run_parked(
                    run.id,
                    organization_id=organization.pk,
                    turn=settings.NEONHUB_ORG_MAX_IN_FLIGHT,
                )
    return run, created


# Failures that may pass on a second try with the same input: the provider was busy or down,
# the run took too long, its worker died, or something unexpected broke inside NeonHub.
TRANSIENT_CODES = frozenset(
    {"CONNECTOR_RATE_LIMITED", "CONNECTOR_UNAVAILABLE", "TIMEOUT", "WORKER_LOST", "INTERNAL"}
)
# Failures a repaired connector (reconnected, tested OK, edited or added since) can fix.
CONNECTOR_CODES = frozenset({"CONNECTOR_AUTH", "CONNECTOR_MISSING", "CONNECTOR_REJECTED"})
EDIT_INSTEAD = "Use Edit and run again to change the input and start a new run."


@dataclass(frozen=True)
class RetryVerdict:
    """Whether a Retry (the same input, the same lineage) can fix this run, and why not."""

    ok: bool
    reason: str = ""


def run_retry_verdict(*, run: AgentRun) -> RetryVerdict:
    """A Retry sends the same input again, so it is offered only when that can succeed now.

    A cancelled run can always be continued.  A failed one can when its error was transient
    (``TRANSIENT_CODES``, the error taxonomy's ``transient`` errors and an unexpected one), or
    when its error was the connector's and a connector of that provider has been repaired since
    the run failed (tested OK, or edited, or added).  Anything else would fail the same way:
    the verdict says why and points to Edit and run again.
    """
    if run.status == RunStatus.CANCELLED and run.error_code == "REJECTED":
        return RetryVerdict(
            False,
            "A person rejected it; a retry would ask for approval of the same again. "
            + EDIT_INSTEAD,
        )
    if run.status == RunStatus.CANCELLED:
        return RetryVerdict(True)
    if run.status != RunStatus.FAILED:
        return RetryVerdict(
            False, f"Only failed or cancelled runs can be retried; this one is {run.status}."
        )
    code = run.error_code or "INTERNAL"
    if code in TRANSIENT_CODES:
        return RetryVerdict(True)
    if code in CONNECTOR_CODES:
        return _connector_verdict(run, code)
    if code == "POLICY_BLOCKED":
        reason = "It was blocked by a sending rule (an opt-out, consent or a cap); a retry would be blocked again."
    elif code == "INVALID_INPUT":
        reason = "Its input was refused; a retry sends the same input and would be refused again."
    else:
        reason = f"It failed with {code}, which a retry with the same input would not fix."
    return RetryVerdict(False, f"{reason} {EDIT_INSTEAD}")


def _connector_verdict(run: AgentRun, code: str) -> RetryVerdict:
    context = run.error_context if isinstance(run.error_context, dict) else {}
    provider = str(context.get("provider") or "")
    failed_at = run.finished_at or run.updated_at
    if provider and failed_at is not None:
        repaired = (
            Connector.objects.filter(
                organization_id=run.organization_id, provider=provider, enabled=True
            )
            .exclude(health__in=(Health.NEEDS_RECONNECT, Health.DISABLED))
            .filter(Q(last_tested_at__gt=failed_at) | Q(updated_at__gt=failed_at))
        )
        if repaired.exists():
            return RetryVerdict(True)
    which = f"the {provider_label(provider)} connector" if provider else "its connector"
    fix = {
        "CONNECTOR_MISSING": f"add {which.replace('the ', 'a ', 1)} under Connectors",
        "CONNECTOR_AUTH": f"reconnect {which} and test it",
        "CONNECTOR_REJECTED": f"fix {which} (or the input) and test it",
    }[code]
    return RetryVerdict(
        False,
        f"It failed because of {which} ({code}), and nothing has changed since: {fix}, "
        f"then Retry. {EDIT_INSTEAD}",
    )


def run_retry(*, run: AgentRun, created_by=None) -> AgentRun:
    """A person's retry: a new run with the same request, continuing the old one's lineage.

    Its side effects are keyed by the lineage's first run, so what the runs before it
    delivered is answered from the outbox and not sent again; what failed is tried again.
    Refused (``Conflict``, with the reason) when a retry could not fix the failure
    (``run_retry_verdict``).
    """
    verdict = run_retry_verdict(run=run)
    if not verdict.ok:
        raise Conflict(verdict.reason)
    new_run, _ = run_start(
        organization=run.organization,
        agent=run.agent,
        intent=run.intent,
        payload=run.input,
        trigger=Trigger.RETRY,
        created_by=created_by,
        parent=run,
        lineage_id=run.lineage_id,
        campaign_id=run.campaign_id,
    )
    return new_run


def run_rerun(
    *,
    run: AgentRun,
    payload: dict,
    trigger: str,
    created_by=None,
    idempotency_key: str | None = None,
) -> tuple[AgentRun, bool]:
    """Run again with new input: a new run of the same agent and intent in a new lineage.

    Unlike a Retry nothing is answered from the runs before it (every side effect is carried
    out again, for the new input), so it is a separate, explicit action.  ``parent`` links the
    new run to the one it came from.  Returns ``(run, created)`` like ``run_start``.
    """
    if not run.is_terminal:
        raise Conflict(f"The run is still {run.status}; run it again once it has finished")
    return run_start(
        organization=run.organization,
        agent=run.agent,
        intent=run.intent,
        payload=payload,
        trigger=trigger,
        created_by=created_by,
        idempotency_key=idempotency_key,
        parent=run,
        campaign_id=run.campaign_id,
    )


def run_cancel(*, run: AgentRun) -> AgentRun:
    """A queued run, or one awaiting approval, is cancelled at once; a running one at its next
    step."""
    if run.is_terminal:
        raise Conflict(f"The run is already {run.status}")
    return run_services.run_request_cancel(run=run)


def _awaiting(run: AgentRun) -> RunApproval:
    """The run's pending approval; 409 when it is not awaiting one, or it expired (then the run
    is cancelled now rather than at the watchdog's next round)."""
    run.refresh_from_db()
    approval = RunApproval.objects.filter(run_id=run.pk).first()
    if run.status != RunStatus.AWAITING_APPROVAL or approval is None:
        raise Conflict(f"The run is not awaiting approval; it is {run.status}")
    if approval.expires_at <= timezone.now():
        run_services.run_approval_expire(run=run)
        raise Conflict("The run's approval expired; it was cancelled and nothing was sent")
    return approval


def run_approve(
    *,
    run: AgentRun,
    user=None,
    by_name: str = "",
    note: str = "",
    payload: dict | None = None,
    principal: Principal | None = None,
    request: HttpRequest | None = None,
) -> AgentRun:
    """A person approves a held run: it is queued and a worker carries it out.

    With ``payload`` the approver edited the input first: it is validated again (422), the
    preview is computed again from it, and the original input is kept on the approval.
    Raises ``Conflict`` when the run is not (or no longer) awaiting approval.
    """
    _awaiting(run)
    preview = None
    if payload is not None and payload == run.input:
        payload = None  # nothing was changed
    if payload is not None:
        impl = get_agent(run.agent)
        data = impl.validate(run.intent, payload)
        preview = approvals.preview_of(
            organization=run.organization, agent=impl, intent=run.intent, data=data
        )
    with transaction.atomic() if core_queue.enqueue_in_transaction() else nullcontext():
        approved = run_services.run_approval_approve(
            run=run, user=user, by_name=by_name, note=note, payload=payload, preview=preview
        )
        if not approved:
            raise Conflict("Someone else decided on this run first")
        _audit_decision(run, "run.approve", note, principal, request, edited=payload is not None)
        queue.enqueue_run(run.id)
    return run


def _audit_decision(run, action, note, principal, request, *, edited: bool = False) -> None:
    changes = {"note": note} if note else {}
    if edited:
        changes["input"] = "edited before approval"
    audit.audit_record(
        action=action,
        principal=principal,
        organization=run.organization,
        target=run,
        target_label=f"{run.agent}/{run.intent} run {str(run.pk)[:8]}",
        changes=changes,
        request=request,
    )


def run_reject(
    *,
    run: AgentRun,
    note: str,
    user=None,
    by_name: str = "",
    principal: Principal | None = None,
    request: HttpRequest | None = None,
) -> AgentRun:
    """A person rejects a held run with a note saying why: it is cancelled, nothing is sent."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput.for_field(
            "note", "say why the run is rejected", summary="A rejection needs a note"
        )
    _awaiting(run)
    with transaction.atomic():
        if not run_services.run_approval_reject(run=run, note=note, user=user, by_name=by_name):
            raise Conflict("Someone else decided on this run first")
        _audit_decision(run, "run.reject", note, principal, request)
    return run


def runs_expire_approvals(*, now=None) -> int:
    """Cancel the runs whose approval expired (APPROVAL_EXPIRED); the watchdog calls this."""
    now = now or timezone.now()
    due = RunApproval.objects.filter(state=ApprovalState.PENDING, expires_at__lte=now)
    expired = 0
    for run in AgentRun.objects.filter(pk__in=due.values("run_id")[:500]):
        expired += run_services.run_approval_expire(run=run)
    return expired


RESCHEDULE_HORIZON = timedelta(days=365)


def run_reschedule(*, run: AgentRun, at: datetime) -> AgentRun:
    """Move a scheduled run (``AgentRun.is_scheduled``) to ``at`` and enqueue it for then.

    ``Conflict`` if the run is not (or no longer) a scheduled run waiting for its time, e.g. a
    worker has just started it; ``InvalidInput`` naming ``at`` for a naive time, a time that
    has passed or one more than a year ahead.  A ``publishAt`` in the run's input moves with
    it: a scheduled social publish compares it with the clock when it runs, and an old, later
    ``publishAt`` would make it schedule itself again.
    """
    if timezone.is_naive(at):
        raise InvalidInput.for_field("at", "needs a time zone, e.g. 2026-01-31T09:00:00Z")
    now = timezone.now()
    if at <= now:
        raise InvalidInput.for_field("at", "must be in the future")
    if at > now + RESCHEDULE_HORIZON:
        raise InvalidInput.for_field("at", "at most one year ahead")
    if not run.is_scheduled:
        raise Conflict(
            f"Only a scheduled run that has not started can be moved; this one is {_state(run)}"
        )
    payload = run.input
    if isinstance(payload, dict) and "publishAt" in payload:
        payload = {**payload, "publishAt": at.isoformat()}
    else:
        payload = None
    with transaction.atomic():
        if not run_services.run_reschedule(run=run, at=at, input=payload):
            run.refresh_from_db()
            raise Conflict(f"The run can no longer be moved; it is {_state(run)}")
        queue.timed_tasks_drop(run.id)
        queue.enqueue_run_at(run.id, at)
    return run


def _state(run: AgentRun) -> str:
    if run.status == RunStatus.QUEUED and run.attempt:
        return "waiting to retry"
    if run.status == RunStatus.QUEUED:
        return "queued to start now"
    return str(run.status)


def runs_recover(*, now=None) -> dict:
    """The watchdog: no run stays ``running`` without a heartbeat, no queued run is forgotten.

    A run whose heartbeat is older than ``NEONHUB_RUN_HEARTBEAT_TIMEOUT`` lost its worker:
    it is queued again while it has attempts left, otherwise failed with WORKER_LOST.  A
    queued run that is due but was not picked up (its task was lost with a broker) is
    enqueued again; the claim makes duplicates harmless.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT)
    requeued = failed = 0
    stale = AgentRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=stale_before)
    for run in stale.only("id", "attempt", "max_attempts", "agent", "intent", "started_at")[:500]:
        context = {
            "agent": run.agent,
            "intent": run.intent,
            "attempt": run.attempt,
            "reason": "no heartbeat since the worker took the run",
        }
        message = "The worker running this run stopped responding"
        run_services.run_steps_abandon(run=run, reason=message)
        if run.attempt < run.max_attempts:
            if run_services.run_requeue(
                run=run, code="WORKER_LOST", message=message, context=context, delay=0
            ):
                queue.enqueue_run(run.id)
                requeued += 1
        elif run_services.run_fail(run=run, code="WORKER_LOST", message=message, context=context):
            failed += 1
    forgotten_before = now - timedelta(seconds=settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT)
    forgotten = AgentRun.objects.filter(status=RunStatus.QUEUED).exclude(
        next_attempt_at__gt=forgotten_before
    )
    forgotten = forgotten.filter(queued_at__lt=forgotten_before, updated_at__lt=forgotten_before)
    # Runs parked in their organization's lane wait for its turn, which is recovered here.
    parked = lanes.lanes_recover(
        size=settings.NEONHUB_ORG_MAX_IN_FLIGHT or 500,  # limit off: the lanes empty quickly
        stale_after=settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT,
    )
    if parked:
        forgotten = forgotten.exclude(organization_id__in=list(parked))
    redelivered = 0
    for run_id in forgotten.values_list("id", flat=True)[:500]:
        AgentRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(updated_at=now)
        queue.enqueue_run(run_id)
        redelivered += 1
    # Runs awaiting approval are neither claimed nor recovered here; only their expiry is.
    expired = runs_expire_approvals(now=now)
    if requeued or failed or redelivered or expired:
        logger.warning(
            "watchdog: requeued=%s failed=%s redelivered=%s approvals_expired=%s",
            requeued,
            failed,
            redelivered,
            expired,
        )
    return {
        "requeued": requeued,
        "failed": failed,
        "redelivered": redelivered,
        "approvals_expired": expired,
    }


# --- approval settings and drafts ---------------------------------------------------------------


def approval_settings_save(
    *,
    organization: Organization,
    values: dict,
    principal: Principal | None = None,
    request: HttpRequest | None = None,
) -> approvals.ApprovalSettings:
    """Replace the organization's approval settings; bad values raise ``InvalidInput``.

    Runs already waiting keep their deadline; the new settings apply to runs started after.
    """
    parsed = approvals.settings_parse(values)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        before = (org.settings or {}).get(approvals.SETTINGS_KEY) or {}
        org.settings = {**(org.settings or {}), approvals.SETTINGS_KEY: parsed.model_dump()}
        org.save(update_fields=["settings", "updated_at"])
        audit.audit_record(
            action="settings.approvals",
            principal=principal,
            organization=org,
            target_label="Approval settings",
            changes=audit.changes_between(before, parsed.model_dump()),
            request=request,
        )
    organization.settings = org.settings
    return parsed


def draft_update(*, draft: ContentDraft, **fields) -> ContentDraft:
    """Change a draft's title, body, keyword or status (``DRAFT_FIELDS``)."""
    unknown = set(fields) - DRAFT_FIELDS
    if unknown:
        raise InvalidInput.for_field(sorted(unknown)[0], "cannot be changed here")
    if "status" in fields and fields["status"] not in DraftStatus.values:
        raise InvalidInput.for_field("status", f"one of {', '.join(DraftStatus.values)}")
    for key, value in fields.items():
        setattr(draft, key, value)
    try:
        draft.full_clean(exclude=["organization", "brand", "created_by"])
    except ValidationError as exc:
        details = [
            {"field": name, "message": " ".join(messages)}
            for name, messages in exc.message_dict.items()
        ]
        raise InvalidInput(details[0]["message"], details=details) from None
    draft.save(update_fields=[*fields, "updated_at"])
    return draft


def draft_approve(*, draft: ContentDraft) -> ContentDraft:
    if draft.status in (DraftStatus.PUBLISHED, DraftStatus.ARCHIVED):
        raise Conflict(f"The draft is {draft.status}; only a draft not yet published is approved")
    return draft_update(draft=draft, status=DraftStatus.APPROVED)


# --- brands and the knowledge base (the settings pages) -----------------------------------------

BRAND_FIELDS = (
    "name",
    "slug",
    "description",
    "tone",
    "slogan",
    "website",
    "vocabulary",
    "do_examples",
    "dont_examples",
)
ARTICLE_FIELDS = ("title", "body", "tags", "active")


def _snapshot(row, names) -> dict:
    return {name: getattr(row, name) for name in names}


def _clean(row, *, exclude: list[str]) -> None:
    try:
        row.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        details = [
            {"field": name, "message": " ".join(messages)}
            for name, messages in exc.message_dict.items()
        ]
        raise InvalidInput(details[0]["message"], details=details) from None


def _brand_slug(organization: Organization, brand: Brand, wanted: str) -> str:
    taken = Brand.objects.filter(organization=organization).exclude(pk=brand.pk)
    if wanted:
        if taken.filter(slug=wanted).exists():
            raise InvalidInput.for_field("slug", "another brand of this organization uses it")
        return wanted
    base = slugify(brand.name)[:56] or "brand"
    slug, n = base, 1
    while taken.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _assign(row, fields: dict, allowed) -> dict:
    """Set ``fields`` (only those in ``allowed``: another is a 422 naming it) on ``row``;
    answers what ``allowed`` held before, for the audit log ({} for a new row)."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise InvalidInput.for_field(sorted(unknown)[0], "cannot be changed here")
    before = _snapshot(row, allowed) if row.pk else {}
    for name, value in fields.items():
        setattr(row, name, value)
    return before


def _brand_save(*, principal, brand: Brand, fields: dict, action: str, request=None) -> Brand:
    before = _assign(brand, fields, BRAND_FIELDS)
    with transaction.atomic():
        wanted = fields["slug"] if "slug" in fields else brand.slug
        brand.slug = _brand_slug(principal.organization, brand, (wanted or "").strip())
        _clean(brand, exclude=["organization"])
        brand.save()
        audit.audit_record(
            action=action,
            principal=principal,
            target=brand,
            changes=audit.changes_between(before, _snapshot(brand, BRAND_FIELDS)),
            request=request,
        )
    return brand


def brand_create(*, principal, fields: dict, request=None) -> Brand:
    """A new brand of the principal's organization; a blank slug is made from the name."""
    brand = Brand(organization=principal.organization)
    return _brand_save(
        principal=principal, brand=brand, fields=fields, action="brand.create", request=request
    )


def brand_update(*, principal, brand: Brand, fields: dict, request=None) -> Brand:
    return _brand_save(
        principal=principal, brand=brand, fields=fields, action="brand.update", request=request
    )


def brand_delete(*, principal, brand: Brand, request=None) -> None:
    """Delete a brand; its drafts keep their text and lose the brand (``SET_NULL``)."""
    with transaction.atomic():
        audit.audit_record(
            action="brand.delete",
            principal=principal,
            target=brand,
            changes=audit.changes_between(_snapshot(brand, BRAND_FIELDS), {}),
            request=request,
        )
        brand.delete()


def knowledge_article_create(*, principal, fields: dict, request=None) -> KnowledgeArticle:
    """A new article; the support agent ranks it from its next message on (if active)."""
    article = KnowledgeArticle(organization=principal.organization)
    return _article_save(
        principal=principal,
        article=article,
        fields=fields,
        action="knowledge.create",
        request=request,
    )


def knowledge_article_update(
    *, principal, article: KnowledgeArticle, fields: dict, request=None
) -> KnowledgeArticle:
    return _article_save(
        principal=principal,
        article=article,
        fields=fields,
        action="knowledge.update",
        request=request,
    )


def _article_save(
    *, principal, article: KnowledgeArticle, fields: dict, action: str, request=None
) -> KnowledgeArticle:
    before = _assign(article, fields, ARTICLE_FIELDS)
    _clean(article, exclude=["organization"])
    with transaction.atomic():
        article.save()
        audit.audit_record(
            action=action,
            principal=principal,
            target=article,
            changes=audit.changes_between(before, _snapshot(article, ARTICLE_FIELDS)),
            request=request,
        )
    return article


def knowledge_article_delete(*, principal, article: KnowledgeArticle, request=None) -> None:
    with transaction.atomic():
        audit.audit_record(
            action="knowledge.delete",
            principal=principal,
            target=article,
            changes=audit.changes_between(_snapshot(article, ARTICLE_FIELDS), {}),
            request=request,
        )
        article.delete()


def organization_update(*, principal, name: str, timezone_name: str, request=None) -> Organization:
    """Rename the principal's organization or change its timezone (quiet hours, schedules and
    the calendar read it from their next use); audited as ``organization.update``.

    It lives here, not in the kernel's services, because the audit log's principal type
    (``neonhub.core.auth``) already imports the kernel's services."""
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=principal.organization.pk)
        before = {"name": org.name, "timezone": org.timezone}
        org.name, org.timezone = name.strip(), timezone_name
        _clean(org, exclude=["slug", "settings"])
        org.save(update_fields=["name", "timezone", "updated_at"])
        audit.audit_record(
            action="organization.update",
            principal=principal,
            organization=org,
            target=org,
            changes=audit.changes_between(before, {"name": org.name, "timezone": org.timezone}),
            request=request,
        )
    principal.organization.name, principal.organization.timezone = org.name, org.timezone
    return org

"""Running a connector's actions: validation, budgets, the outbox, sandbox mode and health.

A ``ConnectorSession`` keeps one provider instance for as long as it is open (a run's
handle keeps it for the whole run, so SMTP reuses one connection across a batch of sends),
and ``close()`` releases it.  ``connectors.services.connector_execute`` is a one-call session.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from pydantic import BaseModel, ValidationError

from connectors.base import Action, CallResult, Provider
from connectors.budgets import Receipt, budget_consume, budget_refund
from connectors.hooks import token_renew
from connectors.models import Connector, Health, OutboundMessage, OutboxStatus
from connectors.registry import get_provider_class
from connectors.runtime import connector_mark, connector_persist, provider_build
from connectors.secrets import ScrubbingRecorder, scrub, scrub_error, secrets_of
from connectors.suppressions import suppression_add
from neonhub.core import logcontext, metrics, sql
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    NeonHubError,
    OutcomeUnknown,
)
from neonhub.core.recording import Recorder

logger = logging.getLogger(__name__)

# last_used_at is kept to the minute: a write per call would double the cost of fast calls.
LAST_USED_RESOLUTION = timedelta(seconds=60)
OUTBOX_RESPONSE_LIMIT = 16_384
DELIVERED_STATUSES = frozenset({"delivered", "read"})
FAILED_STATUSES = frozenset({"failed", "undelivered", "canceled", "cancelled"})


def action_get(provider_cls: type[Provider], name: str) -> Action:
    act = provider_cls.actions.get(name)
    if act is None:
        known = ", ".join(sorted(provider_cls.actions))
        raise InvalidInput.for_field(
            "action",
            f"unknown action, expected one of: {known}",
            summary=f"{provider_cls.label} has no action {name!r}; it has {known}",
        )
    return act


def action_input(act: Action, input: Any) -> BaseModel:
    """The action's input, validated; errors name ``input.<field>``."""
    if not isinstance(input, dict):
        raise InvalidInput.for_field(
            "input", "must be an object", summary="input must be a JSON object"
        )
    try:
        return act.schema.model_validate(input)
    except ValidationError as exc:
        details = [
            {"field": ".".join(["input", *map(str, err["loc"])]), "message": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        raise InvalidInput(f"Invalid input for {act.name}: {summary}", details=details) from None


def derived_key(*, run_id, action: str, input: dict) -> str:
    """The idempotency key of a side effect the caller did not key: its run, action and input."""
    if run_id is None:
        return f"once:{uuid.uuid4()}"  # outside a run there is nothing to repeat
    digest = hashlib.sha256(json.dumps(input, sort_keys=True, default=str).encode()).hexdigest()[
        :32
    ]
    return f"{run_id}:{action}:{digest}"


class ConnectorSession:
    """One connector ready for calls, with one provider instance built on first use."""

    def __init__(self, *, connector: Connector, recorder: Recorder):
        self.connector = connector
        self.recorder = recorder
        self.provider_cls = get_provider_class(connector.provider)
        self._provider: Provider | None = None
        self._secrets: list[str] = []

    @property
    def provider(self) -> Provider:
        if self._provider is None:
            self._provider = provider_build(connector=self.connector, recorder=self.recorder)
            # Kept with those of an earlier instance (a token renewed after a refusal): an
            # answer may still quote the refused one.
            self._secrets = sorted(
                {*self._secrets, *secrets_of(self._provider)}, key=len, reverse=True
            )
            # Logs and error reports of this context hide these values too.
            logcontext.secrets_add(self._secrets)
            self._provider.recorder = ScrubbingRecorder(self.recorder, self._secrets)
        return self._provider

    def close(self) -> None:
        if self._provider is not None:
            try:
                self._provider.close()
            except Exception:  # closing must not turn a finished run into a failed one
                logger.warning(
                    "closing the %s provider failed", self.connector.provider, exc_info=True
                )
            self._provider = None

    # --- the one entry point --------------------------------------------------------------

    def execute(
        self,
        *,
        action: str,
        input: dict,
        idempotency_key: str | None = None,
        run_id=None,
        contact_id=None,
        purpose: str = "",
    ) -> CallResult:
        """Run ``action`` with ``input`` and answer its ``CallResult``.

        Raises ``InvalidInput`` (naming ``action`` or ``input.<field>``) before anything
        else; a refused connector (switched off, needing reconnection, disabled) raises
        without calling out.  Side effects go through the outbox keyed by
        ``idempotency_key`` (derived from the run, action and input when not given).
        """
        act = action_get(self.provider_cls, action)
        # Counted once the action is known to be the provider's (bounded labels); outcomes are
        # counted in memory, no query.
        mode = "sandbox" if self.connector.is_sandbox else "live"
        started = time.perf_counter()
        code = ""
        try:
            return self._execute(
                act,
                input,
                idempotency_key=idempotency_key,
                run_id=run_id,
                contact_id=contact_id,
                purpose=purpose,
            )
        except NeonHubError as exc:
            code = exc.code
            raise
        except BaseException:
            code = "INTERNAL"
            raise
        finally:
            metrics.connector_request(
                provider=self.connector.provider,
                action=act.name,
                mode=mode,
                error_code=code,
                seconds=time.perf_counter() - started,
            )

    def _execute(
        self,
        act: Action,
        input: dict,
        *,
        idempotency_key: str | None,
        run_id,
        contact_id,
        purpose: str,
    ) -> CallResult:
        action = act.name
        data = action_input(act, input)
        self._check_usable()
        if act.side_effect:
            key = idempotency_key or derived_key(run_id=run_id, action=action, input=input)
            return self._side_effect(
                act, data, key=key, run_id=run_id, contact_id=contact_id, purpose=purpose
            )
        if self.connector.is_sandbox:
            return self._sandbox(act, data)
        receipt = self._spend(act, data)
        try:
            return self._live(act, data)
        except ConnectorError as exc:
            self._refund(receipt, exc)
            raise

    def _check_usable(self) -> None:
        c = self.connector
        if not c.enabled:
            raise ConnectorRejected(
                f"The connector {c.name!r} is switched off", provider=c.provider
            )
        if c.is_sandbox:
            return
        if c.health == Health.NEEDS_RECONNECT:
            raise ConnectorAuth(
                f"The connector {c.name!r} needs reconnecting: {c.last_error}", provider=c.provider
            )
        if c.health == Health.DISABLED:
            raise ConnectorRejected(
                f"The connector {c.name!r} is disabled: {c.last_error}", provider=c.provider
            )

    def _spend(self, act: Action, data: BaseModel) -> Receipt | None:
        try:
            return budget_consume(
                connector=self.connector,
                budgets=self.provider_cls.budgets,
                action=act.name,
                data=data,
            )
        except ConnectorRateLimited as exc:
            connector_mark(connector=self.connector, health=Health.RATE_LIMITED, error=exc.message)
            raise

    # --- live and sandbox calls -----------------------------------------------------------

    def _live(self, act: Action, data: BaseModel, *, renewed: bool = False) -> CallResult:
        provider = self.provider
        try:
            result = provider.run_action(act.name, data)
        except ConnectorError as exc:
            self._persist()
            # The provider refused the token (the request was not carried out, so asking again
            # is safe): an OAuth-connected connector renews it once and tries once more.
            if isinstance(exc, ConnectorAuth) and not renewed and self._renew():
                return self._live(act, data, renewed=True)
            self._failed(exc)
            raise
        except BaseException:
            self._persist()
            raise
        self._persist()
        self._succeeded()
        return self._clean(result)

    def _renew(self) -> bool:
        if not token_renew(self.connector):
            return False
        self.connector.refresh_from_db(
            fields=["credentials", "credentials_masks", "token_expires_at", "health", "state"]
        )
        self.close()  # the next call builds the provider again, with the new token
        return True

    def _sandbox(self, act: Action, data: BaseModel) -> CallResult:
        slug = self.connector.provider
        with self.recorder.step(
            f"{slug}.{act.name}", kind="call", provider=slug, action=act.name
        ) as rec:
            rec.detail = {"sandbox": True}
            try:
                result = self.provider.sandbox(act.name, data)
            except NotImplementedError:
                raise ConnectorRejected(
                    f"{self.provider_cls.label} has no sandbox answer for {act.name}",
                    provider=slug,
                    action=act.name,
                ) from None
            # Nothing was spent: the would-be cost is shown as such, never counted as spent
            # (the step's cost, the run's, the outbox row's and the answer's are 0).
            result = _sandboxed(result)
            rec.detail["would_cost"] = str(result.would_cost)
        self._succeeded()
        return self._clean(result)

    def _clean(self, result: CallResult) -> CallResult:
        """A provider's answer never hands a secret back (it would land in the run's output)."""
        if self._secrets:
            result.output = scrub(result.output, self._secrets)
        return result

    def _persist(self) -> None:
        if self._provider is None:
            return
        self._secrets[:] = sorted(
            {*self._secrets, *secrets_of(self._provider)}, key=len, reverse=True
        )
        logcontext.secrets_add(self._secrets)
        connector_persist(connector=self.connector, provider=self._provider)

    def _succeeded(self) -> None:
        now = timezone.now()
        fields: dict[str, Any] = {}
        used = self.connector.last_used_at
        if used is None or now - used >= LAST_USED_RESOLUTION:
            fields["last_used_at"] = now
        # A call that went through heals a rate limit and settles a connector never tested.
        if self.connector.health in (Health.RATE_LIMITED, Health.UNTESTED):
            fields["health"] = Health.HEALTHY
        connector_mark(connector=self.connector, **fields)

    def _failed(self, exc: ConnectorError) -> None:
        """Classified failures mark the connector; a provider error may suppress an address."""
        scrub_error(exc, self._secrets)
        exc.provider = exc.provider or self.connector.provider
        health = None
        if isinstance(exc, ConnectorAuth):
            health = Health.NEEDS_RECONNECT
        elif isinstance(exc, ConnectorRateLimited):
            health = Health.RATE_LIMITED
        elif isinstance(exc, ConnectorRejected) and exc.context.get("disable"):
            health = Health.DISABLED
        connector_mark(connector=self.connector, health=health, error=exc.message)
        suppress = exc.context.get("suppress")
        if isinstance(suppress, dict) and suppress.get("address"):
            self._suppress(suppress, exc)

    def _suppress(self, suppress: dict, exc: ConnectorError) -> None:

        try:
            suppression_add(
                organization=self.connector.organization,
                channel=str(suppress.get("channel", "")),
                address=str(suppress["address"]),
                reason=exc.message,
                source="provider_error",
            )
        except InvalidInput:
            logger.warning(
                "provider %s asked to suppress an address that is not valid",
                self.connector.provider,
            )

    # --- side effects through the outbox ---------------------------------------------------

    def _side_effect(
        self, act: Action, data: BaseModel, *, key: str, run_id, contact_id, purpose: str = ""
    ) -> CallResult:
        row, replay, receipt = self._begin(
            act, data, key=key, run_id=run_id, contact_id=contact_id, purpose=purpose
        )
        if replay is not None:
            return replay
        try:
            result = (
                self._sandbox(act, data) if self.connector.is_sandbox else self._live(act, data)
            )
        except ConnectorError as exc:
            self._outbox_failed(row, exc)
            self._refund(receipt, exc)
            raise
        except NeonHubError as exc:
            # Refused by our own checks (input, policy, cancellation) before anything left.
            self._outbox_update(
                row, status=OutboxStatus.FAILED, error_code=exc.code, error=exc.message[:200]
            )
            raise
        except BaseException as exc:
            # Something broke after the request may have left: never assume it did not.
            self._outbox_update(
                row,
                status=OutboxStatus.UNKNOWN,
                error_code="INTERNAL",
                error=f"Interrupted by {type(exc).__name__}",
            )
            raise
        self._outbox_sent(row, result)
        return result

    def _begin(
        self, act: Action, data: BaseModel, *, key: str, run_id, contact_id, purpose: str = ""
    ) -> tuple[OutboundMessage | None, CallResult | None, Receipt | None]:
        """The outbox row this attempt owns (and what it spent), or the stored result of an earlier one."""
        row = receipt = None
        if not self.connector.is_sandbox and self._budgeted(act):
            row = self._existing(key)  # a replay must not spend budget, so look before spending
            replay = self._replay(row) if row is not None else None
            if replay is not None:
                return None, replay, None
            receipt = self._spend(act, data)
        if row is None:
            row = self._insert(
                act, data, key=key, run_id=run_id, contact_id=contact_id, purpose=purpose
            )
            if row is not None:  # the common case: one INSERT
                return row, None, receipt
            row = self._existing(key)  # the key was used before
            replay = self._replay(row) if row is not None else None
            if replay is not None:
                return None, replay, None
        try:
            return self._reclaim(row, act, run_id=run_id), None, receipt
        except ConnectorError as exc:  # another attempt has it: this one sends nothing
            self._refund(receipt, exc)
            raise

    @staticmethod
    def _refund(receipt: Receipt | None, exc: ConnectorError) -> None:
        """A call that surely did not happen gives back what budgets counting successes charged."""
        if receipt is not None and not isinstance(exc, OutcomeUnknown):
            budget_refund(receipt)

    def _budgeted(self, act: Action) -> bool:
        return any(not b.actions or act.name in b.actions for b in self.provider_cls.budgets)

    def _existing(self, key: str) -> OutboundMessage | None:
        return OutboundMessage.objects.filter(
            organization_id=self.connector.organization_id, idempotency_key=key
        ).first()

    def _replay(self, row: OutboundMessage) -> CallResult | None:
        """A side effect already carried out answers its stored result; an unknown one refuses.

        The answer is recorded as a step naming the run that carried it out, so a run page
        shows "already sent in run X" for what this run did not send again.
        """
        if row.status in (OutboxStatus.SENT, OutboxStatus.DELIVERED):
            with self.recorder.step(
                f"{row.provider}.{row.action}",
                kind="call",
                provider=row.provider,
                action=row.action,
            ) as rec:
                rec.detail = {
                    "outbox": "replayed",
                    "outbox_id": str(row.pk),
                    "target": row.target,
                    "already_sent_in_run": str(row.run_id) if row.run_id else None,
                    "sandbox": row.sandbox,
                }
            return CallResult(
                output=dict(row.response),
                cost=row.cost,
                provider_id=row.provider_id,
                status=row.provider_status or row.status,
                already_sent_in_run=row.run_id,
                would_cost=row.would_cost,
            )
        if row.status == OutboxStatus.PENDING and row.attempted_at is not None:
            # The process died during the call: it may have been sent.
            self._outbox_update(
                row,
                status=OutboxStatus.UNKNOWN,
                error_code="TIMEOUT",
                error="Interrupted during the call; it may have been carried out",
            )
        if row.status == OutboxStatus.UNKNOWN:
            raise OutcomeUnknown(
                f"{row.provider}.{row.action} to {row.target or 'its target'} may already have happened "
                f"(outbox {row.pk}); a person must check with the provider before it is repeated",
                provider=row.provider,
                action=row.action,
                context={"outbox_id": str(row.pk)},
            )
        return None

    def _insert(
        self, act: Action, data: BaseModel, *, key: str, run_id, contact_id, purpose: str = ""
    ) -> OutboundMessage | None:
        """Create the row marked as being attempted, so an interruption is never repeated blindly."""
        try:
            row = OutboundMessage(
                organization_id=self.connector.organization_id,
                connector=self.connector,
                provider=self.connector.provider,
                action=act.name,
                idempotency_key=key,
                run_id=run_id,
                contact_id=contact_id,
                target=self._target(act, data),
                sandbox=self.connector.is_sandbox,
                attempts=1,
                attempted_at=timezone.now(),
                purpose=purpose,
            )
            with _savepoint_if_nested():
                sql.insert([row])
            return row
        except IntegrityError:
            return None

    def _reclaim(self, row: OutboundMessage | None, act: Action, *, run_id=None) -> OutboundMessage:
        """Take a failed row for another attempt, unless another process just did.

        The row then belongs to the run making the attempt (a Retry continuing the lineage of
        the run that failed it): the outbox records the run that carried a side effect out.
        """
        if row is not None and OutboundMessage.objects.filter(
            pk=row.pk, status=row.status, attempts=row.attempts
        ).update(
            run_id=run_id if run_id is not None else row.run_id,
            status=OutboxStatus.PENDING,
            attempts=F("attempts") + 1,
            attempted_at=timezone.now(),
            error="",
            error_code="",
            connector=self.connector,
            sandbox=self.connector.is_sandbox,
        ):
            row.refresh_from_db()
            return row
        raise ConnectorUnavailable(
            "Another attempt is carrying out this side effect right now",
            provider=self.connector.provider,
            action=act.name,
            retry_after=30,
        )

    def _target(self, act: Action, data: BaseModel) -> str:
        try:
            return str(self.provider.outbox_target(act.name, data))[:255]
        except Exception:  # the target is a label for people; it must not stop the send
            return ""

    def _outbox_sent(self, row: OutboundMessage, result: CallResult) -> None:
        provider_status = str(result.status or "")
        status = OutboxStatus.SENT
        if provider_status in DELIVERED_STATUSES:
            status = OutboxStatus.DELIVERED
        elif provider_status in FAILED_STATUSES:
            status = OutboxStatus.FAILED
        # Need not wait for the WAL flush: if a database crash loses it, the row reads as
        # attempted-and-pending, which becomes ``unknown`` and is never sent again.
        self._outbox_update(
            row,
            durable=False,
            status=status,
            provider_id=str(result.provider_id or "")[:255],
            provider_status=provider_status[:64],
            cost=result.cost,
            would_cost=result.would_cost,
            response=self._summary(result.output),
            sent_at=timezone.now(),
        )

    def _outbox_failed(self, row: OutboundMessage, exc: ConnectorError) -> None:
        status = OutboxStatus.UNKNOWN if isinstance(exc, OutcomeUnknown) else OutboxStatus.FAILED
        self._outbox_update(row, status=status, error_code=exc.code, error=exc.message[:200])

    def _summary(self, output: Any) -> dict:
        clean = scrub(output if isinstance(output, dict) else {"output": output}, self._secrets)
        text = json.dumps(clean, default=str)
        if len(text) > OUTBOX_RESPONSE_LIMIT:
            return {"truncated": True, "keys": sorted(clean)[:50]}
        return json.loads(text)

    @staticmethod
    def _outbox_update(row: OutboundMessage, *, durable: bool = True, **fields: Any) -> None:
        sql.update(
            OutboundMessage,
            where={"id": row.pk},
            values={"updated_at": timezone.now(), **fields},
            durable=durable,
        )
        for key, value in fields.items():
            setattr(row, key, value)


def _sandboxed(result: CallResult) -> CallResult:
    """A sandbox answer costs nothing: its price moves to ``would_cost``, in the answer's
    output too (a provider's sandbox output states the price it would have charged)."""
    would = result.cost if result.would_cost is None else result.would_cost
    output = result.output
    if isinstance(output, dict) and "cost" in output:
        output = {**output, "cost": "0", "would_cost": str(would)}
    result.output, result.cost, result.would_cost = output, Decimal("0"), would
    return result


def _savepoint_if_nested():
    """A savepoint only inside a transaction, so a duplicate key cannot break the caller's.

    In autocommit mode the INSERT is its own transaction: one round trip fewer per send
    than BEGIN/INSERT/COMMIT (measured on PostgreSQL).
    """
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


@contextmanager
def connector_session(*, connector: Connector, recorder: Recorder) -> Iterator[ConnectorSession]:
    """A session closed on exit: ``with connector_session(...) as s: s.execute(...)``."""
    session = ConnectorSession(connector=connector, recorder=recorder)
    try:
        yield session
    finally:
        session.close()

"""The agent catalog, the run operations that need the agents (start, cancel, retry, run again
with new input), and ``POST /connectors/{id}/actions/{action}``, which runs one connector action
as a run.

The action's input is checked before any run is created, so bad input answers 422 and leaves
no record; then the run is started and executed in the request, and the answer carries its
id, status, output and error.

They are added to the runs router (``runs/api.py``, which holds the reads), so that
``/runs`` is one router whatever the method; ``runs`` itself never imports ``agents``.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime
from ninja import Header, Router, Status

from agents import executor, services
from agents.audience import policy
from agents.audience.policy import ComplianceSettings
from agents.campaigns.selectors import campaign_for_field
from agents.mail import services as mail_services
from agents.mail.schemas import EmailTrackingSettings
from agents.registry import all_agents
from agents.schemas import (
    ActionIn,
    ActionRunOut,
    AgentOut,
    ApproveIn,
    RejectIn,
    RerunIn,
    RescheduleIn,
    RunIn,
)
from connectors.execution import action_get, action_input
from connectors.models import Connector
from connectors.registry import get_provider_class
from connectors.selectors import connector_get
from neonhub.core import retention
from neonhub.core.auth import requires
from neonhub.core.errors import InvalidInput
from neonhub.core.retention import RetentionOut, RetentionSettings
from runs.api import router as runs_router
from runs.models import AgentRun, Trigger
from runs.schemas import RunOut
from runs.selectors import run_get

agents_router = Router(tags=["agents"])
# Mounted under /connectors: running an action records a run, so it lives here, not in connectors.
connector_actions_router = Router(tags=["connectors"])


@agents_router.get(
    "", response=list[AgentOut], summary="The agent catalog with each intent's input schema"
)
def agent_list(request: HttpRequest):
    return [
        {
            "slug": agent.slug,
            "name": agent.name,
            "version": agent.version,
            "description": agent.description,
            "intents": [
                {
                    "name": i.name,
                    "description": i.description,
                    "side_effects": i.side_effects,
                    "input_schema": i.json_schema(),
                }
                for i in agent.intents.values()
            ],
        }
        for agent in all_agents()
    ]


@runs_router.post("", response={202: RunOut}, summary="Start a run")
@requires("write")
def run_create(
    request: HttpRequest,
    response: HttpResponse,
    body: RunIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
):
    principal = request.auth
    _check_idempotency_key(idempotency_key)
    campaign = campaign_for_field(organization=principal.organization, campaign_id=body.campaignId)
    run, created = services.run_start(
        organization=principal.organization,
        agent=body.agent,
        intent=body.intent,
        payload=body.payload,
        trigger=Trigger.API if principal.api_key else Trigger.UI,
        created_by=principal.user,
        idempotency_key=idempotency_key,
        campaign_id=campaign.pk if campaign else None,
    )
    if not created:
        response["Idempotent-Replayed"] = "true"
    response["Location"] = f"/api/v1/runs/{run.id}"
    return Status(202, run)


@runs_router.post(
    "/{run_id}/cancel", response={202: RunOut}, summary="Cancel a queued or running run"
)
@requires("write", find=run_get)
def run_cancel(request: HttpRequest, run: AgentRun):
    return Status(202, services.run_cancel(run=run))


@runs_router.post(
    "/{run_id}/reschedule",
    response={200: RunOut},
    summary="Move a scheduled run (scheduled_for set) to another time before it starts",
)
@requires("write", find=run_get)
def run_reschedule(request: HttpRequest, run: AgentRun, body: RescheduleIn):
    return services.run_reschedule(run=run, at=_moment("at", body.at))


def _moment(field: str, value: str | None) -> datetime:
    if not value:
        raise InvalidInput.for_field(field, "required: a time such as 2026-12-08T09:30:00+01:00")
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidInput.for_field(field, "not a time: use ISO 8601, e.g. 2026-12-08T09:30:00Z")
    return moment


@runs_router.post(
    "/{run_id}/retry",
    response={202: RunOut},
    summary="Retry a failed or cancelled run: what it already sent is not sent again",
    description="Answers 409 with the reason when a retry could not fix the failure (the input "
    "was refused, a sending rule blocked it, its connector has not been repaired since).",
)
@requires("write", find=run_get)
def run_retry(request: HttpRequest, run: AgentRun):
    return Status(202, services.run_retry(run=run, created_by=request.auth.user))


@runs_router.post(
    "/{run_id}/rerun",
    response={202: RunOut},
    summary="Run again with new input: a new run in a new lineage, which sends everything again",
)
@requires("write", find=run_get)
def run_rerun(
    request: HttpRequest,
    run: AgentRun,
    response: HttpResponse,
    body: RerunIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
):
    principal = request.auth
    _check_idempotency_key(idempotency_key)
    new_run, created = services.run_rerun(
        run=run,
        payload=body.payload,
        trigger=Trigger.API if principal.api_key else Trigger.UI,
        created_by=principal.user,
        idempotency_key=idempotency_key,
    )
    if not created:
        response["Idempotent-Replayed"] = "true"
    response["Location"] = f"/api/v1/runs/{new_run.id}"
    return Status(202, new_run)


def _decider(request: HttpRequest) -> dict:
    """Who decides an approval: the signed-in person, or the API key by name (and, for the
    audit log, the principal and the request's address)."""
    principal = request.auth
    who = {"principal": principal, "request": request}
    if principal.user is not None:
        return {**who, "user": principal.user}
    return {**who, "by_name": f"API key {principal.api_key.name}" if principal.api_key else ""}


@runs_router.post(
    "/{run_id}/approve",
    response={202: RunOut},
    summary="Approve a run awaiting approval (owners and admins); optionally with edited input",
)
@requires("manage", find=run_get, scope="approvals:write")
def run_approve(request: HttpRequest, run: AgentRun, body: ApproveIn):
    approved = services.run_approve(
        run=run, note=body.note, payload=body.payload, **_decider(request)
    )
    return Status(202, approved)


@runs_router.post(
    "/{run_id}/reject",
    response=RunOut,
    summary="Reject a run awaiting approval with a note (owners and admins); nothing is sent",
)
@requires("manage", find=run_get, scope="approvals:write")
def run_reject(request: HttpRequest, run: AgentRun, body: RejectIn):
    return services.run_reject(run=run, note=body.note, **_decider(request))


def _check_idempotency_key(value: str | None) -> None:
    if value is not None and not (1 <= len(value) <= 255):
        raise InvalidInput.for_field(
            "Idempotency-Key",
            "1 to 255 characters",
            summary="Idempotency-Key must be 1 to 255 characters",
        )


# --- connector actions ------------------------------------------------------------------------

# A worker may claim the run before this request does (the task is enqueued with the run);
# then the request waits for the worker's result this long before answering with the status.
WAIT_FOR_WORKER_SECONDS = 30.0


@connector_actions_router.post(
    "/{connector_id}/actions/{action}",
    response=ActionRunOut,
    summary="Run one connector action now, recorded as a one-step run",
)
@requires("write", find=connector_get)
def connector_action(
    request: HttpRequest,
    connector: Connector,
    response: HttpResponse,
    action: str,
    body: ActionIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
):
    principal = request.auth
    action_input(action_get(get_provider_class(connector.provider), action), body.input)
    _check_idempotency_key(idempotency_key)
    run, created = services.run_start(
        organization=principal.organization,
        agent="connector",
        intent="action",
        payload={"connector_id": str(connector.pk), "action": action, "input": body.input},
        trigger=Trigger.API if principal.api_key else Trigger.UI,
        created_by=principal.user,
        idempotency_key=idempotency_key,
    )
    if created:
        executor.execute_run(run.id)
    else:
        response["Idempotent-Replayed"] = "true"
    run = _finished(run)
    response["Location"] = f"/api/v1/runs/{run.id}"
    error = {"code": run.error_code, "message": run.error_message} if run.error_code else None
    return {"run_id": run.id, "status": run.status, "output": run.output, "error": error}


def _finished(run: AgentRun) -> AgentRun:
    deadline = time.monotonic() + WAIT_FOR_WORKER_SECONDS
    run.refresh_from_db()
    while not run.is_terminal and time.monotonic() < deadline:
        time.sleep(0.1)
        run.refresh_from_db()
    return run


# --- settings -----------------------------------------------------------------------------------

settings_router = Router(tags=["settings"])


@settings_router.get(
    "/compliance",
    response=ComplianceSettings,
    summary="The compliance settings the message gate obeys (everyone in the organization)",
)
def compliance_get(request: HttpRequest):
    return policy.compliance_settings_of(organization=request.auth.organization)


@settings_router.put(
    "/compliance",
    response=ComplianceSettings,
    summary="Replace the compliance settings (owners and admins); bad values are 422 naming the field",
)
@requires("manage")
def compliance_put(request: HttpRequest, body: ComplianceSettings):
    return policy.compliance_settings_save(principal=request.auth, values=body, request=request)


@settings_router.get(
    "/email-tracking",
    response=EmailTrackingSettings,
    summary="What the organization's emails track: opens, clicks, UTM parameters (everyone)",
)
def email_tracking_get(request: HttpRequest):
    return mail_services.tracking_settings_of(organization=request.auth.organization)


@settings_router.put(
    "/email-tracking",
    response=EmailTrackingSettings,
    summary="Replace the email tracking settings (owners and admins); bad values are 422 naming the field",
)
@requires("manage")
def email_tracking_put(request: HttpRequest, body: EmailTrackingSettings):
    return mail_services.tracking_settings_save(
        principal=request.auth, values=body, request=request
    )


@settings_router.get(
    "/retention",
    response=RetentionOut,
    summary="How many days finished runs, steps, outbox rows and webhook deliveries are kept",
)
def retention_get(request: HttpRequest):
    return retention.retention_of(organization=request.auth.organization)


@settings_router.put(
    "/retention",
    response=RetentionOut,
    summary="Set the days kept (7 to 3650; null: the installation's default); owners and admins",
)
@requires("manage")
def retention_put(request: HttpRequest, body: RetentionSettings):
    return retention.retention_save(principal=request.auth, values=body, request=request)

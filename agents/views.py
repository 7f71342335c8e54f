"""Pages that need the agents: start a run from a form, cancel, retry and run again a run.

They live here, not in ``runs/views.py``, because ``runs`` must not import ``agents``.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from agents import services
from agents.forms import IntentForm
from agents.registry import all_agents, get_agent
from connectors.selectors import outbox_for_run
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NeonHubError
from neonhub.core.views_util import organization_required
from runs.models import AgentRun, Trigger
from runs.selectors import run_get


def agent_catalog() -> list[dict]:
    """Agents and their intents, for choosers and filters."""
    return [
        {
            "slug": a.slug,
            "name": a.name,
            "description": a.description,
            "intents": [
                {
                    "name": i.name,
                    "description": i.description,
                    "side_effects": i.side_effects,
                    "value": f"{a.slug}/{i.name}",
                }
                for i in a.intents.values()
            ],
        }
        for a in all_agents()
    ]


def _chosen(task: str):
    """``agent/intent`` from the chooser → (agent, intent); raises the registry's 422 errors."""
    agent_name, _, intent_name = task.partition("/")
    agent = get_agent(agent_name)
    return agent, agent.get_intent(intent_name)


@login_required
@organization_required
@page_requires("write", "look at runs but not start them", methods=("GET", "POST"), reads=("GET",))
def run_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    task = (request.POST.get("task") if request.method == "POST" else request.GET.get("task")) or ""
    context = {"catalog": agent_catalog(), "task": task, "form": None, "task_error": None}
    if not task:
        return render(request, "agents/run_new.html", context)
    try:
        agent, intent = _chosen(task)
    except NeonHubError as exc:
        context["task_error"] = exc.message
        return render(request, "agents/run_new.html", context, status=422)
    form = IntentForm(
        request.POST if request.method == "POST" else None,
        schema=intent.json_schema(),
        prefix="input",
    )
    context.update(form=form, agent=agent, intent=intent)
    if request.method == "GET" or not form.is_valid():
        return render(
            request, "agents/run_new.html", context, status=200 if request.method == "GET" else 422
        )
    try:
        run, _ = services.run_start(
            organization=principal.organization,
            agent=agent.slug,
            intent=intent.name,
            payload=form.payload(),
            trigger=Trigger.UI,
            created_by=request.user,
        )
    except InvalidInput as exc:
        form.add_payload_errors(exc.details)
        return render(request, "agents/run_new.html", context, status=422)
    return redirect("runs:detail", run_id=run.id)


def _run_action(request: HttpRequest, run: AgentRun, *, act) -> HttpResponse:
    try:
        target, message = act(run)
    except NeonHubError as exc:
        messages.error(request, exc.message)
        return redirect("runs:detail", run_id=run.id)
    messages.success(request, message)
    return redirect("runs:detail", run_id=target.id)


def _cancel(run: AgentRun) -> tuple[AgentRun, str]:
    run = services.run_cancel(run=run)
    return (
        run,
        "Run cancelled."
        if run.is_terminal
        else "Cancel requested; the run stops at its next step.",
    )


@login_required
@organization_required
@page_requires("write", "look at runs but not cancel them", find=run_get)
def run_cancel(request: HttpRequest, run: AgentRun) -> HttpResponse:
    return _run_action(request, run, act=_cancel)


@login_required
@organization_required
@page_requires("write", "look at runs but not retry them", find=run_get)
def run_retry(request: HttpRequest, run: AgentRun) -> HttpResponse:
    def retry(run: AgentRun) -> tuple[AgentRun, str]:
        return (
            services.run_retry(run=run, created_by=request.user),
            "Retry started; what the failed run already sent is not sent again.",
        )

    return _run_action(request, run, act=retry)


@login_required
@organization_required
@page_requires(
    "write",
    "look at runs but not run them again",
    find=run_get,
    methods=("GET", "POST"),
    reads=("GET",),
)
def run_rerun(request: HttpRequest, run: AgentRun) -> HttpResponse:
    """Run again with new input: a form prefilled with the run's input; a new lineage."""
    try:
        agent, intent = _chosen(f"{run.agent}/{run.intent}")
    except NeonHubError as exc:  # the agent or intent is no longer registered
        messages.error(request, exc.message)
        return redirect("runs:detail", run_id=run.id)
    form = IntentForm(
        request.POST if request.method == "POST" else None,
        schema=intent.json_schema(),
        prefix="input",
    )
    form.initial_from(run.input if isinstance(run.input, dict) else {})
    context = {"run": run, "agent": agent, "intent": intent, "form": form}
    if request.method == "GET" or not form.is_valid():
        status = 200 if request.method == "GET" else 422
        return render(request, "agents/run_rerun.html", context, status=status)
    try:
        new_run, _ = services.run_rerun(
            run=run, payload=form.payload(), trigger=Trigger.UI, created_by=request.user
        )
    except InvalidInput as exc:
        form.add_payload_errors(exc.details)
        return render(request, "agents/run_rerun.html", context, status=422)
    except NeonHubError as exc:
        messages.error(request, exc.message)
        return redirect("runs:detail", run_id=run.id)
    messages.success(request, "Started again with the new input, as a new lineage.")
    return redirect("runs:detail", run_id=new_run.id)


@login_required
@organization_required
def run_outbox(request: HttpRequest, run_id: UUID) -> HttpResponse:
    """The run's side effects (outbox rows), an htmx fragment of the run page.

    Served here because ``runs`` must not import ``connectors``; it polls while the run is active.
    """
    run = run_get(organization=request.principal.organization, run_id=run_id)
    rows = outbox_for_run(organization=request.principal.organization, run_id=run.id)
    return render(request, "agents/_run_outbox.html", {"run": run, "rows": rows})

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
from agents.fields import MAIN_TEXT, PLAIN_TEXT
from agents.forms import IntentForm, RunCampaignForm
from agents.registry import all_agents, get_agent
from agents.selectors import draft_get, generated_text
from connectors.selectors import outbox_for_run
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NeonHubError, NotFound
from neonhub.core.markup import markdown_text
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


def _intent_form(request: HttpRequest, agent, intent) -> IntentForm:
    return IntentForm(
        request.POST if request.method == "POST" else None,
        schema=intent.json_schema(),
        agent=agent.slug,
        intent=intent.name,
        organization=request.principal.organization,
        prefix="input",
    )


def _uuid_or_404(value: str, what: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFound(f"{what} not found") from None


def _prefill(request: HttpRequest, form: IntentForm, agent, intent) -> str:
    """Fill a new form from ``?duplicate=``, ``?use_output_of=`` or ``?use_draft=``.

    Returns a note for the page ("" when there is nothing to say).  Another organization's
    id, or an unknown one, raises ``NotFound`` (the 404 page).
    """
    org = request.principal.organization
    params = request.GET
    if params.get("duplicate"):
        run = run_get(organization=org, run_id=_uuid_or_404(params["duplicate"], "Run"))
        form.initial_from(run.input if isinstance(run.input, dict) else {})
        return f"A copy of the input of run {run.id}."
    if params.get("use_output_of"):
        run = run_get(organization=org, run_id=_uuid_or_404(params["use_output_of"], "Run"))
        text, title = generated_text(run.output)
        source = f"run {run.id} ({run.agent}/{run.intent})"
    elif params.get("use_draft"):
        draft = draft_get(organization=org, draft_id=_uuid_or_404(params["use_draft"], "Draft"))
        text, title = draft.body, draft.title
        source = f"the draft “{draft.title}”"
    else:
        return ""
    if (agent.slug, intent.name) in PLAIN_TEXT:
        text = markdown_text(text)  # a post or a message shows no Markdown: no "## " in a post
    text_field, title_field = MAIN_TEXT.get((agent.slug, intent.name), (None, None))
    filled = {}
    if text and text_field in form.fields:
        filled[text_field] = text
    if title and title_field in form.fields:
        filled[title_field] = title
    if not filled:
        return f"Nothing from {source} fits this intent's fields; the form is empty."
    form.initial.update(filled)
    names = " and ".join(str(form.fields[name].label) for name in filled)
    return f"{names} filled from {source}."


@login_required
@organization_required
@page_requires("write", "look at runs but not start them", methods=("GET", "POST"), reads=("GET",))
def run_new(request: HttpRequest) -> HttpResponse:
    """Start a run from a form; ``?duplicate=<run>`` prefills it with a run's input (same agent
    and intent), ``?task=…&use_output_of=<run>`` or ``&use_draft=<draft>`` with generated text."""
    principal = request.principal
    task = (request.POST.get("task") if request.method == "POST" else request.GET.get("task")) or ""
    duplicate = request.GET.get("duplicate") if request.method == "GET" else None
    if duplicate and not task:
        source = run_get(organization=principal.organization, run_id=_uuid_or_404(duplicate, "Run"))
        task = f"{source.agent}/{source.intent}"
    carried = {
        key: request.GET[key]
        for key in ("use_output_of", "use_draft", "campaign")
        if request.method == "GET" and request.GET.get(key)
    }
    campaign_form = RunCampaignForm(
        request.POST if request.method == "POST" else None,
        organization=principal.organization,
        initial={"campaign": request.GET.get("campaign") or None},
    )
    context = {
        "catalog": agent_catalog(),
        "task": task,
        "form": None,
        "task_error": None,
        "carried": carried,
        "prefill_note": "",
        "campaign_form": campaign_form,
    }
    if not task:
        return render(request, "agents/run_new.html", context)
    try:
        agent, intent = _chosen(task)
    except NeonHubError as exc:
        context["task_error"] = exc.message
        return render(request, "agents/run_new.html", context, status=422)
    form = _intent_form(request, agent, intent)
    context.update(form=form, agent=agent, intent=intent)
    if request.method == "GET":
        context["prefill_note"] = _prefill(request, form, agent, intent)
        if duplicate and not request.GET.get("campaign"):
            # A copy counts for the same campaign as its original, unless one was chosen.
            source = run_get(
                organization=principal.organization, run_id=_uuid_or_404(duplicate, "Run")
            )
            campaign_form.initial["campaign"] = source.campaign_id
        return render(request, "agents/run_new.html", context)
    if not (form.is_valid() & campaign_form.is_valid()):
        return render(request, "agents/run_new.html", context, status=422)
    campaign = campaign_form.cleaned_data.get("campaign")
    try:
        run, _ = services.run_start(
            organization=principal.organization,
            agent=agent.slug,
            intent=intent.name,
            payload=form.payload(),
            trigger=Trigger.UI,
            created_by=request.user,
            campaign_id=campaign.pk if campaign else None,
        )
    except InvalidInput as exc:
        form.add_payload_errors(exc.details)
        return render(request, "agents/run_new.html", context, status=422)
    except NeonHubError as exc:
        # Anything else that stops a run before it exists (a busy organization, an outside
        # service an intent's preview reads): said above the fields, the input kept.
        form.add_error(None, f"The run could not start: {exc.message}")
        status = exc.status if 400 <= exc.status < 500 else 503
        return render(request, "agents/run_new.html", context, status=status)
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
    """Edit and run again: a form prefilled with the run's input; the new run is a new lineage."""
    try:
        agent, intent = _chosen(f"{run.agent}/{run.intent}")
    except NeonHubError as exc:  # the agent or intent is no longer registered
        messages.error(request, exc.message)
        return redirect("runs:detail", run_id=run.id)
    form = _intent_form(request, agent, intent)
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
    messages.success(request, "Started again with the edited input, as a new lineage.")
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

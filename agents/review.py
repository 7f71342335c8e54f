"""Pages where people review what the agents will send and what they wrote.

Approvals: the inbox of runs awaiting approval, approve (as asked, or after editing the
input), reject with a note, and the organization's approval settings.  Drafts: the list,
one draft rendered, edit, approve, and links that start a publish or an email from it.

Approving, rejecting and changing the settings are for owners and admins; editing and
approving drafts for every role that may write; everyone in the organization may look.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from agents import approvals, services
from agents.forms import IntentForm
from agents.models import ContentDraft, DraftStatus
from agents.registry import all_agents, get_agent
from agents.selectors import approvals_waiting_page, draft_get, draft_page
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NeonHubError
from neonhub.core.views_util import organization_required, page_or_first
from runs.models import AgentRun
from runs.selectors import run_approval, run_get

PAGE_SIZE = 50


# --- forms --------------------------------------------------------------------------------------


class ApprovalSettingsForm(forms.Form):
    social_platforms = forms.MultipleChoiceField(
        required=False,
        choices=list(approvals.SOCIAL_PLATFORMS.items()),
        widget=forms.CheckboxSelectMultiple,
        label="Publishing to",
    )
    email_send = forms.BooleanField(required=False, label="Email sends")
    sms_send = forms.BooleanField(required=False, label="SMS sends")
    whatsapp_send = forms.BooleanField(required=False, label="WhatsApp sends")
    support_reply = forms.BooleanField(required=False, label="Support replies that send")
    recipients_above = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=100_000,
        label="Email and message sends to more than this many recipients",
        help_text="Leave empty for no limit; 0 holds every email and message send.",
    )
    expires_hours = forms.IntegerField(
        min_value=1,
        max_value=720,
        label="Cancel a run nobody approved after (hours)",
        help_text="From 1 hour to 30 days.",
    )

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.disabled = read_only

    def channel_fields(self):
        return [self[name] for name in ("email_send", "sms_send", "whatsapp_send", "support_reply")]


class RejectForm(forms.Form):
    note = forms.CharField(
        max_length=1000,
        label="Why is it rejected?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Say why the run is rejected; the person who started it reads this."
        },
    )


class DraftForm(forms.Form):
    title = forms.CharField(max_length=300)
    body = forms.CharField(
        label="Body (Markdown)", widget=forms.Textarea(attrs={"rows": 18, "class": "code"})
    )
    primary_keyword = forms.CharField(max_length=200, required=False, label="Keyword")
    status = forms.ChoiceField(choices=DraftStatus.choices)


class DraftFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *DraftStatus.choices])


# --- approvals ----------------------------------------------------------------------------------


@login_required
@organization_required
@require_GET
def approvals_inbox(request: HttpRequest) -> HttpResponse:
    page = page_or_first(
        approvals_waiting_page,
        cursor=request.GET.get("cursor"),
        organization=request.principal.organization,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "agents/approvals_inbox.html",
        {"page": page, "paged": bool(request.GET.get("cursor"))},
    )


def _decider(request: HttpRequest) -> dict:
    return {"user": request.user, "principal": request.principal, "request": request}


@login_required
@organization_required
@page_requires("manage", "approve or reject runs", find=run_get)
def run_approve(request: HttpRequest, run: AgentRun) -> HttpResponse:
    note = (request.POST.get("note") or "").strip()[:1000]
    try:
        services.run_approve(run=run, note=note, **_decider(request))
    except NeonHubError as exc:
        messages.error(request, exc.message)
        return redirect("runs:detail", run_id=run.id)
    messages.success(request, "Approved; the run is queued and carries on.")
    return redirect("runs:detail", run_id=run.id)


@login_required
@organization_required
@page_requires("manage", "approve or reject runs", find=run_get, methods=("GET", "POST"), reads=())
def run_reject(request: HttpRequest, run: AgentRun) -> HttpResponse:
    form = RejectForm(request.POST if request.method == "POST" else None)
    context = {"run": run, "approval": run_approval(run=run), "form": form}
    if request.method == "GET" or not form.is_valid():
        status = 200 if request.method == "GET" else 422
        return render(request, "agents/approval_reject.html", context, status=status)
    try:
        services.run_reject(run=run, note=form.cleaned_data["note"], **_decider(request))
    except InvalidInput as exc:
        form.add_error("note", exc.message)
        return render(request, "agents/approval_reject.html", context, status=422)
    except NeonHubError as exc:
        messages.error(request, exc.message)
        return redirect("runs:detail", run_id=run.id)
    messages.success(request, "Rejected; nothing was sent.")
    return redirect("runs:detail", run_id=run.id)


@login_required
@organization_required
@page_requires("manage", "approve or reject runs", find=run_get, methods=("GET", "POST"), reads=())
def run_approve_edit(request: HttpRequest, run: AgentRun) -> HttpResponse:
    """Edit before approving: the run's input in its intent's form; saving approves it."""
    try:
        intent = get_agent(run.agent).get_intent(run.intent)
    except NeonHubError as exc:
        messages.error(request, exc.message)
        return redirect("runs:detail", run_id=run.id)
    form = IntentForm(
        request.POST if request.method == "POST" else None,
        schema=intent.json_schema(),
        agent=run.agent,
        intent=run.intent,
        organization=request.principal.organization,
        prefix="input",
    )
    form.initial_from(run.input if isinstance(run.input, dict) else {})
    note = (request.POST.get("note") or "").strip()[:1000]
    context = {"run": run, "intent": intent, "form": form, "note": note}
    if request.method == "GET" or not form.is_valid():
        status = 200 if request.method == "GET" else 422
        return render(request, "agents/approval_edit.html", context, status=status)
    try:
        services.run_approve(run=run, note=note, payload=form.payload(), **_decider(request))
    except InvalidInput as exc:
        form.add_payload_errors(exc.details)
        return render(request, "agents/approval_edit.html", context, status=422)
    except NeonHubError as exc:
        messages.error(request, exc.message)
        return redirect("runs:detail", run_id=run.id)
    messages.success(request, "Approved with your changes; the run is queued and carries on.")
    return redirect("runs:detail", run_id=run.id)


@login_required
@organization_required
@page_requires(
    "manage",
    "look at the approval settings but not change them",
    methods=("GET", "POST"),
    reads=("GET",),
)
def approval_settings(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    current = approvals.settings_of(principal.organization)
    read_only = not principal.can_manage
    if request.method == "POST":
        form = ApprovalSettingsForm(request.POST, read_only=read_only)
    else:
        form = ApprovalSettingsForm(initial=current.model_dump(), read_only=read_only)
    context = {
        "form": form,
        "read_only": read_only,
        "settings": current,
        "always": approvals.always_held(all_agents()),
    }
    if request.method == "GET" or not form.is_valid():
        status = 200 if request.method == "GET" else 422
        return render(request, "agents/approval_settings.html", context, status=status)
    try:
        services.approval_settings_save(
            organization=principal.organization,
            values=form.cleaned_data,
            principal=principal,
            request=request,
        )
    except InvalidInput as exc:
        for detail in exc.details or []:
            name = detail["field"].split(".")[0]
            form.add_error(name if name in form.fields else None, detail["message"])
        return render(request, "agents/approval_settings.html", context, status=422)
    messages.success(request, "Approval settings saved; they apply to runs started from now on.")
    return redirect("agents:approval-settings")


# --- drafts -------------------------------------------------------------------------------------


@login_required
@organization_required
@require_GET
def draft_list(request: HttpRequest) -> HttpResponse:
    form = DraftFilterForm(request.GET or None)
    status, page = 200, None
    if form.is_bound and not form.is_valid():
        status = 422
    else:
        page = page_or_first(
            draft_page,
            cursor=request.GET.get("cursor"),
            organization=request.principal.organization,
            status=(form.cleaned_data.get("status") if form.is_bound else None) or None,
            limit=PAGE_SIZE,
        )
    return render(
        request,
        "agents/draft_list.html",
        {"form": form, "page": page, "paged": bool(request.GET.get("cursor"))},
        status=status,
    )


@login_required
@organization_required
@page_requires(
    "write", "read drafts but not change them", find=draft_get, methods=("GET",), reads=("GET",)
)
def draft_detail(request: HttpRequest, draft: ContentDraft) -> HttpResponse:
    return render(request, "agents/draft_detail.html", {"draft": draft})


@login_required
@organization_required
@page_requires(
    "write",
    "read drafts but not change them",
    find=draft_get,
    methods=("GET", "POST"),
    reads=(),
)
def draft_edit(request: HttpRequest, draft: ContentDraft) -> HttpResponse:
    initial = {name: getattr(draft, name) for name in services.DRAFT_FIELDS}
    form = DraftForm(request.POST if request.method == "POST" else None, initial=initial)
    context = {"draft": draft, "form": form}
    if request.method == "GET" or not form.is_valid():
        status = 200 if request.method == "GET" else 422
        return render(request, "agents/draft_edit.html", context, status=status)
    try:
        services.draft_update(draft=draft, **form.cleaned_data)
    except InvalidInput as exc:
        for detail in exc.details or []:
            name = detail["field"]
            form.add_error(name if name in form.fields else None, detail["message"])
        return render(request, "agents/draft_edit.html", context, status=422)
    messages.success(request, "Draft saved.")
    return redirect("agents:draft-detail", draft_id=draft.id)


@login_required
@organization_required
@page_requires("write", "read drafts but not approve them", find=draft_get)
def draft_approve(request: HttpRequest, draft: ContentDraft) -> HttpResponse:
    try:
        services.draft_approve(draft=draft)
    except NeonHubError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Draft approved.")
    return redirect("agents:draft-detail", draft_id=draft.id)

"""Pages: the template list, a new template from a starter layout, the editor with its live
preview, the preview as one contact, duplicate, delete and "send a test to me".

Every page looks the template up in the organization first (another organization's id is a
404), then checks the method and the role; viewers see everything and change nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from agents.mailtemplates import selectors, services
from agents.mailtemplates.forms import LAYOUT_HELP, NewTemplateForm, TemplateForm
from agents.mailtemplates.models import EmailTemplate, Layout
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NeonHubError
from neonhub.core.forms import errors_to_form
from neonhub.core.ids import uuid_from
from neonhub.core.views_util import organization_required

DENIED = "look at email templates but not change them"


def _form_errors(form, exc: NeonHubError) -> None:
    details = [
        {**d, "field": str(d.get("field", "")).removeprefix("content.")}
        for d in (exc.details if isinstance(exc.details, list) else [])
    ]
    errors_to_form(form, details, exc.message)


@login_required
@organization_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    templates = list(selectors.template_list(organization=request.principal.organization))
    uses = selectors.template_uses_of(templates)
    rows = [{"t": t, "uses": uses[t.pk]} for t in templates]
    return render(request, "mailtemplates/list.html", {"rows": rows})


@login_required
@organization_required
@page_requires("write", DENIED, methods=("GET", "POST"), reads=("GET",))
def template_new(request: HttpRequest) -> HttpResponse:
    form = NewTemplateForm(request.POST or None, initial={"layout": request.GET.get("layout")})
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_create(
                organization=request.principal.organization,
                name=form.cleaned_data["name"],
                layout=form.cleaned_data["layout"],
                created_by=request.user,
            )
        except InvalidInput as exc:
            errors_to_form(form, exc.details, exc.message)
        else:
            messages.success(request, f"Created “{template.name}”. Fill in your text below.")
            return redirect("mailtemplates:detail", template_id=template.pk)
    layouts = [{"value": v, "label": label, "help": LAYOUT_HELP[v]} for v, label in Layout.choices]
    status = 422 if request.method == "POST" else 200
    return render(
        request, "mailtemplates/new.html", {"form": form, "layouts": layouts}, status=status
    )


def _editor(request, template, form, status=200) -> HttpResponse:
    org = request.principal.organization
    return render(
        request,
        "mailtemplates/edit.html",
        {
            "t": template,
            "form": form,
            "variables": selectors.template_variables(organization=org),
            "uses": selectors.template_uses(template=template),
            "test_run": _test_run_link(request),
        },
        status=status,
    )


def _test_run_link(request) -> str:
    """The run page of the test just sent from this editor (shown once)."""
    run_id = request.session.pop("mailtemplates_test_run", None)
    return reverse("runs:detail", args=[run_id]) if run_id else ""


@login_required
@organization_required
@page_requires(
    "write", DENIED, find=selectors.template_get, methods=("GET", "POST"), reads=("GET",)
)
def template_detail(request: HttpRequest, template: EmailTemplate) -> HttpResponse:
    form = TemplateForm(request.POST or None, initial=TemplateForm.initial_for(template))
    if request.method == "POST" and form.is_valid():
        try:
            services.template_update(template=template, **form.changes())
        except InvalidInput as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Saved “{template.name}”.")
            return redirect("mailtemplates:detail", template_id=template.pk)
    if request.method == "POST":
        template.refresh_from_db()
        return _editor(request, template, form, status=422)
    return _editor(request, template, form)


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.template_get, methods=("POST",), reads=("POST",))
def template_live(request: HttpRequest, template: EmailTemplate) -> HttpResponse:
    """The editor's preview of what is typed, nothing saved (an htmx fragment)."""
    form = TemplateForm(request.POST)
    draft = EmailTemplate(organization=template.organization, name=template.name)
    problems: list[str] = []
    compiled = None
    if form.is_valid():
        changes = form.changes()
        if changes["advanced"] and not changes["mjml"].strip():
            changes["mjml"] = ""
            changes["advanced"] = False
        try:
            services.template_apply(template=draft, changes=changes)
            compiled = services.template_render(template=draft, values={})
        except InvalidInput as exc:
            problems = [
                f"{_label(form, d.get('field', ''))}: {d.get('message')}"
                for d in (exc.details if isinstance(exc.details, list) else [])
            ] or [exc.message]
    else:
        problems = [f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items()]
    known = selectors.template_variables(organization=template.organization)
    return render(
        request,
        "mailtemplates/_live.html",
        {
            "compiled": compiled,
            "problems": problems,
            "warnings": services.template_warnings(template=draft, known=known) if compiled else [],
        },
    )


def _label(form, field: str) -> str:
    name = str(field).removeprefix("content.")
    if name in form.fields:
        return str(form.fields[name].label or name.replace("_", " ").capitalize())
    return name.upper() if name == "mjml" else name


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.template_get, methods=("GET",), reads=("GET",))
def template_preview(request: HttpRequest, template: EmailTemplate) -> HttpResponse:
    """As one contact would see it: subject, HTML at desktop and phone widths, plain text."""
    org = request.principal.organization
    search = (request.GET.get("q") or "").strip()[:100]
    contact = None
    if request.GET.get("contact"):
        contact = selectors.contact_for_preview(
            organization=org, contact_id=uuid_from(request.GET["contact"], field="contact")
        )
    choices = selectors.contact_choices(organization=org, search=search)
    if contact is None and not search and choices:
        contact = choices[0]
    error, compiled = "", None
    try:
        compiled = services.template_render(
            template=template, values=services.preview_values(organization=org, contact=contact)
        )
    except InvalidInput as exc:
        error = exc.message
    return render(
        request,
        "mailtemplates/preview.html",
        {
            "t": template,
            "contact": contact,
            "choices": choices,
            "q": search,
            "compiled": compiled,
            "error": error,
        },
    )


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.template_get)
def template_duplicate(request: HttpRequest, template: EmailTemplate) -> HttpResponse:
    copy = services.template_duplicate(template=template, created_by=request.user)
    messages.success(request, f"Made a copy: “{copy.name}”.")
    return redirect("mailtemplates:detail", template_id=copy.pk)


@login_required
@organization_required
@page_requires(
    "write", DENIED, find=selectors.template_get, methods=("GET", "POST"), reads=("GET",)
)
def template_delete(request: HttpRequest, template: EmailTemplate) -> HttpResponse:
    uses = selectors.template_uses(template=template)
    if request.method == "POST":
        try:
            services.template_delete(template=template)
        except NeonHubError as exc:
            messages.error(request, exc.message)
            return redirect("mailtemplates:detail", template_id=template.pk)
        messages.success(request, f"Deleted “{template.name}”.")
        return redirect("mailtemplates:list")
    return render(request, "mailtemplates/delete.html", {"t": template, "uses": uses})


@login_required
@organization_required
@page_requires("write", "send email", find=selectors.template_get)
def template_send_test(request: HttpRequest, template: EmailTemplate) -> HttpResponse:
    try:
        run = services.template_send_test(
            template=template, user=request.user, organization=request.principal.organization
        )
    except NeonHubError as exc:
        details = exc.details if isinstance(exc.details, list) else []
        reasons = "; ".join(str(d.get("message")) for d in details if d.get("message"))
        messages.error(request, f"The test was not sent. {reasons or exc.message}")
        return redirect("mailtemplates:detail", template_id=template.pk)
    messages.success(request, f"Sending a test of “{template.name}” to {request.user.email}.")
    request.session["mailtemplates_test_run"] = str(run.pk)
    return redirect("mailtemplates:detail", template_id=template.pk)

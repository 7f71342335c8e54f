"""The organization's settings pages (linked from /settings/): compliance, brands and their
voice, the knowledge base with a retrieval preview, the organization's name and timezone, and
how long its run history is kept.

Everyone in the organization reads them; owners and admins change them.  Every change goes
through one service that validates it and records the audit event in the same transaction;
bad values come back next to their field with 422, another organization's ids are 404.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from agents import knowledge, services
from agents.audience import policy
from agents.library.support import CONFIDENCE_THRESHOLD
from agents.models import Brand, KnowledgeArticle
from agents.selectors import (
    brand_default,
    brand_get,
    brand_list,
    knowledge_article_get,
    knowledge_article_list,
    knowledge_articles_active,
)
from neonhub.core import retention
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput
from neonhub.core.views_util import organization_required

CONSENT_CHOICES = [
    (
        "soft",
        "Soft opt-in: send unless the person opted out, unsubscribed or revoked consent",
    ),
    (
        "express",
        "Express opt-in: send only to people whose consent for this channel is recorded as granted",
    ),
]
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


def _read_only(form: forms.BaseForm | forms.BaseFormSet, read_only: bool) -> None:
    if not read_only:
        return
    for each in getattr(form, "forms", [form]):
        for field in each.fields.values():
            field.disabled = True


def _errors_onto(form: forms.Form, exc: InvalidInput, names: dict[str, str]) -> None:
    """Put a service's field errors next to the form's fields (``names``: detail → field)."""
    for detail in exc.details or []:
        field = detail.get("field", "")
        name = names.get(field) or next(
            (n for prefix, n in names.items() if field.startswith(prefix + ".")), None
        )
        if name is None and field in form.fields:
            name = field
        form.add_error(name, detail["message"])


def _form_page(
    request: HttpRequest,
    form: forms.Form,
    *,
    template: str,
    context: dict,
    save: Callable[[dict], Any],
    done: Callable[[Any], str],
    back: str,
) -> HttpResponse:
    """A settings form's page: on a valid POST ``save`` the answers (a refusal comes back next
    to its field, 422), say ``done(saved)`` and go ``back``; otherwise show the form."""
    context = {**context, "form": form}
    if request.method != "POST":
        return render(request, template, context)
    if form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except InvalidInput as exc:
            _errors_onto(form, exc, {})
        else:
            messages.success(request, done(saved))
            return redirect(back)
    return render(request, template, context, status=422)


# --- compliance ---------------------------------------------------------------------------------


class ComplianceForm(forms.Form):
    quiet_enabled = forms.BooleanField(required=False, label="Keep quiet hours")
    quiet_start = forms.CharField(
        required=False,
        label="Quiet from",
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Local to the recipient: the contact's timezone, else the organization's.",
    )
    quiet_end = forms.CharField(
        required=False,
        label="Until",
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="An end before the start means overnight (21:00 until 08:00).",
    )
    quiet_channels = forms.MultipleChoiceField(
        required=False,
        choices=list(policy.CHANNELS.items()),
        widget=forms.CheckboxSelectMultiple,
        label="On channels",
    )
    quiet_days = forms.MultipleChoiceField(
        required=False,
        choices=list(policy.DAYS.items()),
        widget=forms.CheckboxSelectMultiple,
        label="On nights starting",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for channel, label in policy.CHANNELS.items():
            self.fields[f"cap_{channel}_day"] = forms.IntegerField(
                required=False, min_value=0, max_value=1000, label=f"{label}: per day"
            )
            self.fields[f"cap_{channel}_week"] = forms.IntegerField(
                required=False, min_value=0, max_value=5000, label=f"{label}: per week"
            )
            self.fields[f"consent_{channel}"] = forms.ChoiceField(
                choices=CONSENT_CHOICES, widget=forms.RadioSelect, label=label, initial="soft"
            )

    def cap_rows(self):
        return [
            (label, self[f"cap_{c}_day"], self[f"cap_{c}_week"])
            for c, label in policy.CHANNELS.items()
        ]

    def consent_fields(self):
        return [self[f"consent_{c}"] for c in policy.CHANNELS]

    @staticmethod
    def initial_from(current: policy.ComplianceSettings) -> dict:
        initial: dict = {
            "quiet_enabled": current.quiet_hours is not None,
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "quiet_channels": ["sms", "whatsapp"],
            "quiet_days": list(policy.DAYS),
        }
        if current.quiet_hours:
            initial.update(
                quiet_start=current.quiet_hours.start,
                quiet_end=current.quiet_hours.end,
                quiet_channels=current.quiet_hours.channels,
                quiet_days=current.quiet_hours.days,
            )
        for channel in policy.CHANNELS:
            cap = current.frequency_caps.get(channel)
            initial[f"cap_{channel}_day"] = cap.day if cap else None
            initial[f"cap_{channel}_week"] = cap.week if cap else None
            initial[f"consent_{channel}"] = (
                "express" if channel in current.require_consent else "soft"
            )
        return initial

    def values(self) -> dict:
        data = self.cleaned_data
        caps = {}
        for channel in policy.CHANNELS:
            day, week = data.get(f"cap_{channel}_day"), data.get(f"cap_{channel}_week")
            if day is not None or week is not None:
                caps[channel] = {"day": day, "week": week}
        quiet = None
        if data.get("quiet_enabled"):
            quiet = {
                "start": (data.get("quiet_start") or "")[:5],
                "end": (data.get("quiet_end") or "")[:5],
                "channels": data.get("quiet_channels") or [],
                "days": data.get("quiet_days") or [],
            }
        return {
            "frequency_caps": caps,
            "quiet_hours": quiet,
            "require_consent": [
                c for c in policy.CHANNELS if data.get(f"consent_{c}") == "express"
            ],
        }

    def error_names(self) -> dict[str, str]:
        names = {
            "quiet_hours": "quiet_start",
            "quiet_hours.start": "quiet_start",
            "quiet_hours.end": "quiet_end",
            "quiet_hours.channels": "quiet_channels",
            "quiet_hours.days": "quiet_days",
            "require_consent": None,
        }
        for channel in policy.CHANNELS:
            names[f"frequency_caps.{channel}"] = f"cap_{channel}_week"
            names[f"frequency_caps.{channel}.day"] = f"cap_{channel}_day"
            names[f"frequency_caps.{channel}.week"] = f"cap_{channel}_week"
        return names


class TemplateForm(forms.Form):
    name = forms.CharField(
        max_length=512, help_text="As approved by Meta, e.g. order_update", label="Name"
    )
    language = forms.CharField(max_length=6, help_text="e.g. en or en_US", label="Language")
    category = forms.ChoiceField(choices=[("", "Choose…"), *policy.TEMPLATE_CATEGORIES.items()])
    body = forms.CharField(
        max_length=1024,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Placeholders {{1}}, {{2}}, … are filled when the template is sent.",
    )
    content_sid = forms.CharField(
        required=False, max_length=34, label="Content SID (optional)", help_text="HX… from Twilio"
    )


TemplateFormSet = forms.formset_factory(TemplateForm, extra=1, can_delete=True, max_num=100)


def _templates_of(formset) -> list[dict]:
    return [
        {k: f.cleaned_data[k] for k in ("name", "language", "category", "body", "content_sid")}
        for f in formset.forms
        if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]


def _template_errors(formset, exc: InvalidInput) -> list[dict]:
    """Details about templates go next to the template's field; the rest are answered."""
    kept = [f for f in formset.forms if f.has_changed() and not f.cleaned_data.get("DELETE")]
    rest = []
    for detail in exc.details or []:
        parts = detail["field"].split(".")
        if parts[0] != "whatsapp_templates":
            rest.append(detail)
        elif len(parts) >= 3 and parts[1].isdigit() and int(parts[1]) < len(kept):
            name = parts[2] if parts[2] in TemplateForm.base_fields else None
            kept[int(parts[1])].add_error(name, detail["message"])
        else:
            formset._non_form_errors = formset.error_class([detail["message"]])
    return rest


@login_required
@organization_required
@page_requires(
    "manage",
    "look at the compliance settings but not change them",
    methods=("GET", "POST"),
    reads=("GET",),
)
def compliance_settings(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    current = policy.compliance_settings_of(organization=principal.organization)
    read_only = not principal.can_manage
    if request.method == "POST":
        form = ComplianceForm(request.POST)
        formset = TemplateFormSet(request.POST, prefix="templates")
    else:
        form = ComplianceForm(initial=ComplianceForm.initial_from(current))
        formset = TemplateFormSet(
            initial=[t.model_dump() for t in current.whatsapp_templates], prefix="templates"
        )
    _read_only(form, read_only)
    _read_only(formset, read_only)
    context = {"form": form, "formset": formset, "read_only": read_only, "settings": current}
    if request.method == "GET":
        return render(request, "agents/settings/compliance.html", context)
    if not (form.is_valid() & formset.is_valid()):
        return render(request, "agents/settings/compliance.html", context, status=422)
    try:
        policy.compliance_settings_save(
            principal=principal,
            values={**form.values(), "whatsapp_templates": _templates_of(formset)},
            request=request,
        )
    except InvalidInput as exc:
        rest = _template_errors(formset, exc)
        _errors_onto(form, InvalidInput(exc.message, details=rest), form.error_names())
        return render(request, "agents/settings/compliance.html", context, status=422)
    messages.success(request, "Compliance settings saved; the next message obeys them.")
    return redirect("agents:compliance-settings")


# --- brands -------------------------------------------------------------------------------------


class LinesField(forms.CharField):
    """A list of strings, one a line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class BrandForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=64,
        required=False,
        help_text="How runs name the brand (brandId); left empty, it is made from the name.",
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the brand sells and to whom: the writer reads it.",
    )
    tone = forms.CharField(
        max_length=64, required=False, help_text="e.g. friendly, witty, authoritative"
    )
    slogan = forms.CharField(max_length=200, required=False)
    website = forms.URLField(required=False, assume_scheme="https")
    vocabulary = LinesField(
        required=False, label="Words and phrases the brand uses", help_text="One a line."
    )
    do_examples = LinesField(
        required=False, label="Sentences that sound like the brand", help_text="One a line."
    )
    dont_examples = LinesField(
        required=False,
        label="Sentences the brand would never write",
        help_text="One a line; the writer avoids their wording.",
    )


def _brand_initial(brand: Brand) -> dict:
    return {name: getattr(brand, name) for name in services.BRAND_FIELDS}


@login_required
@organization_required
@require_GET
def brands(request: HttpRequest) -> HttpResponse:
    organization = request.principal.organization
    return render(
        request,
        "agents/settings/brands.html",
        {
            "brands": brand_list(organization=organization),
            "default": brand_default(organization=organization),
        },
    )


@login_required
@organization_required
@page_requires("manage", "add brands", methods=("GET", "POST"))
def brand_new(request: HttpRequest) -> HttpResponse:
    return _form_page(
        request,
        BrandForm(request.POST or None),
        template="agents/settings/brand_form.html",
        context={},
        save=lambda fields: services.brand_create(
            principal=request.principal, fields=fields, request=request
        ),
        done=lambda brand: f"Brand {brand.name} added.",
        back="agents:brands",
    )


@login_required
@organization_required
@page_requires(
    "manage",
    "read brands but not change them",
    find=brand_get,
    methods=("GET", "POST"),
    reads=("GET",),
)
def brand_edit(request: HttpRequest, brand: Brand) -> HttpResponse:
    read_only = not request.principal.can_manage
    form = BrandForm(request.POST or None, initial=_brand_initial(brand))
    _read_only(form, read_only)
    return _form_page(
        request,
        form,
        template="agents/settings/brand_form.html",
        context={"brand": brand, "read_only": read_only},
        save=lambda fields: services.brand_update(
            principal=request.principal, brand=brand, fields=fields, request=request
        ),
        done=lambda _: f"Brand {brand.name} saved.",
        back="agents:brands",
    )


@login_required
@organization_required
@page_requires("manage", "delete brands", find=brand_get)
def brand_delete(request: HttpRequest, brand: Brand) -> HttpResponse:
    name = brand.name
    services.brand_delete(principal=request.principal, brand=brand, request=request)
    messages.success(request, f"Brand {name} deleted; drafts written for it keep their text.")
    return redirect("agents:brands")


# --- the knowledge base -------------------------------------------------------------------------


class TagsField(forms.CharField):
    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=300, help_text="Counts double when matching a question.")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="The answer; the built-in writer replies with its first sentences.",
    )
    tags = TagsField(
        required=False, help_text="Comma-separated; count double when matching, like the title."
    )
    active = forms.BooleanField(
        required=False, initial=True, label="Active: the support agent may answer with it"
    )


class PreviewForm(forms.Form):
    q = forms.CharField(max_length=1600, label="A customer's question")


def retrieval_preview(*, organization, question: str) -> dict:
    """What the support agent would retrieve for ``question``: the same articles (the active
    ones), the same ranking and confidence, and whether it would answer or hand over."""
    matches = knowledge.rank(question, knowledge_articles_active(organization=organization))
    confidence = knowledge.confidence(matches)
    return {
        "matches": matches,
        "confidence": confidence,
        "threshold": CONFIDENCE_THRESHOLD,
        "answers": bool(matches) and confidence >= CONFIDENCE_THRESHOLD,
    }


@login_required
@organization_required
@require_GET
def knowledge_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "agents/settings/knowledge.html",
        {
            "articles": knowledge_article_list(organization=request.principal.organization),
            "preview_form": PreviewForm(),
        },
    )


@login_required
@organization_required
@require_GET
def knowledge_preview(request: HttpRequest) -> HttpResponse:
    form = PreviewForm(request.GET)
    context: dict = {"preview_form": form}
    status = 200
    if form.is_valid():
        context.update(
            retrieval_preview(
                organization=request.principal.organization, question=form.cleaned_data["q"]
            ),
            asked=True,
        )
    else:
        status = 422
    if request.headers.get("HX-Request") != "true":  # without JavaScript: the whole page
        context["articles"] = knowledge_article_list(organization=request.principal.organization)
        return render(request, "agents/settings/knowledge.html", context, status=status)
    return render(request, "agents/settings/_knowledge_preview.html", context, status=status)


@login_required
@organization_required
@page_requires("manage", "add knowledge articles", methods=("GET", "POST"))
def knowledge_new(request: HttpRequest) -> HttpResponse:
    return _form_page(
        request,
        ArticleForm(request.POST or None, initial={"active": True}),
        template="agents/settings/article_form.html",
        context={},
        save=lambda fields: services.knowledge_article_create(
            principal=request.principal, fields=fields, request=request
        ),
        done=lambda article: f"Article {article.title!r} added.",
        back="agents:knowledge",
    )


@login_required
@organization_required
@page_requires(
    "manage",
    "read knowledge articles but not change them",
    find=knowledge_article_get,
    methods=("GET", "POST"),
    reads=("GET",),
)
def knowledge_edit(request: HttpRequest, article: KnowledgeArticle) -> HttpResponse:
    read_only = not request.principal.can_manage
    initial = {name: getattr(article, name) for name in services.ARTICLE_FIELDS}
    form = ArticleForm(request.POST or None, initial=initial)
    _read_only(form, read_only)
    return _form_page(
        request,
        form,
        template="agents/settings/article_form.html",
        context={"article": article, "read_only": read_only},
        save=lambda fields: services.knowledge_article_update(
            principal=request.principal, article=article, fields=fields, request=request
        ),
        done=lambda _: f"Article {article.title!r} saved.",
        back="agents:knowledge",
    )


@login_required
@organization_required
@page_requires("manage", "delete knowledge articles", find=knowledge_article_get)
def knowledge_delete(request: HttpRequest, article: KnowledgeArticle) -> HttpResponse:
    title = article.title
    services.knowledge_article_delete(principal=request.principal, article=article, request=request)
    messages.success(request, f"Article {title!r} deleted.")
    return redirect("agents:knowledge")


# --- the organization ---------------------------------------------------------------------------


def timezone_choices() -> list:
    """Zone names grouped by region (Europe, America, …), UTC first; legacy aliases left out."""
    groups: dict[str, list] = defaultdict(list)
    for name in zoneinfo.available_timezones():
        region = name.split("/", 1)[0]
        if region in REGIONS:
            groups[region].append((name, name.replace("_", " ")))
    return [("UTC", "UTC")] + [(r, sorted(groups[r])) for r in REGIONS if groups[r]]


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200)
    timezone = forms.ChoiceField(
        help_text="Quiet hours (for contacts without their own), schedules and the calendar use it."
    )

    def __init__(self, *args, current: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        choices = timezone_choices()
        if current not in zoneinfo.available_timezones() or "/" not in current:
            choices = [(current, current), *[c for c in choices if c[0] != current]]
        elif current.split("/", 1)[0] not in REGIONS:  # an alias kept as it is (US/Eastern)
            choices = [(current, current), *choices]
        self.fields["timezone"].choices = choices


@login_required
@organization_required
@page_requires(
    "manage",
    "look at the organization's settings but not change them",
    methods=("GET", "POST"),
    reads=("GET",),
)
def organization_settings(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    organization = principal.organization
    read_only = not principal.can_manage
    form = OrganizationForm(
        request.POST or None,
        initial={"name": organization.name, "timezone": organization.timezone},
        current=organization.timezone,
    )
    _read_only(form, read_only)
    local: datetime = timezone.now().astimezone(organization.tz)
    context = {"form": form, "read_only": read_only, "local": local}
    if request.method == "POST":
        if form.is_valid():
            try:
                services.organization_update(
                    principal=principal,
                    name=form.cleaned_data["name"],
                    timezone_name=form.cleaned_data["timezone"],
                    request=request,
                )
            except InvalidInput as exc:
                _errors_onto(form, exc, {})
            else:
                messages.success(request, "Organization saved.")
                return redirect("agents:organization-settings")
        return render(request, "agents/settings/organization.html", context, status=422)
    return render(request, "agents/settings/organization.html", context)


# --- data retention -----------------------------------------------------------------------------


class RetentionForm(forms.Form):
    days = forms.IntegerField(
        required=False,
        label="Keep run history for (days)",
        min_value=retention.MIN_DAYS,
        max_value=retention.MAX_DAYS,
        help_text=(
            f"Between {retention.MIN_DAYS} and {retention.MAX_DAYS}. Empty: the installation's "
            "default. The frequency caps count a week of messages, so never less than 7."
        ),
    )


@login_required
@organization_required
@page_requires(
    "manage",
    "look at the data retention setting but not change it",
    methods=("GET", "POST"),
    reads=("GET",),
)
def retention_settings(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    current = retention.retention_of(organization=principal.organization)
    form = RetentionForm(request.POST or None, initial={"days": current.days})
    _read_only(form, not principal.can_manage)
    return _form_page(
        request,
        form,
        template="agents/settings/retention.html",
        context={"read_only": not principal.can_manage, "retention": current},
        save=lambda fields: retention.retention_save(
            principal=principal, values={"days": fields["days"]}, request=request
        ),
        done=lambda saved: f"Run history is now kept for {saved.effective_days} days.",
        back="agents:retention-settings",
    )

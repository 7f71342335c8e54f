"""The run list's filters: read from the URL, so a filtered view can be shared."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from neonhub.core.errors import NeonHubError
from runs import hooks
from runs.models import RunStatus, Trigger
from runs.selectors import RunFilters

MIN_ID_PREFIX = 4
_ID_SEARCH = re.compile(r"[0-9a-f-]+")


class CatalogChoiceField(forms.ChoiceField):
    """A drop-down of the registered names that also takes a typed or shared value in any case
    (``?agent=Support`` is ``support``); ``normalize`` turns the value into the choice's."""

    def __init__(self, *args, normalize=str.lower, **kwargs):
        self.normalize = normalize
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return ""
        try:
            return self.normalize(value)
        except NeonHubError:  # an unknown name stays as typed and is refused by the choices
            return value


class RunFilterForm(forms.Form):
    agent = CatalogChoiceField(
        required=False,
        normalize=hooks.agent_slug,
        error_messages={"invalid_choice": "No agent named %(value)s; pick one from the list."},
    )
    intent = CatalogChoiceField(
        required=False,
        error_messages={"invalid_choice": "No intent named %(value)s; pick one from the list."},
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *RunStatus.choices])
    trigger = forms.ChoiceField(required=False, choices=[("", "Any trigger"), *Trigger.choices])
    created_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    run_id = forms.CharField(
        required=False,
        max_length=36,
        label="Run id",
        help_text="The short id from the table, a longer part of the id or the whole id",
        widget=forms.TextInput(attrs={"placeholder": "e.g. 3f2b1c4d", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalog = hooks.agent_catalog()
        self.fields["agent"].choices = [("", "Any agent")] + [
            (a.slug, a.name if a.name.lower() != a.slug else a.slug) for a in self.catalog
        ]
        self.fields["intent"].choices = [("", "Any intent")] + [
            (a.name, [(intent, intent) for intent in a.intents]) for a in self.catalog
        ]

    def clean_run_id(self) -> str:
        value = (self.cleaned_data.get("run_id") or "").strip().lower()
        if not value:
            return ""
        if not _ID_SEARCH.fullmatch(value):
            raise forms.ValidationError(
                "A run id has only the digits 0-9 and the letters a-f, like 3f2b1c4d."
            )
        digits = value.replace("-", "")
        if len(digits) < MIN_ID_PREFIX:
            raise forms.ValidationError(
                f"Enter at least {MIN_ID_PREFIX} characters of the run id "
                "(the short id in the table has 8)."
            )
        if len(digits) > 32:
            raise forms.ValidationError("A run id has 32 hex digits; this is longer.")
        return digits

    def clean(self):
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", "The end date is before the start date.")
        agent, intent = data.get("agent"), data.get("intent")
        if agent and intent:
            known = next((a for a in self.catalog if a.slug == agent), None)
            if known is not None and intent not in known.intents:
                self.add_error(
                    "intent",
                    f"{agent} has no intent {intent!r}; it has {', '.join(known.intents)}.",
                )
        return data

    def chosen(self, name: str) -> str:
        """The value a drop-down shows as selected: the cleaned one (``Support`` → ``support``)."""
        if self.is_bound and hasattr(self, "cleaned_data") and name in self.cleaned_data:
            return self.cleaned_data[name] or ""
        return (self.data.get(name) or "") if self.is_bound else ""

    def filters(self) -> RunFilters:
        """The selector's filters; dates are whole days in the current (organization's) timezone."""
        data = self.cleaned_data
        return RunFilters(
            agent=data.get("agent") or None,
            intent=data.get("intent") or None,
            status=data.get("status") or None,
            trigger=data.get("trigger") or None,
            created_after=_local_midnight(data.get("created_from")),
            created_before=_local_midnight(data["created_to"] + timedelta(days=1))
            if data.get("created_to")
            else None,
            id_prefix=data.get("run_id") or None,
        )

    @property
    def active(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


def _local_midnight(day) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(0)), timezone.get_current_timezone())

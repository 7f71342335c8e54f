"""The run list's filters: read from the URL, so a filtered view can be shared."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from runs.models import RunStatus, Trigger
from runs.selectors import RunFilters


class RunFilterForm(forms.Form):
    agent = forms.CharField(required=False, max_length=64)
    intent = forms.CharField(required=False, max_length=64)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *RunStatus.choices])
    trigger = forms.ChoiceField(required=False, choices=[("", "Any trigger"), *Trigger.choices])
    created_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    run_id = forms.UUIDField(
        required=False,
        label="Run id",
        error_messages={"invalid": "Enter a whole run id, like 3f2b…-…; it is a UUID."},
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", "The end date is before the start date.")
        return data

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
            run_id=data.get("run_id"),
        )

    @property
    def active(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


def _local_midnight(day) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(0)), timezone.get_current_timezone())

"""Forms of the trigger, schedule, contact and batch pages.  The services stay the judges:
their field errors come back next to the fields (see ``neonhub.core.forms.errors_to_form``)."""

from __future__ import annotations

import json
import zoneinfo
from typing import Any

from django import forms
from django.urls import reverse

from agents.automation.sources import trigger_sources
from agents.campaigns.forms import CampaignChoiceField
from agents.segments.forms import SegmentChoiceField

JSON_HELP = 'A JSON object, e.g. {"to": "Phone"}'


def task_choices(catalog: list[dict]) -> list:
    return [("", "Choose…")] + [
        (a["name"], [(i["value"], f"{a['slug']} / {i['name']}") for i in a["intents"]])
        for a in catalog
    ]


class JsonObjectField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def to_python(self, value: Any) -> dict:
        text = (value or "").strip()
        if not text:
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            raise forms.ValidationError("Not valid JSON") from None
        if not isinstance(data, dict):
            raise forms.ValidationError("Must be a JSON object ({…})")
        return data


class TaskForm(forms.Form):
    task = forms.ChoiceField(label="Agent and intent")

    def __init__(self, *args, catalog: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["task"].choices = task_choices(catalog)

    def agent_intent(self) -> tuple[str, str]:
        agent, _, intent = self.cleaned_data["task"].partition("/")
        return agent, intent


class BatchForm(TaskForm):
    name = forms.CharField(max_length=200, required=False)
    file = forms.FileField(
        required=False,
        label="CSV file",
        help_text="One input per row; the first row names the columns",
    )
    contact_list = forms.ChoiceField(required=False, label="Or a contact list")
    mapping = JsonObjectField(
        required=False,
        label="Mapping",
        help_text='Payload field → column (or contact field), e.g. {"to": "Phone", '
        '"variables.name": "First name"}. Empty: columns are payload fields.',
    )
    defaults = JsonObjectField(
        required=False,
        label="Every input gets",
        help_text='e.g. {"body": "Hi {{name}}, 20% off today. Reply STOP to opt out."}',
    )
    field_order = ["task", "name", "file", "contact_list", "mapping", "defaults"]

    def __init__(self, *args, lists: list, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_list"].choices = [("", "—")] + [
            (str(lst.pk), lst.name) for lst in lists
        ]
        if organization is not None:
            self.fields["segment"] = SegmentChoiceField(
                organization=organization,
                label="Or a segment",
                empty_label="—",
                help_text="The contacts matching it when the batch starts are copied into a new "
                "contact list named “<segment> — <date time>”, and the batch runs over that list. "
                "The number in brackets is how many match now.",
            )
            self.fields["segment"].widget.attrs.update(
                {
                    "hx-get": reverse("segments:count"),
                    "hx-trigger": "change",
                    "hx-target": "#batch-segment-count",
                }
            )
            self.order_fields(["task", "name", "file", "contact_list", "segment"])
        add_campaign_field(self, organization)

    def clean(self) -> dict:
        data = super().clean()
        sources = [data.get("file"), data.get("contact_list"), data.get("segment")]
        if sum(bool(s) for s in sources) != 1:
            raise forms.ValidationError(
                "Upload a CSV file or choose a contact list or a segment (one of them)."
            )
        return data


class ScheduleForm(TaskForm):
    name = forms.CharField(max_length=100)
    payload = JsonObjectField(
        required=False, label="Payload", help_text='The run\'s input, e.g. {"content": "…"}'
    )
    cron = forms.CharField(
        max_length=120,
        required=False,
        label="Cron",
        help_text="minute hour day month weekday — 0 9 * * 2 is Tuesdays at 9:00",
    )
    interval_minutes = forms.IntegerField(required=False, min_value=1, label="Or every N minutes")
    timezone = forms.ChoiceField(label="Timezone")
    field_order = ["name", "task", "payload", "cron", "interval_minutes", "timezone"]

    def __init__(self, *args, default_timezone: str, organization=None, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(z, z) for z in sorted(zoneinfo.available_timezones())]
        self.fields["timezone"].initial = default_timezone
        add_campaign_field(self, organization, include=campaign)


class TriggerForm(TaskForm):
    name = forms.CharField(max_length=100)
    # A callable: read from the provider registry when the form is made, never at import.
    source = forms.ChoiceField(choices=lambda: list(trigger_sources().items()))
    connector = forms.ChoiceField(
        required=False, help_text="For provider sources: one connector, or any"
    )
    mapping = JsonObjectField(
        required=False,
        help_text='Payload field → event path, e.g. {"content": "text"}; '
        "empty: the source's default",
    )
    defaults = JsonObjectField(required=False, label="Every run gets")
    field_order = ["name", "source", "connector", "task", "mapping", "defaults"]

    def __init__(self, *args, connectors: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices = [("", "Any")] + [
            (str(c.pk), f"{c.name} ({c.provider})") for c in connectors
        ]


class TriggerEditForm(TaskForm):
    """A trigger's changeable fields; its source and connector stay (a new source is a new
    trigger, with its own URL)."""

    name = forms.CharField(max_length=100)
    mapping = JsonObjectField(
        required=False,
        help_text='Payload field → event path, e.g. {"content": "text"}; '
        "empty: the source's default",
    )
    defaults = JsonObjectField(required=False, label="Every run gets")
    enabled = forms.BooleanField(required=False, label="Switched on")
    field_order = ["name", "task", "mapping", "defaults", "enabled"]

    @classmethod
    def initial_of(cls, trigger) -> dict:
        return {
            "name": trigger.name,
            "task": f"{trigger.agent}/{trigger.intent}",
            "mapping": json_text(trigger.mapping),
            "defaults": json_text(trigger.defaults),
            "enabled": trigger.enabled,
        }


class ScheduleEditForm(ScheduleForm):
    """The schedule form filled with a schedule's values."""

    @classmethod
    def initial_of(cls, schedule) -> dict:
        return {
            "name": schedule.name,
            "task": f"{schedule.agent}/{schedule.intent}",
            "payload": json_text(schedule.payload),
            "cron": schedule.cron,
            "interval_minutes": schedule.interval_minutes,
            "timezone": schedule.timezone,
            "campaign": schedule.campaign_id,
        }


def json_text(value: dict) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) if value else ""


def add_campaign_field(form: forms.Form, organization, include=None) -> None:
    """The optional "Campaign" the runs count for, when the organization has campaigns."""
    if organization is None:
        return
    field = CampaignChoiceField(
        organization=organization,
        include=include,
        help_text="Its runs count in this campaign's numbers (emails, posts, cost).",
    )
    if field.queryset.exists() or include is not None:
        form.fields["campaign"] = field

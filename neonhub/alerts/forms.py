"""The alert pages' forms: people-friendly fields (a percentage, seconds, hours) that the
views turn into a rule's levels."""

from __future__ import annotations

from django import forms

from neonhub.alerts.models import AlertRule, DestinationKind, RuleKind

# How a kind's level is asked for, and the factor from the form's unit to the stored one.
UNITS = {
    RuleKind.ERROR_RATE: ("% of finished runs failed", 0.01),
    RuleKind.P95_DURATION: ("seconds (p95 of completed runs)", 1000.0),
    RuleKind.COST_PER_DAY: ("spent in 24 hours", 1.0),
    RuleKind.NO_RUNS: ("runs or fewer in the window", 1.0),
    RuleKind.CONNECTOR_RECONNECT: ("connectors needing reconnection", 1.0),
    RuleKind.BATCH_PAUSED: ("batches paused by themselves", 1.0),
}


class RuleForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What a person reading the email should see")
    kind = forms.ChoiceField(choices=RuleKind.choices, label="Watch")
    agent = forms.ChoiceField(required=False, help_text="Blank: every agent")
    intent = forms.CharField(
        required=False, max_length=64, help_text="Only for “Too few runs”, e.g. social-post"
    )
    connector = forms.ChoiceField(
        required=False,
        help_text="“Connector needs reconnecting”: only this one (blank: any); “Error rate”: failures at its provider",
    )
    warning_level = forms.FloatField(
        required=False, min_value=0, help_text="Blank: no warning level"
    )
    alert_level = forms.FloatField(min_value=0)
    window_hours = forms.FloatField(
        min_value=0.02,
        max_value=168,
        initial=1,
        label="Window (hours)",
        help_text="How far back to look; run measures use whole hours",
    )
    min_runs = forms.IntegerField(
        min_value=1,
        initial=10,
        help_text="Error rate and p95: judge only with at least this many runs",
    )
    renotify_minutes = forms.IntegerField(
        min_value=0,
        initial=0,
        label="Remind every (minutes)",
        help_text="While still breached; 0: never",
    )
    destinations = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, agents, connectors, destinations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [("", "Every agent"), *agents]
        self.fields["connector"].choices = [("", "Any connector"), *connectors]
        self.fields["destinations"].choices = destinations
        self.fields["alert_level"].help_text = "; ".join(
            f"{k.label}: {u}" for k, (u, _) in UNITS.items()
        )

    def rule_fields(self) -> dict:
        data = self.cleaned_data
        factor = UNITS[RuleKind(data["kind"])][1]
        warning = data.get("warning_level")
        return {
            "name": data["name"],
            "kind": data["kind"],
            "agent": data.get("agent") or "",
            "intent": (data.get("intent") or "").strip(),
            "connector_id": data.get("connector") or None,
            "warning_level": None if warning is None else warning * factor,
            "alert_level": data["alert_level"] * factor,
            "window_minutes": max(1, round(data["window_hours"] * 60)),
            "min_runs": data["min_runs"],
            "renotify_minutes": data["renotify_minutes"],
            "enabled": data.get("enabled", False),
        }

    @staticmethod
    def initial_of(rule: AlertRule) -> dict:
        factor = UNITS[RuleKind(rule.kind)][1]
        return {
            "name": rule.name,
            "kind": rule.kind,
            "agent": rule.agent,
            "intent": rule.intent,
            "connector": str(rule.connector_id) if rule.connector_id else "",
            "warning_level": None
            if rule.warning_level is None
            else round(rule.warning_level / factor, 4),
            "alert_level": round(rule.alert_level / factor, 4),
            "window_hours": round(rule.window_minutes / 60, 2),
            "min_runs": rule.min_runs,
            "renotify_minutes": rule.renotify_minutes,
            "enabled": rule.enabled,
            "destinations": [str(d.pk) for d in rule.destinations.all()],
        }


class DestinationForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=DestinationKind.choices)
    target = forms.CharField(max_length=500, label="Email address or webhook URL")


class DestinationEditForm(forms.Form):
    """A destination's name, address and switch (its kind stays what it was made as)."""

    name = forms.CharField(max_length=100)
    target = forms.CharField(max_length=500, label="Email address or webhook URL")
    enabled = forms.BooleanField(
        required=False, label="On", help_text="Off: its alerts are not sent here until it is on."
    )

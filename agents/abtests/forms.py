"""The form of a new A/B test: audience, two or three variants, how the winner is chosen."""

from __future__ import annotations

from django import forms

from agents.audience.models import ContactList
from agents.campaigns.models import Campaign
from agents.mailtemplates.models import EmailTemplate
from agents.models import (
    SHARE_PERCENT_MAX,
    SHARE_PERCENT_MIN,
    WINDOW_HOURS_MAX,
    WINDOW_HOURS_MIN,
    ABTestMetric,
    NoWinnerAction,
)
from agents.segments.models import Segment
from neonhub.core.models import Organization

LETTERS = ("a", "b", "c")


class ABTestForm(forms.Form):
    name = forms.CharField(
        max_length=200, label="Name", help_text="For you, e.g. “Spring sale subject line”."
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(), required=False, label="Campaign", empty_label="None"
    )
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.none(),
        required=False,
        label="Send to a segment",
        empty_label="—",
    )
    contact_list = forms.ModelChoiceField(
        queryset=ContactList.objects.none(),
        required=False,
        label="…or to a contact list",
        empty_label="—",
    )
    metric = forms.ChoiceField(
        choices=ABTestMetric.choices,
        initial=ABTestMetric.OPENS,
        label="The winner is the variant with the higher",
        widget=forms.RadioSelect,
    )
    share_percent = forms.IntegerField(
        min_value=SHARE_PERCENT_MIN,
        max_value=SHARE_PERCENT_MAX,
        initial=20,
        label="Test share (% of the audience)",
        help_text="These people get the variants first; everyone else gets the winner.",
    )
    window_hours = forms.IntegerField(
        min_value=WINDOW_HOURS_MIN,
        max_value=WINDOW_HOURS_MAX,
        initial=4,
        label="Wait before choosing (hours)",
    )
    confidence = forms.TypedChoiceField(
        choices=[(90, "90%"), (95, "95% (recommended)"), (99, "99%")],
        coerce=int,
        initial=95,
        label="How sure before calling a winner",
    )
    no_winner = forms.ChoiceField(
        choices=NoWinnerAction.choices,
        initial=NoWinnerAction.LEADER,
        label="If there is no clear winner",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(organization=organization)
        self.fields["segment"].queryset = Segment.objects.filter(organization=organization)
        self.fields["contact_list"].queryset = ContactList.objects.filter(organization=organization)
        # Shown as a group of choices (agents/_field.html), not as one label over bare radios.
        self.fields["metric"].kind = "multi"
        self.fields["no_winner"].kind = "multi"
        templates = EmailTemplate.objects.filter(organization=organization)
        for letter in LETTERS:
            optional = letter == "c"
            upper = letter.upper()
            self.fields[f"variant_{letter}_subject"] = forms.CharField(
                max_length=300,
                required=False,
                label=f"Variant {upper}: subject"
                + (" (optional third variant)" if optional else ""),
            )
            self.fields[f"variant_{letter}_body"] = forms.CharField(
                max_length=50_000,
                required=False,
                label=f"Variant {upper}: text",
                help_text="Use {{first_name|there}} for the person's first name.",
                widget=forms.Textarea(attrs={"rows": 5}),
            )
            self.fields[f"variant_{letter}_template"] = forms.ModelChoiceField(
                queryset=templates,
                required=False,
                label=f"…or Variant {upper}: an email template",
                empty_label="—",
            )

    def clean(self):
        data = super().clean()
        if data.get("segment") and data.get("contact_list"):
            self.add_error("contact_list", "Choose a segment or a list, not both.")
        elif not data.get("segment") and not data.get("contact_list"):
            self.add_error("segment", "Choose who gets this test: a segment or a contact list.")
        return data

    def variants(self) -> list[dict]:
        """The filled variants in order; the optional third only when something is in it."""
        found = []
        for letter in LETTERS:
            subject = self.cleaned_data.get(f"variant_{letter}_subject") or ""
            body = self.cleaned_data.get(f"variant_{letter}_body") or ""
            template = self.cleaned_data.get(f"variant_{letter}_template")
            if letter == "c" and not (subject or body or template):
                continue
            found.append(
                {"subject": subject, "body": body, "template_id": template.pk if template else None}
            )
        return found

    def add_service_error(self, field: str, message: str) -> None:
        """Put a service's error (``variants.1.body``) next to the matching field."""
        parts = field.split(".")
        if parts[0] == "variants" and len(parts) == 3 and parts[1].isdigit():
            name = f"variant_{LETTERS[int(parts[1])]}_{'template' if parts[2] == 'template_id' else parts[2]}"
            if name in self.fields:
                self.add_error(name, message)
                return
        self.add_error(field if field in self.fields else None, message)

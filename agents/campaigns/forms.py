"""The campaign form, and a "Campaign" field other apps' forms can use."""

from __future__ import annotations

from django import forms

from agents.campaigns import selectors
from agents.campaigns.models import CHANNELS, Campaign, CampaignStatus


class CampaignForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=200,
        help_text="A name your team recognises, such as “Spring sale 2027”.",
    )
    goal = forms.CharField(
        label="Goal",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What it should achieve, in a sentence: “200 orders from the spring range”.",
    )
    channels = forms.MultipleChoiceField(
        label="Channels",
        choices=list(CHANNELS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Where it runs. For your overview only: any run can name the campaign.",
    )
    status = forms.ChoiceField(
        label="Status",
        choices=CampaignStatus.choices,
        initial=CampaignStatus.ACTIVE,
        help_text="Only draft, active and paused campaigns are offered when starting a run.",
    )
    starts_on = forms.DateField(
        label="Starts on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label="Ends on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    budget = forms.DecimalField(
        label="Budget",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="What you plan to spend; the page compares it with what the runs cost.",
    )
    currency = forms.CharField(
        label="Currency",
        max_length=3,
        initial="USD",
        help_text="Three letters, such as USD or EUR.",
    )
    utm_campaign = forms.CharField(
        label="UTM campaign name",
        max_length=100,
        required=False,
        help_text="Added as utm_campaign to the links in its emails, so your web analytics "
        "can tell its visitors apart. Leave empty to use the name (spring-sale-2027).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].kind = "multi"  # drawn as a group of checkboxes

    @staticmethod
    def initial_for(campaign: Campaign) -> dict:
        return {name: getattr(campaign, name) for name in CampaignForm.base_fields}

    def campaign_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["goal"] = data.get("goal") or ""
        data["utm_campaign"] = data.get("utm_campaign") or ""
        return data


class ConversionForm(forms.Form):
    value = forms.DecimalField(
        label="Value", min_value=0, max_digits=12, decimal_places=2, initial=0
    )
    currency = forms.CharField(label="Currency", max_length=3, initial="USD")
    reference = forms.CharField(
        label="Reference",
        max_length=255,
        required=False,
        help_text="An order or contract number: the same reference is counted once.",
    )
    email = forms.EmailField(
        label="Customer email", required=False, help_text="Links it to the contact, if known."
    )


class CampaignChoiceField(forms.ModelChoiceField):
    """An optional "Campaign" select over one organization's campaigns.

    Give it the organization: ``CampaignChoiceField(organization=org)``; by default only the
    campaigns a new run may name (not completed nor archived) are offered, ``include=`` adds
    one more (the campaign an edited object already names).
    """

    def __init__(self, *, organization, include: Campaign | None = None, **kwargs):
        qs = selectors.campaign_active(organization=organization)
        if include is not None:
            qs = selectors.campaign_list(organization=organization).filter(
                pk__in=[*qs.values_list("pk", flat=True), include.pk]
            )
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Campaign")
        kwargs.setdefault("empty_label", "No campaign")
        kwargs.setdefault("help_text", "Count what this sends and spends in a campaign's numbers.")
        super().__init__(queryset=qs.order_by("name"), **kwargs)

"""The forms of the sequence pages: a sequence's settings, one step, and enrolling contacts."""

from __future__ import annotations

from typing import Any

from django import forms

from agents.campaigns.models import Campaign
from agents.mailtemplates.models import EmailTemplate
from agents.models import (
    SHARE_PERCENT_MAX,
    SHARE_PERCENT_MIN,
    WINDOW_HOURS_MAX,
    WINDOW_HOURS_MIN,
    ABTestMetric,
)
from agents.segments.models import Segment
from agents.sequences.models import GoalKind, Sequence, SequenceStep, StepCondition
from neonhub.core.models import Organization


class SequenceForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        label="Campaign",
        empty_label="No campaign",
        help_text="Its opens, clicks and bounces add up on the campaign's page.",
    )
    goal_kind = forms.ChoiceField(
        choices=GoalKind.choices,
        label="Goal",
        help_text="A contact who reaches the goal leaves the sequence: nothing more is sent.",
    )
    goal_value = forms.CharField(
        max_length=500,
        required=False,
        label="Goal detail",
        help_text="The text the clicked link contains (e.g. /pricing), or the tag's name.",
    )
    exit_on_reply = forms.BooleanField(
        required=False, initial=True, label="A contact who replies leaves the sequence"
    )
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.none(),
        required=False,
        label="Segment",
        empty_label="No segment",
        help_text="The contacts to enroll; enroll them from the sequence's page.",
    )
    keep_enrolling = forms.BooleanField(
        required=False,
        label="Keep enrolling the segment's new matches while the sequence is active",
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(organization=organization)
        self.fields["segment"].queryset = Segment.objects.filter(organization=organization)

    @staticmethod
    def initial_for(sequence: Sequence) -> dict[str, Any]:
        return {
            "name": sequence.name,
            "campaign": sequence.campaign_id,
            "goal_kind": sequence.goal_kind,
            "goal_value": sequence.goal_value,
            "exit_on_reply": sequence.exit_on_reply,
            "segment": sequence.segment_id,
            "keep_enrolling": sequence.keep_enrolling,
        }


class StepForm(forms.Form):
    wait_days = forms.IntegerField(min_value=0, max_value=365, initial=0, label="Wait (days)")
    wait_hours = forms.IntegerField(min_value=0, max_value=23, initial=0, label="and hours")
    condition = forms.ChoiceField(
        choices=StepCondition.choices,
        initial=StepCondition.ALWAYS,
        label="Send it",
        help_text="When the contact does not meet it, the step is skipped and they move on.",
    )
    template = forms.ModelChoiceField(
        queryset=EmailTemplate.objects.none(),
        required=False,
        label="Email template",
        empty_label="None: write it below",
    )
    subject = forms.CharField(max_length=300, required=False, label="Subject")
    body = forms.CharField(
        required=False,
        label="Text",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Use {{first_name|there}} for a value per contact; the unsubscribe link is added.",
    )
    # A/B test of the subject (empty subject B: no test).
    subject_b = forms.CharField(
        max_length=300,
        required=False,
        label="Test a second subject line",
        help_text="Leave empty for no test. A share of the contacts gets each subject line; "
        "the others wait until the winner is known, then get the winning one.",
    )
    metric = forms.ChoiceField(
        choices=[
            (ABTestMetric.OPENS, "More people opened it"),
            (ABTestMetric.CLICKS, "More people clicked"),
        ],
        initial=ABTestMetric.OPENS,
        label="The winner is the subject that",
    )
    share_percent = forms.IntegerField(
        min_value=SHARE_PERCENT_MIN,
        max_value=SHARE_PERCENT_MAX,
        initial=20,
        label="Test share (%)",
        help_text="Of the contacts who first reach this email; half get each subject.",
    )
    window_hours = forms.IntegerField(
        min_value=WINDOW_HOURS_MIN,
        max_value=WINDOW_HOURS_MAX,
        initial=4,
        label="Decide after (hours)",
        help_text="How long the test share has to open or click before the winner is chosen.",
    )
    confidence = forms.TypedChoiceField(
        choices=[(90, "90%"), (95, "95%"), (99, "99%")],
        coerce=int,
        initial=95,
        label="Confidence needed",
        help_text="Without it there is no clear winner, and the leading subject goes out.",
    )
    min_sample = forms.IntegerField(
        min_value=1,
        max_value=100000,
        initial=30,
        label="Fewest emails per subject",
        help_text="Below this many delivered emails of each subject, no winner is called.",
    )
    TEST_FIELDS = (
        "subject_b",
        "metric",
        "share_percent",
        "window_hours",
        "confidence",
        "min_sample",
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        first: bool = False,
        with_test: bool = True,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        if not with_test:  # a new email: its subject test is set up on its card once added
            for name in self.TEST_FIELDS:
                del self.fields[name]
        self.fields["template"].queryset = EmailTemplate.objects.filter(organization=organization)
        if first:  # the first step has no previous email to look at
            self.fields["condition"].choices = [(StepCondition.ALWAYS, "Always")]
            self.fields["condition"].help_text = "The first step goes to everyone enrolled."
        for name in self.TEST_FIELDS[1:]:  # a blank value takes the default
            if name in self.fields:
                self.fields[name].required = False

    def email_fields(self) -> list:
        return [self[name] for name in self.fields if name not in self.TEST_FIELDS]

    def test_fields(self) -> list:
        return [self[name] for name in self.TEST_FIELDS if name in self.fields]

    def test_data(self) -> dict[str, Any] | None:
        """The subject test's settings (None: no second subject), defaults for blanks."""
        data = self.cleaned_data
        if "subject_b" not in self.fields or not (data.get("subject_b") or "").strip():
            return None
        return {
            name: data.get(name) if data.get(name) not in (None, "") else self.fields[name].initial
            for name in self.TEST_FIELDS
        }

    @staticmethod
    def initial_for(step: SequenceStep) -> dict[str, Any]:
        return {
            "wait_days": step.wait_days,
            "wait_hours": step.wait_hours,
            "condition": step.condition,
            "template": step.template_id,
            "subject": step.subject,
            "body": step.body,
            **StepForm.test_initial(step),
        }

    @staticmethod
    def test_initial(step: SequenceStep) -> dict[str, Any]:
        test = step.ab_test
        if test is None or test.status == "cancelled" or len(test.variants) < 2:
            return {}
        return {
            "subject_b": test.variants[1].get("subject", ""),
            "metric": test.metric,
            "share_percent": test.share_percent,
            "window_hours": test.window_hours,
            "confidence": test.confidence,
            "min_sample": test.min_sample,
        }


class EnrollEmailForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        help_text="Found among your contacts, or added as a new contact.",
    )


class EnrollSegmentForm(forms.Form):
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.none(), label="Segment", empty_label="Choose a segment"
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.filter(organization=organization)

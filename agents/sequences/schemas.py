"""API schemas of sequences: separate In and Out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from agents.sequences.subject_tests import subject_test_out
from neonhub.core.schemas import In

Condition = Literal[
    "always", "opened", "not_opened", "clicked", "not_clicked", "replied", "not_replied"
]
Goal = Literal["none", "clicked", "tag"]


class StepIn(In):
    wait_days: int = Field(default=0, ge=0, le=365, description="Days after the previous step")
    wait_hours: int = Field(default=0, ge=0, le=23, description="Hours, added to the days")
    condition: Condition = Field(
        default="always",
        description="Send only if the contact did (or did not) open, click or reply to the "
        "previous email; otherwise the step is skipped. The first step is always sent.",
    )
    template_id: UUID | None = Field(default=None, description="An email template to send")
    subject: str = Field(default="", max_length=300, description="Without a template")
    body: str = Field(
        default="", max_length=100_000, description="Plain text, with {{placeholders}}"
    )


class StepPatch(In):
    wait_days: int | None = Field(default=None, ge=0, le=365)
    wait_hours: int | None = Field(default=None, ge=0, le=23)
    condition: Condition | None = None
    template_id: UUID | None = None
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=100_000)


class SequenceIn(In):
    name: str = Field(min_length=1, max_length=200)
    campaign_id: UUID | None = None
    goal_kind: Goal = "none"
    goal_value: str = Field(
        default="", max_length=500, description="The text the clicked link contains, or the tag"
    )
    exit_on_reply: bool = True
    segment_id: UUID | None = None
    keep_enrolling: bool = Field(
        default=False, description="Enroll the segment's new matches while the sequence is active"
    )
    steps: list[StepIn] = Field(default_factory=list, max_length=20)


class SequencePatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    campaign_id: UUID | None = None
    goal_kind: Goal | None = None
    goal_value: str | None = Field(default=None, max_length=500)
    exit_on_reply: bool | None = None
    segment_id: UUID | None = None
    keep_enrolling: bool | None = None


class SubjectTestIn(In):
    # Not required here, so another organization's sequence answers 404 before the body is judged.
    subject_b: str = Field(default="", max_length=300, description="The second subject line")
    metric: Literal["opens", "clicks"] = Field(
        default="opens", description="The winner is the subject more people opened (or clicked)"
    )
    share_percent: int = Field(
        default=20, description="Of the contacts who first reach the step (5 to 50)"
    )
    window_hours: int = Field(default=4, description="Hours before the winner is chosen (1-168)")
    confidence: int = Field(default=95, description="90, 95 or 99 (percent)")
    min_sample: int = Field(
        default=30, description="Fewest delivered emails per subject before a winner is called"
    )


class SubjectTestOut(Schema):
    ab_test_id: UUID
    status: str = Field(description="draft, waiting, picking, sending, done or cancelled")
    subject_a: str
    subject_b: str
    metric: str
    share_percent: int
    window_hours: int
    confidence: int
    min_sample: int
    winner: str = Field(description="The variant that won (blank: none, or not decided yet)")
    sent_variant: str = Field(description="The variant everyone else gets (blank: not decided)")
    summary: str = Field(description="The outcome in plain words")


class SequenceStepOut(Schema):
    id: UUID
    position: int
    wait_days: int
    wait_hours: int
    condition: str
    template_id: UUID | None
    subject: str
    body: str
    waiting: int = Field(0, description="Contacts waiting for this step now")
    sent: int = 0
    skipped: int = 0
    failed: int = Field(0, description="Not sent (a placeholder had no value)")
    opened: int = 0
    clicked: int = 0
    replied: int = 0
    bounced: int = 0
    subject_test: SubjectTestOut | None = Field(
        None, description="A second subject line under A/B test (none: no test)"
    )

    @staticmethod
    def resolve_subject_test(obj) -> dict | None:
        if isinstance(obj, dict):  # already dumped (the sequence's detail)
            return obj.get("subject_test")
        return subject_test_out(obj)


class ExitCount(Schema):
    reason: str
    label: str
    count: int


class SequenceOut(Schema):
    id: UUID
    name: str
    status: str
    campaign_id: UUID | None
    goal_kind: str
    goal_value: str
    exit_on_reply: bool
    segment_id: UUID | None
    keep_enrolling: bool
    last_problem: str = Field(description="Why the last send could not start (blank: none)")
    created_at: datetime
    enrolled: int = 0
    active: int = 0
    completed: int = 0
    exited: int = 0


class SequenceDetailOut(SequenceOut):
    steps: list[SequenceStepOut]
    exits: list[ExitCount]


class EnrollIn(In):
    contact_id: UUID | None = None
    email: str | None = Field(
        default=None,
        max_length=254,
        description="Found among the contacts, or added as a new contact (no consent assumed)",
    )


class SegmentEnrollIn(In):
    # Optional here so another organization's sequence answers 404 before the body is judged.
    segment_id: UUID | None = None


class SegmentEnrollOut(Schema):
    enrolled: int
    already_enrolled: int
    no_email: int


class EnrollmentOut(Schema):
    id: UUID
    contact_id: UUID
    email: str
    status: str
    exit_reason: str
    position: int = Field(description="The step that comes next")
    next_step_at: datetime | None
    enrolled_at: datetime
    finished_at: datetime | None
    source: str
    created: bool = Field(False, description="False when the contact was already enrolled")


class EnrollmentPageOut(Schema):
    items: list[EnrollmentOut]

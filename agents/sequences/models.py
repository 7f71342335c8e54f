"""Drip sequences: emails sent over time to each enrolled contact, with waits, conditions and exits.

A ``Sequence`` has ordered ``SequenceStep`` rows.  Each contact enrolled in it has one
``Enrollment`` (never two in the same sequence) that says which step comes next and when;
the minute engine (``agents.sequences.engine``) takes the due ones, sends the step through the
Email agent's ``send`` (so the compliance gate, suppressions, the outbox and tracking apply)
and records what it did to each contact as an ``EnrollmentStep``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from neonhub.core.models import BaseModel, Organization


class SequenceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class GoalKind(models.TextChoices):
    NONE = "none", "No goal"
    CLICKED = "clicked", "Clicked a link containing…"
    TAG = "tag", "Got a tag…"


class Sequence(BaseModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sequences"
    )
    name = models.CharField(max_length=200)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sequences",
    )
    status = models.CharField(
        max_length=16, choices=SequenceStatus.choices, default=SequenceStatus.DRAFT
    )
    goal_kind = models.CharField(max_length=16, choices=GoalKind.choices, default=GoalKind.NONE)
    # The text the clicked link contains, or the tag's name.
    goal_value = models.CharField(max_length=500, blank=True, default="")
    exit_on_reply = models.BooleanField(default=True)
    segment = models.ForeignKey(
        "segments.Segment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sequences",
    )
    # Enrol the segment's new matches at every run of the engine while the sequence is active.
    keep_enrolling = models.BooleanField(default=False)
    # The Email agent run (its lineage) whose "Write a sequence" created this draft: a Retry of
    # that run finds it instead of making a second one.
    source_run_id = models.UUIDField(null=True, blank=True)
    # Why the engine could not send the last time it tried (blank once a send went through).
    last_problem = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="sequence_unique_org_name"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=SequenceStatus.values), name="sequence_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(goal_kind__in=GoalKind.values), name="sequence_goal_valid"
            ),
        ]
        indexes = [
            # The engine's "active sequences" and the list page's filter.
            models.Index(fields=["organization", "status"], name="sequence_org_status"),
            # The campaign page's fragment: sequences of one campaign.
            models.Index(fields=["campaign"], name="sequence_campaign"),
            # generate-sequence: the draft its run lineage made.
            models.Index(fields=["organization", "source_run_id"], name="sequence_source_run"),
        ]

    def __str__(self) -> str:
        return self.name


class StepCondition(models.TextChoices):
    ALWAYS = "always", "Always"
    OPENED = "opened", "Opened the previous email"
    NOT_OPENED = "not_opened", "Did not open the previous email"
    CLICKED = "clicked", "Clicked in the previous email"
    NOT_CLICKED = "not_clicked", "Did not click in the previous email"
    REPLIED = "replied", "Replied to the previous email"
    NOT_REPLIED = "not_replied", "Did not reply to the previous email"


class SequenceStep(BaseModel):
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    # 1, 2, 3…; kept dense by the services (no unique constraint: moving a step swaps two).
    position = models.PositiveSmallIntegerField()
    # After the previous step was taken (or after enrolling, for the first step).
    wait_days = models.PositiveSmallIntegerField(default=0)
    wait_hours = models.PositiveSmallIntegerField(default=0)
    condition = models.CharField(
        max_length=16, choices=StepCondition.choices, default=StepCondition.ALWAYS
    )
    template = models.ForeignKey(
        "mailtemplates.EmailTemplate",
        null=True,
        blank=True,
        # A template in use is not deleted (the templates page says which sequence uses it).
        on_delete=models.PROTECT,
        related_name="sequence_steps",
    )
    subject = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField(blank=True, default="")
    # A second subject line under test: variant A is this step as written, B the same email
    # with the test's other subject (see ``agents.sequences.engine``).
    ab_test = models.OneToOneField(
        "agents.ABTest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sequence_step",
    )

    class Meta:
        ordering = ["sequence", "position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(condition__in=StepCondition.values),
                name="sequencestep_condition_valid",
            ),
        ]
        indexes = [models.Index(fields=["sequence", "position"], name="seqstep_sequence_pos")]

    def __str__(self) -> str:
        return f"Step {self.position} of {self.sequence_id}"

    @property
    def wait_hours_total(self) -> int:
        return self.wait_days * 24 + self.wait_hours


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "In the sequence"
    COMPLETED = "completed", "Completed"
    EXITED = "exited", "Left early"


class ExitReason(models.TextChoices):
    REPLIED = "replied", "Replied"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed or no consent"
    GOAL = "goal", "Reached the goal"
    BOUNCED = "bounced", "Email bounced"
    REMOVED = "removed", "Removed by a person"
    NO_EMAIL = "no_email", "No email address"


class EnrollmentSource(models.TextChoices):
    SEGMENT = "segment", "Segment"
    TRIGGER = "trigger", "Trigger"
    PERSON = "person", "Person"
    API = "api", "API"


class Enrollment(BaseModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="enrollments")
    contact = models.ForeignKey(
        "audience.Contact", on_delete=models.CASCADE, related_name="sequence_enrollments"
    )
    status = models.CharField(
        max_length=16, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    exit_reason = models.CharField(
        max_length=16, choices=ExitReason.choices, blank=True, default=""
    )
    # The position of the step that comes next (1 = the first).
    position = models.PositiveSmallIntegerField(default=1)
    next_step_at = models.DateTimeField(null=True, blank=True)
    # When the previous step was taken (or the contact enrolled): the next step's wait counts
    # from here, so editing a step's wait moves ``next_step_at`` of those waiting for it.
    waiting_since = models.DateTimeField(default=timezone.now)
    enrolled_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=EnrollmentSource.choices)
    # Set by the engine inside the transaction that takes the step (a conditional UPDATE): the
    # rows it set are the ones this worker owns; cleared before that transaction commits.
    claim = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "contact"], name="enrollment_unique_sequence_contact"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=EnrollmentStatus.values),
                name="enrollment_status_valid",
            ),
        ]
        indexes = [
            # The engine: due enrollments of a sequence, by step.
            models.Index(
                fields=["sequence", "status", "next_step_at"],
                name="enrollment_due",
            ),
            # The funnel: how many wait at each step.
            models.Index(fields=["sequence", "status", "position"], name="enrollment_funnel"),
            models.Index(fields=["contact"], name="enrollment_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.sequence_id} ({self.status})"


class StepOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped (condition not met)"
    FAILED = "failed", "Not sent"


class EnrollmentStep(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="taken")
    step = models.ForeignKey(SequenceStep, on_delete=models.CASCADE, related_name="taken")
    outcome = models.CharField(max_length=16, choices=StepOutcome.choices)
    # The Email agent run that sent it (one run per step per chunk of recipients).
    run_id = models.UUIDField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "step"], name="enrollmentstep_unique_step"
            ),
        ]
        indexes = [
            # Per-step counts on the sequence page.
            models.Index(fields=["step", "outcome"], name="enrollmentstep_step_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} step {self.step_id} for {self.enrollment_id}"

"""API schemas of A/B tests: separate In and Out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from neonhub.core.schemas import In


class VariantIn(In):
    subject: str = Field(default="", max_length=300)
    body: str = Field(default="", max_length=50_000, description="Plain text with {{placeholders}}")
    template_id: UUID | None = Field(
        default=None, description="An email template instead of the body"
    )


class ABTestIn(In):
    name: str = Field(min_length=1, max_length=200)
    campaign_id: UUID | None = None
    segment_id: UUID | None = Field(default=None, description="The audience: a segment…")
    list_id: UUID | None = Field(default=None, description="…or a contact list")
    variants: list[VariantIn] = Field(min_length=2, max_length=5)
    metric: Literal["opens", "clicks"] = "opens"
    share_percent: int = Field(default=20, ge=5, le=50, description="The test share, in %")
    window_hours: int = Field(default=4, ge=1, le=168, description="Hours before choosing")
    confidence: Literal[90, 95, 99] = 95
    min_sample: int = Field(
        default=30,
        ge=1,
        le=100000,
        description="Fewest delivered emails per variant before a winner can be called",
    )
    no_winner: Literal["leader", "manual"] = Field(
        default="leader",
        description="No clear winner: send the leading variant, or wait for pick-winner",
    )


class PickIn(In):
    # Optional here so another organization's test answers 404 before the body is judged;
    # the service refuses a missing or unknown variant (422 on "variant").
    variant: str | None = Field(default=None, max_length=8, description="A variant's key: A, B, …")


class VariantOut(Schema):
    key: str
    subject: str
    body: str
    template_id: str | None = None


class VariantResultOut(Schema):
    key: str
    sent: int
    delivered: int
    opened: int
    clicked: int
    open_rate: float
    click_rate: float


class ResultOut(Schema):
    metric: str = ""
    variants: list[VariantResultOut] = []
    leader: str = ""
    winner: str = ""
    outcome: str = Field(default="", description="winner, no_clear_winner or not_enough_data")
    p_value: float | None = None
    confidence: float | None = Field(default=None, description="1 - p (Bonferroni-adjusted)")
    confidence_needed: int | None = None
    sent_variant: str = Field(default="", description="The variant that went to the rest")
    rest_sent: int | None = None
    summary: str = ""
    error: str = ""


class SplitOut(Schema):
    eligible: int = 0
    test: int = 0
    rest: int = 0
    per_variant: dict[str, int] = {}
    skipped: dict[str, int] = {}


class ABTestOut(Schema):
    id: UUID
    name: str
    status: str
    campaign_id: UUID | None
    segment_id: UUID | None
    list_id: UUID | None = Field(alias="contact_list_id")
    variants: list[VariantOut]
    metric: str
    share_percent: int
    window_hours: int
    confidence: int
    min_sample: int
    no_winner: str
    winner: str
    created_at: datetime
    started_at: datetime | None
    window_ends_at: datetime | None
    decided_at: datetime | None
    completed_at: datetime | None


class ABTestDetailOut(ABTestOut):
    split: SplitOut
    result: ResultOut


class ABTestPageOut(Schema):
    items: list[ABTestOut]
    next_cursor: str | None

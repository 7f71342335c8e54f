"""The API's shapes for published posts and their numbers."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Schema
from pydantic import Field


class PostOut(Schema):
    id: UUID
    platform: str
    connector_id: UUID | None
    provider_post_id: str
    url: str
    run_id: UUID | None
    published_at: datetime
    sandbox: bool
    campaign_id: str
    metrics: dict[str, int | float] = Field(
        description="The current numbers (the newest collection that went through); "
        "only what the platform reports"
    )
    metrics_collected_at: datetime | None


class PostPageOut(Schema):
    items: list[PostOut]
    next_cursor: str | None


class CollectionOut(Schema):
    checkpoint: str = Field(description="1 hour, 24 hours, 7 days or 30 days after publishing")
    hours_after: int
    due_at: datetime
    status: str = Field(description="due, collected, skipped or failed")
    collected_at: datetime | None
    note: str = Field(description="Why it waits, was skipped or failed")
    metrics: dict[str, int | float]


class PostMetricsOut(Schema):
    post_id: UUID
    platform: str
    collections: list[CollectionOut]


class ChannelOut(Schema):
    platform: str
    posts: int
    posts_with_numbers: int
    metrics: dict[str, int | float] = Field(description="The sum of each post's current numbers")


class PostQuery(Schema):
    platform: str | None = Field(default=None, max_length=40)
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class ChannelQuery(Schema):
    platform: str | None = Field(default=None, max_length=40)
    days: int | None = Field(default=None, ge=1, le=3650, description="Posts of the last N days")

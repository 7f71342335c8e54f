"""The JSON shapes of the mail app: the organization's email tracking settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class EmailTrackingSettings(BaseModel):
    """What is tracked in the organization's emails; each can be switched off, for privacy."""

    model_config = ConfigDict(extra="forbid")

    opens: bool = Field(
        default=True, description="Put an invisible 1x1 image in each HTML email to see opens"
    )
    clicks: bool = Field(
        default=True,
        description="Send links through a signed redirect on this site to see clicks",
    )
    utm: bool = Field(
        default=True,
        description="Add utm_source, utm_medium, utm_campaign and utm_content to links",
    )
    utmSource: str = Field(default="neonhub", max_length=100, description="The utm_source value")
    utmMedium: str = Field(default="email", max_length=100, description="The utm_medium value")

    @field_validator("utmSource", "utmMedium")
    @classmethod
    def _plain(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty (it names where the visits came from)")
        if any(ord(c) < 32 for c in value):
            raise ValueError("must be one line of text")
        return value

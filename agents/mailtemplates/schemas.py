"""API schemas of email templates: separate In and Out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from neonhub.core.schemas import In

LayoutName = Literal["newsletter", "announcement", "letter", "product"]


class ContentIn(In):
    heading: str = Field(default="", max_length=200, description="The big title")
    body: str = Field(
        default="", max_length=20_000, description="The text, in Markdown; {{placeholders}} allowed"
    )
    image_url: str = Field(default="", max_length=2000, description="https:// address of a picture")
    image_alt: str = Field(default="", max_length=300, description="What the picture shows")
    button_label: str = Field(default="", max_length=80, description="Empty: no button")
    button_url: str = Field(default="", max_length=2000, description="Where the button goes")
    footer: str = Field(default="", max_length=1000, description="Address, reason for the email")


class TemplateIn(In):
    name: str = Field(min_length=1, max_length=200, description="Unique in the organization")
    layout: LayoutName = Field(default="letter", description="The starter layout")
    subject: str = Field(default="", max_length=300)
    preheader: str = Field(default="", max_length=200, description="The inbox preview line")
    content: ContentIn | None = Field(
        default=None, description="The fields the layout shows; omitted: the layout's sample text"
    )
    advanced: bool = Field(default=False, description="Compile `mjml` instead of the layout")
    mjml: str = Field(default="", max_length=200_000, description="MJML source (advanced mode)")


class TemplatePatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    layout: LayoutName | None = None
    subject: str | None = Field(default=None, max_length=300)
    preheader: str | None = Field(default=None, max_length=200)
    content: ContentIn | None = Field(default=None, description="Replaces all content fields")
    advanced: bool | None = None
    mjml: str | None = Field(default=None, max_length=200_000)


class RenderIn(In):
    layout: LayoutName = "letter"
    subject: str = Field(default="", max_length=300)
    preheader: str = Field(default="", max_length=200)
    content: ContentIn | None = None
    advanced: bool = False
    mjml: str = Field(default="", max_length=200_000)
    values: dict[str, str | int | float] = Field(
        default_factory=dict,
        description="Placeholder values to fill; omitted: placeholders kept as written",
    )


class TemplateOut(Schema):
    id: UUID
    name: str
    layout: str
    subject: str
    preheader: str
    content: dict[str, str]
    advanced: bool
    mjml: str
    created_at: datetime
    updated_at: datetime


class TemplatePageOut(Schema):
    items: list[TemplateOut]
    next_cursor: str | None


class CompiledOut(Schema):
    subject: str
    html: str = Field(description="Responsive HTML")
    text: str = Field(description="The generated plain-text part")
    missing: list[str] = Field(
        default_factory=list, description="Placeholders with no value and no default"
    )
    warnings: list[str] = Field(
        default_factory=list, description="Placeholders no contact field or attribute fills"
    )


class LayoutOut(Schema):
    name: str
    label: str
    description: str

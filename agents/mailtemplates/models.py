"""Email templates: responsive layouts with ``{{variables}}``, written in MJML.

A template is compiled to HTML (MJML, through mjml-python) with its placeholders kept; the
Email agent's ``send`` fills them per recipient.  The plain-text part is generated from the
HTML.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from neonhub.core.models import BaseModel, Organization


class Layout(models.TextChoices):
    """The starter layouts (``agents/mailtemplates/layouts/<value>.mjml``)."""

    NEWSLETTER = "newsletter", "Newsletter"
    ANNOUNCEMENT = "announcement", "Announcement with button"
    LETTER = "letter", "Plain letter"
    PRODUCT = "product", "Product highlight with image"


class EmailTemplate(BaseModel):
    """A marketer fills ``content`` (heading, body in Markdown, image, button, footer) and the
    ``layout`` places it; with ``advanced`` on, ``mjml`` is the whole source instead and the
    content fields are not used (they are kept, so switching back loses nothing).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="email_templates"
    )
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=300, blank=True, default="")
    # The line mail clients show after the subject.
    preheader = models.CharField(max_length=200, blank=True, default="")
    layout = models.CharField(max_length=32, choices=Layout.choices, default=Layout.LETTER)
    # {"heading", "body" (Markdown), "image_url", "image_alt", "button_label", "button_url",
    # "footer"}: every value a string, any may hold {{placeholders}}.
    content = models.JSONField(default=dict, blank=True)
    advanced = models.BooleanField(default=False)
    mjml = models.TextField(blank=True, default="")
    # The run lineage of the Email agent's write-template that created it: a retried run finds
    # its template again instead of writing a second one.
    written_by_run = models.UUIDField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="emailtemplate_unique_org_name"
            ),
            models.CheckConstraint(
                condition=models.Q(layout__in=[c.value for c in Layout]),
                name="emailtemplate_layout_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

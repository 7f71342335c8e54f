"""Email templates: responsive layouts with ``{{variables}}``, written in MJML.

A template is compiled to HTML (MJML, through mjml-python) with its placeholders kept; the
Email agent's ``send`` fills them per recipient.  The plain-text part is generated from the
HTML.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from neonhub.core.models import BaseModel, Organization


class EmailTemplate(BaseModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="email_templates"
    )
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=300, blank=True, default="")
    # The line mail clients show after the subject.
    preheader = models.CharField(max_length=200, blank=True, default="")
    mjml = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="emailtemplate_unique_org_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

"""Segments: saved, dynamic filters on an organization's contacts.

``rules`` is ``{"match": "all" | "any", "conditions": [...]}``; a segment's contacts are
worked out when they are asked for, so a contact who matches later is in it then.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from neonhub.core.models import BaseModel, Organization


class Segment(BaseModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="segments"
    )
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True, default="")
    rules = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="segment_unique_org_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

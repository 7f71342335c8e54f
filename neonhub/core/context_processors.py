from __future__ import annotations

from django.http import HttpRequest


def organization(request: HttpRequest) -> dict:
    principal = getattr(request, "principal", None)
    return {
        "principal": principal,
        "organization": principal.organization if principal else None,
        "memberships": getattr(request, "memberships", []),
    }

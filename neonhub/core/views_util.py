from __future__ import annotations

from functools import wraps

from django.shortcuts import render


def organization_required(view):
    """Pages need an organization; a user with none sees why instead of an error."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "principal", None) is None:
            return render(request, "no_organization.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper

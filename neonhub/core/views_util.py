from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from neonhub.core.errors import InvalidInput, NotFound

T = TypeVar("T")


def organization_required(view):
    """Pages need an organization; a user with none sees why instead of an error.

    A page's look-up that raises ``NotFound`` (an unknown id, or another organization's) is
    the 404 page with its message, as the API maps it to its 404 answer.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "principal", None) is None:
            return render(request, "no_organization.html", status=403)
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return not_found(request, exc.message)

    return wrapper


def page_or_first(fetch: Callable[..., T], *, cursor: str | None, **kwargs: Any) -> T:
    """The page at ``cursor``; a cursor mangled in a shared link gives the first page instead."""
    try:
        return fetch(cursor=cursor, **kwargs)
    except InvalidInput:
        return fetch(**kwargs)


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "403.html", {"message": message}, status=403)


def not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "404.html", {"message": message}, status=404)

"""Who is calling, and for which organization.

Both the API (bearer keys or the browser session) and the pages resolve the caller to a
``Principal``: an organization plus a role.  Every selector and service then takes
``principal.organization``.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth as NinjaSessionAuth

from neonhub.core import logcontext
from neonhub.core import scopes as scope_set
from neonhub.core.errors import NotFound, PermissionDenied
from neonhub.core.models import MANAGE_ROLES, WRITE_ROLES, ApiKey, Organization
from neonhub.core.ratelimit import RateLimited, rate_limit_hit
from neonhub.core.selectors import api_key_authenticate
from neonhub.core.views_util import forbidden, not_found

# "write": owners, admins and members (viewers read only); "manage": owners and admins.
Role = Literal["write", "manage"]
REFUSALS: dict[str, str] = {
    "write": "Your role in this organization can read but not change anything",
    "manage": "Only owners and admins of this organization can do this",
}


@dataclass(frozen=True)
class Principal:
    organization: Organization
    role: str
    user: object | None = None
    api_key: ApiKey | None = None

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def can_manage(self) -> bool:
        return self.role in MANAGE_ROLES

    def may(self, role: Role) -> bool:
        return self.can_manage if role == "manage" else self.can_write

    def require(self, role: Role) -> None:
        if not self.may(role):
            raise PermissionDenied(REFUSALS[role])

    @property
    def user_id(self):
        return getattr(self.user, "pk", None)


class ApiKeyBearer(HttpBearer):
    """A bearer API key.  Checked in order: the key (401), its rate limit (429), the scope the
    operation needs (403).  ``neonhub/api.py`` sets ``request.neonhub_scope`` for every
    operation of its routers before this runs; an operation without one lets no key through.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        key = api_key_authenticate(token=token)
        if key is None:
            return None
        decision = rate_limit_hit(key=key)
        request.neonhub_rate = decision  # NeonHubAPI.create_response adds the headers
        if not decision.allowed:
            raise RateLimited(
                f"This API key's rate limit ({decision.limit} requests per window) is spent; "
                f"retry in {decision.retry_after} s",
                decision=decision,
            )
        scope = getattr(request, "neonhub_scope", None)
        if scope is None:
            raise PermissionDenied("This operation is not open to API keys")
        if scope not in scope_set.effective_scopes(role=key.role, scopes=key.scopes):
            raise PermissionDenied(
                f"This API key lacks the scope {scope}", details={"missing_scope": scope}
            )
        principal = Principal(organization=key.organization, role=key.role, api_key=key)
        request.principal = principal
        logcontext.bind(organization_id=key.organization_id, api_key_id=key.id)
        return principal


class SessionAuth(NinjaSessionAuth):
    """The browser session, with the organization chosen in the session (CSRF checked)."""

    def _get_key(self, request: HttpRequest) -> str | None:
        # CSRF protects a logged-in browser session.  Without one there is nothing to forge,
        # and a caller whose bearer key failed (revoked, expired, unknown) must hear 401, not
        # Ninja's "CSRF check Failed" 403.
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        if not request.user.is_authenticated:
            return None
        return getattr(request, "principal", None)


# --- one check per role, for API operations and pages -----------------------------------------
#
# A write names its object by id in the path; the object is looked up first, so another
# organization's id answers 404 whatever the caller's role (a 403 would tell that it exists),
# then the role is checked, then the operation or page gets the object instead of the id.


def _id_keyword(find: Callable[..., Any]) -> str:
    """The id a selector such as ``batch_get(*, organization, batch_id)`` takes: the path
    parameter of the same name carries it."""
    (name,) = (n for n in inspect.signature(find).parameters if n != "organization")
    return name


def _found(find: Callable[..., Any] | None, key: str, organization, kwargs: dict) -> tuple:
    if find is None:
        return ()
    return (find(organization=organization, **{key: kwargs.pop(key)}),)


def _api_signature(func: Callable[..., Any], key: str) -> inspect.Signature:
    """What ninja reads to parse the request: the operation's own parameters, resolved here
    (ninja would resolve string annotations in this module), with the path id (``key``,
    a UUID) in place of the object the operation receives."""
    signature = inspect.signature(func, eval_str=True)
    params = list(signature.parameters.values())
    if key:
        path_id = inspect.Parameter(
            key, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=uuid.UUID
        )
        params[1:2] = [path_id]
    return signature.replace(parameters=params)


SCOPE_ATTRIBUTE = "neonhub_scope"


def scoped(scope: str):
    """The API key scope an operation needs, when its router's default is not right (see
    ``neonhub/api.py``: routers give reads their read scope, writes their write scope)."""
    if scope not in scope_set.ALL:
        raise ValueError(f"Unknown API key scope {scope!r}")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        setattr(func, SCOPE_ATTRIBUTE, scope)
        return func

    return decorate


def requires(
    role: Role = "write", *, find: Callable[..., Any] | None = None, scope: str | None = None
):
    """An API operation that changes something: a role that may not answers 403 FORBIDDEN.

    With ``find`` (a selector taking the organization and one id), the path's id is looked up
    first and the operation receives the object as its second argument.  ``scope``: the API key
    scope it needs when not its router's write scope (as ``scoped``).
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        key = _id_keyword(find) if find else ""
        if scope is not None:
            scoped(scope)(func)

        @wraps(func)
        def operation(request: HttpRequest, **kwargs: Any) -> Any:
            principal = request.auth
            found = _found(find, key, principal.organization, kwargs)
            principal.require(role)
            return func(request, *found, **kwargs)

        operation.__signature__ = _api_signature(func, key)  # type: ignore[attr-defined]
        return operation

    return decorate


def page_requires(
    role: Role,
    denied: str,
    *,
    find: Callable[..., Any] | None = None,
    methods: tuple[str, ...] = ("POST",),
    reads: tuple[str, ...] = (),
):
    """A page that changes something, checked in this order: the object the URL names
    (``find``, as in ``requires``; another organization's id is the 404 page), the method
    (not in ``methods``: 405), the role (the 403 page: "Your role in this organization can
    <denied>.", or for ``manage`` "Only owners and admins of this organization can <denied>.").
    Methods in ``reads`` (a form page's GET) skip the role check.
    """
    who = {
        "write": "Your role in this organization",
        "manage": "Only owners and admins of this organization",
    }[role]
    message = f"{who} can {denied}."

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        key = _id_keyword(find) if find else ""

        @wraps(view)
        def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            principal = request.principal
            try:
                found = _found(find, key, principal.organization, kwargs)
            except NotFound as exc:
                return not_found(request, exc.message)
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            if request.method not in reads and not principal.may(role):
                return forbidden(request, message)
            return view(request, *found, *args, **kwargs)

        return page

    return decorate

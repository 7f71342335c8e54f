"""The JSON API root: one NinjaAPI, routers mounted by dotted path, errors mapped once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from neonhub import openapi
from neonhub.core import scopes
from neonhub.core.auth import SCOPE_ATTRIBUTE, ApiKeyBearer, SessionAuth
from neonhub.core.errors import NeonHubError

logger = logging.getLogger(__name__)


class NeonHubAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """``<tag>_<verb>`` (``runs_list``, ``runs_get``), never the module path: moving code
        must not change the contract a frontend generates its client from. An operation may
        still pass its own ``operation_id=``."""
        tags = operation.tags or ["api"]
        return openapi.operation_id(tags[0], operation.view_func.__name__)

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Ninja's document plus the contract of neonhub/openapi.py: the error answers of every
        operation, agent/intent enums and one typed body per intent for ``POST /runs``."""
        from agents.registry import all_agents

        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        openapi.add_error_responses(schema)
        openapi.add_agent_contract(schema, all_agents())
        return schema

    def create_response(self, request, data, *args, **kwargs) -> HttpResponse:
        response = super().create_response(request, data, *args, **kwargs)
        # A bearer key's rate-limit window, on every answer to it (429 included).
        decision = getattr(request, "neonhub_rate", None)
        if decision is not None:
            for name, value in decision.headers().items():
                response[name] = value
        return response


api = NeonHubAPI(
    title="NeonHub API",
    version="1.0.0",
    description="Run marketing agents, manage connectors and read every run's record. "
    "Authenticate with `Authorization: Bearer <api key>` or the browser session.",
    auth=[ApiKeyBearer(), SessionAuth()],
    urls_namespace="api",
    # Served from ninja's static files ("ninja" is in INSTALLED_APPS), never a CDN: the docs
    # work offline. No validator badge: it would call validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
)

ROUTERS = [
    # agents.api adds the run writes (start, cancel, retry) to the runs router: import it first.
    ("/agents", "agents.api.agents_router"),
    ("/runs", "runs.api.router"),
    ("/connectors", "connectors.api.router"),
    # Running an action records a run, so it lives in agents; same prefix, different paths.
    ("/connectors", "agents.api.connector_actions_router"),
    ("/triggers", "agents.automation.api.triggers_router"),
    ("/schedules", "agents.automation.api.schedules_router"),
    ("/contacts", "agents.audience.api.contacts_router"),
    ("/contact-lists", "agents.audience.api.lists_router"),
    ("/batches", "agents.automation.api.batches_router"),
    ("/calendar", "agents.automation.api.calendar_router"),
    ("/recipes", "agents.automation.api.recipes_router"),
    ("/members", "neonhub.core.api_team.members_router"),
    ("/invitations", "neonhub.core.api_team.invitations_router"),
    ("/settings", "agents.api.settings_router"),
    ("/api-keys", "neonhub.core.api.api_keys_router"),
    ("/posts", "agents.analytics.api.posts_router"),
    ("/alerts", "neonhub.alerts.api.rules_router"),
    ("/alert-destinations", "neonhub.alerts.api.destinations_router"),
    ("/campaigns", "agents.campaigns.api.router"),
    ("/email-templates", "agents.mailtemplates.api.router"),
    ("/segments", "agents.segments.api.router"),
    ("/ab-tests", "agents.abtests.api.router"),
    ("/sequences", "agents.sequences.api.router"),
]

# The API key scope each router's operations need: (reads, writes).  An operation names its
# own with ``requires(..., scope=...)`` or ``scoped(...)``; one with neither on a router not
# listed here has no scope, so no key may call it (and tests/neonhub/test_scopes.py fails).
ROUTER_SCOPES: dict[str, tuple[str | None, str | None]] = {
    "agents.api.agents_router": ("runs:read", "runs:write"),
    "runs.api.router": ("runs:read", "runs:write"),
    "connectors.api.router": ("connectors:read", "connectors:manage"),
    "agents.api.connector_actions_router": ("connectors:read", "connectors:write"),
    "agents.automation.api.triggers_router": ("automation:read", "automation:write"),
    "agents.automation.api.schedules_router": ("automation:read", "automation:write"),
    "agents.automation.api.batches_router": ("automation:read", "automation:write"),
    "agents.audience.api.contacts_router": ("contacts:read", "contacts:write"),
    "agents.audience.api.lists_router": ("contacts:read", "contacts:write"),
    "agents.automation.api.calendar_router": ("calendar:read", None),
    "agents.automation.api.recipes_router": ("automation:read", "automation:write"),
    "neonhub.core.api.api_keys_router": ("keys:manage", "keys:manage"),
    "neonhub.core.api_team.members_router": ("members:read", "members:manage"),
    "neonhub.core.api_team.invitations_router": ("members:read", "members:manage"),
    "agents.api.settings_router": ("settings:read", "settings:manage"),
    "agents.analytics.api.posts_router": ("analytics:read", None),
    "neonhub.alerts.api.rules_router": ("alerts:read", "alerts:manage"),
    "neonhub.alerts.api.destinations_router": ("alerts:read", "alerts:manage"),
    "agents.campaigns.api.router": ("campaigns:read", "campaigns:write"),
    "agents.mailtemplates.api.router": ("campaigns:read", "campaigns:write"),
    "agents.segments.api.router": ("campaigns:read", "campaigns:write"),
    "agents.abtests.api.router": ("campaigns:read", "campaigns:write"),
    "agents.sequences.api.router": ("campaigns:read", "campaigns:write"),
}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SCOPE_EXTENSION = "x-neonhub-scope"


def operation_scope(operation, defaults: tuple[str | None, str | None]) -> str | None:
    """The scope an operation needs: its own, else its router's for reads or writes."""
    own = getattr(operation.view_func, SCOPE_ATTRIBUTE, None)
    if own is not None:
        return own
    reads = set(operation.methods) <= READ_METHODS
    return defaults[0] if reads else defaults[1]


def _scope_gate(defaults: tuple[str | None, str | None]) -> Callable:
    """A router "view" decorator: says which scope the operation needs, to the bearer-key
    check (``request.neonhub_scope``) and in the OpenAPI document (``x-neonhub-scope``)."""

    def decorate(run: Callable) -> Callable:
        operation = run.__self__  # the bound operation ninja is wrapping
        scope = operation_scope(operation, defaults)
        if scope is not None:
            if scope not in scopes.ALL:
                raise ValueError(f"{operation.view_func.__name__}: unknown scope {scope!r}")
            operation.openapi_extra = {**(operation.openapi_extra or {}), SCOPE_EXTENSION: scope}

        @wraps(run)
        def scoped_run(request: HttpRequest, *args, **kwargs):
            request.neonhub_scope = scope
            return run(request, *args, **kwargs)

        return scoped_run

    return decorate


def _mount() -> None:
    from django.utils.module_loading import import_string

    for prefix, path in ROUTERS:
        router = import_string(path)
        router.add_decorator(_scope_gate(ROUTER_SCOPES.get(path, (None, None))), mode="view")
        api.add_router(prefix, router)


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


@api.exception_handler(NeonHubError)
def _domain_error(request: HttpRequest, exc: NeonHubError) -> HttpResponse:
    return api.create_response(
        request, error_body(exc.code, exc.message, exc.details), status=exc.status
    )


def _location(loc) -> str:
    parts = [str(p) for p in loc]
    # Ninja prefixes body fields with ("body", "<param name>"); the user knows neither.
    if len(parts) >= 2 and parts[0] == "body":
        parts = parts[2:] or parts[1:]
    elif parts and parts[0] in ("query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [
        {"field": _location(e.get("loc", ())), "message": e.get("msg", "invalid")}
        for e in exc.errors
    ]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return api.create_response(
        request, error_body("INVALID_INPUT", f"Invalid request: {summary}", details), status=422
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        error_body("UNAUTHENTICATED", "Send 'Authorization: Bearer <api key>' or log in"),
        status=401,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = openapi.HTTP_ERROR_CODES.get(exc.status_code, openapi.FALLBACK_CODE)
    return api.create_response(request, error_body(code, str(exc)), status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # The form fields of an upload (not its file) over DATA_UPLOAD_MAX_MEMORY_SIZE.
    return api.create_response(
        request, error_body("PAYLOAD_TOO_LARGE", "The form fields are too large"), status=413
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body("NOT_FOUND", "Not found"), status=404)


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled API error on %s %s", request.method, request.path)
    return api.create_response(
        request, error_body("INTERNAL", "Internal error; it has been logged"), status=500
    )


_mount()

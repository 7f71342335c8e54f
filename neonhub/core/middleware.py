from __future__ import annotations

import re
import tempfile
import uuid

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone

from neonhub.core import logcontext
from neonhub.core.auth import Principal
from neonhub.core.selectors import membership_list_for_user
from neonhub.core.team import two_factor_required

SESSION_ORG_KEY = "neonhub_org"


def _too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {
            "error": {
                "code": "PAYLOAD_TOO_LARGE",
                "message": f"Request body is larger than {limit} bytes",
                "details": None,
            }
        },
        status=413,
    )


class BodySizeLimitMiddleware:
    """Answer 413 for a body over the limit, whatever its content type, before anything reads it.

    A declared ``Content-Length`` is checked at once.  A body without one (chunked transfer
    encoding) is read here, when the server says its input ends (``wsgi.input_terminated``,
    as gunicorn sets it), up to one byte past the limit into a spooled file that Django then
    parses; without that flag Django reads such a body as empty, so there is nothing to limit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        limit = self.limit_for(request)
        declared = request.META.get("CONTENT_LENGTH")
        if not declared and request.META.get("wsgi.input_terminated"):
            if not self._spool_unsized_body(request, limit):
                return _too_large(limit)
            return self.get_response(request)
        try:
            length = int(declared or 0)
        except ValueError:
            length = 0
        # Webhook endpoints enforce their own (smaller) limit and record what they refuse.
        if length > limit and not request.path.startswith("/hooks/"):
            return _too_large(limit)
        return self.get_response(request)

    @staticmethod
    def _spool_unsized_body(request: HttpRequest, limit: int) -> bool:
        stream = request.META["wsgi.input"]
        spooled = tempfile.SpooledTemporaryFile(max_size=1_048_576)  # noqa: SIM115 - lives with the request
        size = 0
        while size <= limit:
            chunk = stream.read(min(65_536, limit + 1 - size))
            if not chunk:
                break
            spooled.write(chunk)
            size += len(chunk)
        if size > limit:
            spooled.close()
            return False
        spooled.seek(0)
        request.META["CONTENT_LENGTH"] = str(size)
        # WSGIRequest made its stream from the missing Content-Length (empty); hand it the
        # body that was read instead, so forms, files and JSON parse it as usual.
        request._stream = LimitedStream(spooled, size)
        return True

    @staticmethod
    def limit_for(request: HttpRequest) -> int:
        # Uploads (CSV imports) may be larger than other bodies; the path decides, never the
        # content type, or any body sent as multipart/form-data would get the upload limit.
        if request.path.endswith("/upload"):
            return settings.NEONHUB_MAX_UPLOAD_BYTES
        return settings.NEONHUB_MAX_BODY_BYTES


# A request id a proxy sends (X-Request-ID) is kept when it is plainly an id; anything else could
# forge a log line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class LogContextMiddleware:
    """Every log line of a request names it (its id, method and path without the query string);
    the organization is added once the request is authenticated (``logcontext.bind``).

    The context is cleared when the request begins and, through ``request_finished`` (connected
    in ``CoreConfig.ready``), once the response is closed: Django logs a 4xx or 5xx answer
    after the middleware returns, and that line keeps the ids.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        logcontext.clear()
        sent = request.headers.get("X-Request-ID", "")
        request_id = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        logcontext.bind(request_id=request_id, method=request.method, path=request.path)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class OrganizationMiddleware:
    """Resolve a logged-in user's current organization into ``request.principal``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.principal = None
        request.memberships = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = list(membership_list_for_user(user=user))
            request.memberships = memberships
            wanted = request.session.get(SESSION_ORG_KEY)
            chosen = next((m for m in memberships if str(m.organization_id) == wanted), None)
            chosen = chosen or (memberships[0] if memberships else None)
            if chosen is not None:
                request.principal = Principal(
                    organization=chosen.organization, role=chosen.role, user=user
                )
                logcontext.bind(organization_id=chosen.organization_id, user_id=user.pk)
                # Pages show times in the organization's timezone.
                with timezone.override(chosen.organization.tz):
                    return self.get_response(request)
        return self.get_response(request)


# Paths a member who must enrol in two-factor can still reach: enrolment itself, leaving,
# switching to another organization, and what is not the organization's (public hooks, health).
TWO_FACTOR_EXEMPT = (
    "/account/",
    "/login/",
    "/logout/",
    "/org/switch/",
    "/invitations/",
    "/password-reset/",
    "/static/",
    "/hooks/",
    "/healthz",
    "/metrics",
)


class TwoFactorRequiredMiddleware:
    """An organization that requires two-factor sends its members who have not signed in with
    a code to /account/ first (pages), or answers 403 TWO_FACTOR_REQUIRED (session API calls).
    API keys are not affected: a request with a bearer key is not a member's session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        principal = getattr(request, "principal", None)
        if (
            principal is not None
            and principal.user is not None
            and not request.path.startswith(TWO_FACTOR_EXEMPT)
            and not request.headers.get("Authorization")
            and two_factor_required(organization=principal.organization)
            and not _verified(request.user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "error": {
                            "code": "TWO_FACTOR_REQUIRED",
                            "message": f"{principal.organization.name} requires two-factor "
                            "sign-in: set it up on /account/",
                            "details": None,
                        }
                    },
                    status=403,
                )
            return redirect("account")
        return self.get_response(request)


def _verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())

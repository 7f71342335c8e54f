from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from neonhub.core.auth import Principal
from neonhub.core.selectors import membership_list_for_user

SESSION_ORG_KEY = "neonhub_org"


class BodySizeLimitMiddleware:
    """Answer 413 for a declared body over the limit, before anything reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = self.limit_for(request)
        # Webhook endpoints enforce their own (smaller) limit and record what they refuse.
        if length > limit and not request.path.startswith("/hooks/"):
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
        return self.get_response(request)

    @staticmethod
    def limit_for(request: HttpRequest) -> int:
        # Uploads (CSV imports) may be larger than JSON bodies.
        if request.path.endswith("/upload") or request.content_type == "multipart/form-data":
            return getattr(settings, "NEONHUB_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
        return settings.NEONHUB_MAX_BODY_BYTES


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
                # Pages show times in the organization's timezone.
                with timezone.override(chosen.organization.tz):
                    return self.get_response(request)
        return self.get_response(request)

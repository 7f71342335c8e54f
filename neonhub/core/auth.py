"""Who is calling, and for which organization.

Both the API (bearer keys or the browser session) and the pages resolve the caller to a
``Principal``: an organization plus a role.  Every selector and service then takes
``principal.organization``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth as NinjaSessionAuth

from neonhub.core.errors import PermissionDenied
from neonhub.core.models import MANAGE_ROLES, WRITE_ROLES, ApiKey, Organization
from neonhub.core.selectors import api_key_authenticate


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

    def require_write(self) -> None:
        if not self.can_write:
            raise PermissionDenied(
                "Your role in this organization can read but not change anything"
            )

    def require_manage(self) -> None:
        if not self.can_manage:
            raise PermissionDenied("Only owners and admins of this organization can do this")

    @property
    def user_id(self):
        return getattr(self.user, "pk", None)


class ApiKeyBearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        key = api_key_authenticate(token=token)
        if key is None:
            return None
        principal = Principal(organization=key.organization, role=key.role, api_key=key)
        request.principal = principal
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

"""One domain error hierarchy, mapped once to HTTP answers in ``neonhub/api.py``.

``code`` is the stable error code of DESIGN.md (also stored on failed runs); ``status`` is
the HTTP answer when the error reaches the API; ``transient`` says whether a run failing
with it may be retried; ``defers`` marks a wait NeonHub decided on itself before anything went
out (quiet hours, an outbound budget): the run is queued again for when it ends without using
up one of its attempts.
"""

from __future__ import annotations

from typing import Any


class NeonHubError(Exception):
    code = "INTERNAL"
    status = 500
    transient = False
    defers = False

    def __init__(self, message: str = "", *, details: Any = None, context: dict | None = None):
        super().__init__(message or self.default_message())
        self.message = (message or self.default_message())[:500]
        self.details = details
        self.context = context or {}

    def default_message(self) -> str:
        return self.code.replace("_", " ").capitalize()

    @classmethod
    def for_field(cls, field: str, message: str, *, summary: str = "", **kwargs: Any):
        """The error about one field: ``details`` names it (API answers and forms show it there);
        the message is ``summary`` or "<field>: <message>"."""
        return cls(
            summary or f"{field}: {message}",
            details=[{"field": field, "message": message}],
            **kwargs,
        )


class InvalidInput(NeonHubError):
    code = "INVALID_INPUT"
    status = 422


class UnsupportedIntent(NeonHubError):
    code = "UNSUPPORTED_INTENT"
    status = 422


class AgentNotRegistered(NeonHubError):
    code = "AGENT_NOT_REGISTERED"
    status = 422


class NotFound(NeonHubError):
    code = "NOT_FOUND"
    status = 404


class PermissionDenied(NeonHubError):
    code = "FORBIDDEN"
    status = 403


class Conflict(NeonHubError):
    code = "CONFLICT"
    status = 409


class ConnectorMissing(NeonHubError):
    code = "CONNECTOR_MISSING"
    status = 422


class ConnectorError(NeonHubError):
    """A classified failure of an outside call.

    ``provider_code`` is the provider's own error code, ``http_status`` the HTTP status of
    the answer (``None`` when no answer came), ``retry_after`` seconds the provider asked
    us to wait.
    """

    status = 502

    def __init__(
        self,
        message: str = "",
        *,
        provider: str = "",
        action: str = "",
        http_status: int | None = None,
        provider_code: str | None = None,
        retry_after: float | None = None,
        **kwargs: Any,
    ):
        super().__init__(message[:200] if message else "", **kwargs)
        self.provider = provider
        self.action = action
        self.http_status = http_status
        self.provider_code = provider_code
        self.retry_after = retry_after

    def as_context(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "action": self.action,
            "http_status": self.http_status,
            "provider_error_code": self.provider_code,
            "retry_after": self.retry_after,
        }


class ConnectorAuth(ConnectorError):
    code = "CONNECTOR_AUTH"


class ConnectorRateLimited(ConnectorError):
    code = "CONNECTOR_RATE_LIMITED"
    status = 429
    transient = True


class BudgetSpent(ConnectorRateLimited):
    """The connector's own outbound budget is spent: nothing was sent, the run waits."""

    defers = True


class ConnectorUnavailable(ConnectorError):
    code = "CONNECTOR_UNAVAILABLE"
    status = 503
    transient = True


class ConnectorRejected(ConnectorError):
    code = "CONNECTOR_REJECTED"
    status = 422


class OutcomeUnknown(ConnectorError):
    """The request left but no answer came back (read timeout): it may have happened."""

    code = "TIMEOUT"
    status = 504


class PolicyBlocked(NeonHubError):
    code = "POLICY_BLOCKED"
    status = 422


class RunTimeout(NeonHubError):
    code = "TIMEOUT"
    status = 504
    transient = True


class Cancelled(NeonHubError):
    code = "CANCELLED"
    status = 409


class WorkerLost(NeonHubError):
    code = "WORKER_LOST"
    transient = True

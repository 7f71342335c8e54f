from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from agents.selectors import approvals_waiting_count
from agents.views import agent_catalog


def agents(request: HttpRequest) -> dict:
    """``agent_catalog`` for any template (the run list's agent filter), built only when used,
    and ``approvals_waiting`` (the nav's count of runs awaiting approval), counted only when a
    page shows it.

    Pages in ``runs`` cannot import the agent registry; the template asks for it instead.
    """

    principal = getattr(request, "principal", None)

    def waiting() -> str:
        """ "" when none wait, else the count ("99+" past 99)."""
        if principal is None:
            return ""
        n = approvals_waiting_count(organization=principal.organization, cap=99)
        return "" if n == 0 else ("99+" if n > 99 else str(n))

    return {"agent_catalog": agent_catalog, "approvals_waiting": SimpleLazyObject(waiting)}

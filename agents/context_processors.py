from __future__ import annotations

from django.http import HttpRequest

from agents.views import agent_catalog


def agents(request: HttpRequest) -> dict:
    """``agent_catalog`` for any template (the run list's agent filter), built only when used.

    Pages in ``runs`` cannot import the agent registry; the template asks for it instead.
    """

    return {"agent_catalog": agent_catalog}

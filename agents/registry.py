"""Agents by slug, as dotted paths imported on first use.

Aliases of the original system resolve too: ``support``, ``support-agent``, ``SupportAgent``.
"""

from __future__ import annotations

import re
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from agents.base import Agent
from neonhub.core.errors import AgentNotRegistered

AGENTS: dict[str, str] = {
    "ads": "agents.library.ads.AdsAgent",
    "connector": "agents.library.connector.ConnectorAgent",
    "content": "agents.library.content.ContentAgent",
    "email": "agents.library.email.EmailAgent",
    "messaging": "agents.library.messaging.MessagingAgent",
    "seo": "agents.library.seo.SEOAgent",
    "social": "agents.library.social.SocialAgent",
    "support": "agents.library.support.SupportAgent",
}


def all_paths() -> dict[str, str]:
    return {**AGENTS, **getattr(settings, "NEONHUB_EXTRA_AGENTS", {})}


def normalize(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", (name or "").lower())
    return key[: -len("agent")] if key.endswith("agent") and key != "agent" else key


@cache
def _load(path: str) -> Agent:
    return import_string(path)()


def get_agent(name: str) -> Agent:
    paths = all_paths()
    slug = normalize(name)
    if slug not in paths:
        known = ", ".join(sorted(paths))
        raise AgentNotRegistered.for_field(
            "agent",
            f"unknown agent, expected one of: {known}",
            summary=f"No agent named {name!r}; registered agents: {known}",
        )
    return _load(paths[slug])


def all_agents() -> list[Agent]:
    return [_load(path) for _, path in sorted(all_paths().items())]

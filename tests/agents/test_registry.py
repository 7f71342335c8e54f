from __future__ import annotations

import pytest

from agents.registry import AGENTS, all_paths, get_agent, normalize
from neonhub.core.errors import AgentNotRegistered, InvalidInput, UnsupportedIntent


@pytest.mark.parametrize(
    "name,slug",
    [
        ("support", "support"),
        ("support-agent", "support"),
        ("SupportAgent", "support"),
        ("SEOAgent", "seo"),
        ("email-agent", "email"),
        ("Content_Agent", "content"),
    ],
)
def test_normalize_accepts_the_originals_aliases(name, slug):
    assert normalize(name) == slug


def test_every_registered_agent_imports_and_declares_intents():
    for slug, path in all_paths().items():
        agent = get_agent(slug)
        assert agent.slug == slug, path
        assert agent.intents, path
        for spec in agent.intents.values():
            assert spec.json_schema()["type"] == "object"
    assert "support" in AGENTS


def test_unknown_agent_lists_the_known_ones():
    with pytest.raises(AgentNotRegistered) as info:
        get_agent("nope")
    assert "support" in info.value.message


def test_validate_rejects_non_objects_and_unknown_intents():
    agent = get_agent("support")
    with pytest.raises(InvalidInput):
        agent.validate("triage", ["not", "an", "object"])
    with pytest.raises(UnsupportedIntent):
        agent.validate("nope", {})

"""Objects of another organization, by the URL parameter name that carries their id.

The tenant-isolation tests walk every URL route; a route with a parameter missing here
fails the test, so a new endpoint cannot skip the check.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.factories import AgentRunFactory

def _connector(org):
    from connectors.models import Connector

    return Connector.objects.create(organization=org, provider="twilio_sms", name="Foreign", mode="sandbox").id


FOREIGN_OBJECTS: dict[str, Callable] = {
    "run_id": lambda org: AgentRunFactory(organization=org).id,
    "connector_id": _connector,
}

# Parameters that are not object ids (an action name, a token) get a plain value.
PLAIN_VALUES: dict[str, str] = {"action": "send_sms", "token": "not-a-valid-token"}

# Public endpoints that providers call without logging in (webhooks).  They identify the
# organization by the connector or trigger in the URL and prove themselves by signature;
# tests/triggers/test_webhooks.py checks that each answers 404 for an unknown id.
PUBLIC_PREFIXES: tuple[str, ...] = ("hooks/",)

"""Objects of another organization, by the URL parameter name that carries their id.

The tenant-isolation tests walk every URL route; a route with a parameter missing here
fails the test, so a new endpoint cannot skip the check.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.factories import AgentRunFactory

FOREIGN_OBJECTS: dict[str, Callable] = {
    "run_id": lambda org: AgentRunFactory(organization=org).id,
}

# Parameters that are not object ids (an action name, a token) get a plain value.
PLAIN_VALUES: dict[str, str] = {"action": "send_sms", "token": "not-a-valid-token"}

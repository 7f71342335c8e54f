"""Objects of another organization, by the URL parameter name that carries their id.

The tenant-isolation tests walk every URL route; a route with a parameter missing here
fails the test, so a new endpoint cannot skip the check.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.factories import AgentRunFactory


def _connector(org):
    from connectors.models import Connector

    return Connector.objects.create(
        organization=org, provider="twilio_sms", name="Foreign", mode="sandbox"
    ).id


def _trigger(org):
    from agents.automation.models import Trigger

    return Trigger.objects.create(
        organization=org, name="Foreign", source="generic", agent="support", intent="triage"
    ).id


def _schedule(org):
    from agents.automation.models import RecurringSchedule

    return RecurringSchedule.objects.create(
        organization=org, name="Foreign", agent="support", intent="triage", cron="0 9 * * 2"
    ).id


def _contact(org):
    from agents.audience.models import Contact

    return Contact.objects.create(organization=org, phone="+14155550199").id


def _contact_list(org):
    from agents.audience.models import ContactList

    return ContactList.objects.create(organization=org, name="Foreign").id


def _batch(org):
    from agents.automation.models import Batch

    return Batch.objects.create(
        organization=org, name="Foreign", agent="support", intent="triage", source="json"
    ).id


def _import(org):
    """A CSV another organization uploaded and has not confirmed yet."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save(
        f"imports/{org.pk}/{'f' * 32}.csv", ContentFile(b"phone\n+14155550100\n")
    )
    return name.rsplit("/", 1)[-1].removesuffix(".csv")


FOREIGN_OBJECTS: dict[str, Callable] = {
    "run_id": lambda org: AgentRunFactory(organization=org).id,
    "connector_id": _connector,
    "trigger_id": _trigger,
    "schedule_id": _schedule,
    "contact_id": _contact,
    "list_id": _contact_list,
    "batch_id": _batch,
    "import_id": _import,
}

# Parameters that are not object ids (an action name, a token) get a plain value.
PLAIN_VALUES: dict[str, str] = {"action": "send_sms", "token": "not-a-valid-token"}

# Public endpoints that providers call without logging in (webhooks).  They identify the
# organization by the connector or trigger in the URL and prove themselves by signature;
# tests/agents/automation/test_webhooks.py checks that each answers 404 for an unknown id.
PUBLIC_PREFIXES: tuple[str, ...] = ("hooks/",)

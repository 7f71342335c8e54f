"""What depends on a connector, as automation and the run record know it (installed into
``connectors.hooks`` at start-up, so the connector page and its delete confirmation name it).

- triggers tied to the connector: deleted with it (their foreign key cascades);
- triggers of its provider's events for any connector: keep working for the provider's other
  connectors; this one's webhook URLs answer 404;
- schedules and active batches whose payload names the connector (``connector_id``): their
  next runs fail, the connector being gone;
- runs queued or running that name it: they fail when they reach it.
"""

from __future__ import annotations

from django.urls import reverse

from agents.automation.models import Batch, BatchStatus, Recipe, RecurringSchedule, Trigger
from agents.automation.sources import source_provider
from connectors.hooks import DependentItem, Dependents
from connectors.models import Connector
from runs.models import ACTIVE_STATUSES, AgentRun

SHOWN = 10


def connector_dependents_find(connector: Connector) -> list[Dependents]:
    org, key = connector.organization_id, str(connector.pk)

    def trigger_item(t):
        return DependentItem(t.name, reverse("automation:trigger-edit", args=[t.pk]))

    tied = list(Trigger.objects.filter(organization_id=org, connector=connector).order_by("name"))
    shared = [
        t
        for t in Trigger.objects.filter(organization_id=org, connector__isnull=True).order_by(
            "name"
        )
        if source_provider(t.source) == connector.provider
    ]
    schedules = list(
        RecurringSchedule.objects.filter(organization_id=org, payload__connector_id=key).order_by(
            "name"
        )
    )
    batches = list(
        Batch.objects.filter(
            organization_id=org,
            defaults__connector_id=key,
            status__in=[BatchStatus.RUNNING, BatchStatus.PAUSED],
        ).order_by("-created_at")
    )
    recipes = list(Recipe.objects.filter(organization_id=org, connector=connector, enabled=True))
    runs = list(
        AgentRun.objects.filter(
            organization_id=org, status__in=ACTIVE_STATUSES, input__connector_id=key
        ).order_by("-created_at")[:100]
    )
    groups = [
        Dependents(
            "Triggers tied to it",
            "Deleted with the connector.",
            len(tied),
            [trigger_item(t) for t in tied[:SHOWN]],
        ),
        Dependents(
            f"Triggers for any {connector.provider} connector",
            "Kept: they go on firing for the provider's other connectors; this connector's "
            "webhook URLs answer 404.",
            len(shared),
            [trigger_item(t) for t in shared[:SHOWN]],
        ),
        Dependents(
            "Recipes switched on for it",
            "Switched off: choose another shop in their settings to switch them on again.",
            len(recipes),
            [
                DependentItem(r.get_kind_display(), reverse("automation:recipe-edit", args=[r.pk]))
                for r in recipes[:SHOWN]
            ],
        ),
        Dependents(
            "Schedules that name it",
            "Kept, but their next runs fail: the connector they name is gone. Edit or delete them.",
            len(schedules),
            [
                DependentItem(s.name, reverse("automation:schedule-edit", args=[s.pk]))
                for s in schedules[:SHOWN]
            ],
        ),
        Dependents(
            "Batches still going that name it",
            "Their remaining inputs fail. Cancel them first if that is not what you want.",
            len(batches),
            [
                DependentItem(b.name, reverse("automation:batch-detail", args=[b.pk]))
                for b in batches[:SHOWN]
            ],
        ),
        Dependents(
            "Runs queued or running that name it",
            "They fail when they reach the connector.",
            len(runs),
            [
                DependentItem(f"Run {str(r.pk)[:8]}", reverse("runs:detail", args=[r.pk]))
                for r in runs[:SHOWN]
            ],
        ),
    ]
    return [g for g in groups if g.count]

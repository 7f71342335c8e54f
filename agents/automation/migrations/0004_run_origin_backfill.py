"""Runs started before a run's origin was a column get it from the links that existed then.

- batch: the ``BatchItem`` that links the run; for a run whose batch was deleted since, its
  idempotency key ``batch:<batch id>:<index>``.
- schedule: the key ``schedule:<schedule id>:<occurrence>`` that every schedule run has had,
  then ``RecurringSchedule.last_run`` for any left.  (``scheduled:<run id>`` keys are scheduled
  publishes, whose origin is their ``parent``.)
- delivery: the earliest ``WebhookDelivery`` that links the run.  Deliveries pruned after the
  retention period are gone, so older webhook runs stay without one.

Keys are read only for runs with the matching trigger: an API caller's Idempotency-Key may
look the same.  This reads automation's rows, so it lives with them; it writes only runs.
"""

import uuid

from django.db import migrations
from django.db.models import OuterRef, Subquery

CHUNK = 2000


def _from_keys(AgentRun, *, trigger, prefix, field):
    """Set ``field`` from the id after ``prefix`` in the keys of ``trigger`` runs, by pk chunks."""
    runs = AgentRun.objects.filter(
        trigger=trigger, idempotency_key__startswith=prefix, **{f"{field}__isnull": True}
    ).order_by("pk")
    last = None
    while True:
        chunk = runs.filter(pk__gt=last) if last is not None else runs
        rows = list(chunk.values_list("pk", "idempotency_key")[:CHUNK])
        if not rows:
            return
        by_origin = {}
        for pk, key in rows:
            try:
                origin = uuid.UUID(key[len(prefix) :].split(":", 1)[0])
            except ValueError:
                continue  # not a key this app wrote
            by_origin.setdefault(origin, []).append(pk)
        for origin, pks in by_origin.items():
            AgentRun.objects.filter(pk__in=pks).update(**{field: origin})
        last = rows[-1][0]


def backfill(apps, schema_editor):
    AgentRun = apps.get_model("runs", "AgentRun")
    BatchItem = apps.get_model("triggers", "BatchItem")
    RecurringSchedule = apps.get_model("triggers", "RecurringSchedule")
    WebhookDelivery = apps.get_model("triggers", "WebhookDelivery")

    item = BatchItem.objects.filter(run_id=OuterRef("pk")).values("batch_id")[:1]
    AgentRun.objects.filter(trigger="batch", batch_id__isnull=True).update(
        batch_id=Subquery(item)
    )
    _from_keys(AgentRun, trigger="batch", prefix="batch:", field="batch_id")

    _from_keys(AgentRun, trigger="schedule", prefix="schedule:", field="schedule_id")
    for schedule_id, run_id in RecurringSchedule.objects.filter(
        last_run__isnull=False
    ).values_list("pk", "last_run_id"):
        AgentRun.objects.filter(pk=run_id, trigger="schedule", schedule_id__isnull=True).update(
            schedule_id=schedule_id
        )

    first = (
        WebhookDelivery.objects.filter(run_id=OuterRef("pk")).order_by("created_at").values("pk")
    )
    AgentRun.objects.filter(trigger="webhook", delivery_id__isnull=True).update(
        delivery_id=Subquery(first[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0004_run_origin"),
        ("triggers", "0003_trigger_source_from_registry"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]

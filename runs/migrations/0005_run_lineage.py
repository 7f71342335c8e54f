"""AgentRun.lineage_id: the first run of a run's lineage, which keys its side effects.

Existing runs each start their own lineage, not their retry chain's: until now every run keyed
its outbox rows by its own id, so what an old run delivered is found only under that id.  A
Retry of an old run must therefore continue from that run's key space; taking the chain's first
run instead would miss what the retried run itself sent, and send it again.  The chain stays
readable through ``parent``.
"""

from django.db import migrations, models
from django.db.models import F


def each_run_its_own_lineage(apps, schema_editor):
    AgentRun = apps.get_model("runs", "AgentRun")
    AgentRun.objects.filter(lineage_id__isnull=True).update(lineage_id=F("id"))


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0004_run_origin"),
    ]

    operations = [
        migrations.AddField(
            model_name="agentrun",
            name="lineage_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(each_run_its_own_lineage, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="agentrun",
            name="lineage_id",
            field=models.UUIDField(editable=False),
        ),
        migrations.AddIndex(
            model_name="agentrun",
            index=models.Index(
                fields=["lineage_id", "-created_at", "-id"], name="run_lineage_created"
            ),
        ),
    ]

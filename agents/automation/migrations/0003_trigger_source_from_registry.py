"""Trigger sources come from the provider registry: no choices, no check constraint, so a
provider that adds an event needs no migration.  Generic triggers move to Standard Webhooks;
those that exist now keep the old X-NeonHub-Signature scheme for 90 days.
"""

from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone

LEGACY_WINDOW = timedelta(days=90)


def legacy_window_open(apps, schema_editor):
    Trigger = apps.get_model("triggers", "Trigger")
    Trigger.objects.filter(source="generic").update(
        legacy_signatures_until=timezone.now() + LEGACY_WINDOW
    )


class Migration(migrations.Migration):

    dependencies = [
        ("triggers", "0002_audience_models_moved"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="trigger",
            name="trigger_source_valid",
        ),
        migrations.AlterField(
            model_name="trigger",
            name="source",
            field=models.CharField(max_length=40),
        ),
        migrations.AddField(
            model_name="trigger",
            name="legacy_signatures_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        # Going back leaves nothing to undo: the column goes with the AddField above.
        migrations.RunPython(legacy_window_open, migrations.RunPython.noop),
    ]

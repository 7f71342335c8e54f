"""Deliveries are paged by the keyset (created_at, id): the list's indexes end in the id."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("triggers", "0004_run_origin_backfill"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="webhookdelivery",
            name="delivery_trigger_created",
        ),
        migrations.RemoveIndex(
            model_name="webhookdelivery",
            name="delivery_org_status",
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(
                fields=["organization", "-created_at", "-id"], name="delivery_org_created"
            ),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(
                fields=["trigger", "-created_at", "-id"], name="delivery_trigger_created"
            ),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(
                fields=["organization", "status", "-created_at", "-id"], name="delivery_org_status"
            ),
        ),
    ]

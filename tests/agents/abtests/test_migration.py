"""Tests written by the old ab-test intent keep their variants, keyed A, B, ..."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("agents", "0001_initial")]
AFTER = [("agents", "0002_abtest_audience_metric_status")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_old_tests_get_keyed_variants_and_keep_their_campaign_text():
    try:
        old = _migrate(BEFORE)
        org = old.get_model("core", "Organization").objects.create(slug="acme", name="Acme")
        old.get_model("agents", "ABTest").objects.create(
            organization=org,
            campaign_id="spring",
            name="Old",
            variants=[
                {"variantId": "variant_0", "subject": "S0", "body": "B0"},
                {"variantId": "variant_1", "subject": "S1", "body": "B1"},
            ],
        )
        new = _migrate(AFTER)
        test = new.get_model("agents", "ABTest").objects.get()
        assert test.campaign_label == "spring" and test.status == "draft"
        assert test.variants == [
            {"key": "A", "subject": "S0", "body": "B0", "template_id": None},
            {"key": "B", "subject": "S1", "body": "B1", "template_id": None},
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

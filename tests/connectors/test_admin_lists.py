from __future__ import annotations

import pytest

from tests.factories import (
    ConnectorFactory,
    OrganizationFactory,
    OutboundMessageFactory,
    SuppressionFactory,
)
from tests.helpers import assert_same_queries_for_5_and_50

pytestmark = pytest.mark.django_db


def test_connector_changelists_do_not_grow_with_rows(admin_client, django_assert_num_queries):
    org = OrganizationFactory()

    def connectors(n):
        ConnectorFactory.create_batch(n, organization=org)

    resp = assert_same_queries_for_5_and_50(
        admin_client,
        "/admin/connectors/connector/?health=healthy",
        connectors,
        django_assert_num_queries,
    )
    assert "sandbox" in resp.content.decode()

    def outbox(n):
        OutboundMessageFactory.create_batch(n, organization=org, status="sent")

    assert_same_queries_for_5_and_50(
        admin_client, "/admin/connectors/outboundmessage/", outbox, django_assert_num_queries
    )

    def suppressions(n):
        SuppressionFactory.create_batch(n, organization=org)

    assert_same_queries_for_5_and_50(
        admin_client, "/admin/connectors/suppression/", suppressions, django_assert_num_queries
    )

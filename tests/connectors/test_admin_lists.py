from __future__ import annotations

import uuid

import pytest

from tests.factories import OrganizationFactory
from tests.helpers import assert_same_queries_for_5_and_50

pytestmark = pytest.mark.django_db


def test_connector_changelists_do_not_grow_with_rows(admin_client, django_assert_num_queries):
    from connectors.models import OutboundMessage
    from connectors.services import connector_create
    from connectors.suppressions import suppression_add

    org = OrganizationFactory()

    def connectors(n):
        for _ in range(n):
            connector_create(
                organization=org, provider="fake", name=f"c-{uuid.uuid4()}", mode="sandbox"
            )

    resp = assert_same_queries_for_5_and_50(
        admin_client,
        "/admin/connectors/connector/?health=healthy",
        connectors,
        django_assert_num_queries,
    )
    assert "sandbox" in resp.content.decode()

    def outbox(n):
        for _ in range(n):
            OutboundMessage.objects.create(
                organization=org,
                provider="fake",
                action="send",
                idempotency_key=str(uuid.uuid4()),
                status="sent",
            )

    assert_same_queries_for_5_and_50(
        admin_client, "/admin/connectors/outboundmessage/", outbox, django_assert_num_queries
    )

    def suppressions(n):
        for _ in range(n):
            suppression_add(
                organization=org,
                channel="email",
                address=f"{uuid.uuid4().hex[:10]}@example.com",
                reason="test",
                source="staff",
            )

    assert_same_queries_for_5_and_50(
        admin_client, "/admin/connectors/suppression/", suppressions, django_assert_num_queries
    )

from __future__ import annotations

import uuid

import pytest

from neonhub.core.models import ApiKey, Membership, Role
from neonhub.core.services import api_key_create
from tests.factories import MembershipFactory, OrganizationFactory
from tests.helpers import assert_same_queries_for_5_and_50

pytestmark = pytest.mark.django_db


def test_organization_changelist_queries_do_not_grow_with_rows(
    admin_client, django_assert_num_queries
):
    def make(n):
        for org in OrganizationFactory.create_batch(n):
            MembershipFactory.create_batch(2, organization=org)

    resp = assert_same_queries_for_5_and_50(
        admin_client, "/admin/core/organization/", make, django_assert_num_queries
    )
    assert '<td class="field-member_count">2</td>' in resp.content.decode()


def test_api_key_and_membership_changelists_do_not_grow_with_rows(
    admin_client, django_assert_num_queries
):
    org = OrganizationFactory()

    def keys(n):
        for i in range(n):
            api_key_create(organization=org, name=f"key {uuid.uuid4()}", role=Role.MEMBER)

    assert_same_queries_for_5_and_50(
        admin_client, "/admin/core/apikey/", keys, django_assert_num_queries
    )

    def members(n):
        MembershipFactory.create_batch(n, organization=org)

    assert_same_queries_for_5_and_50(
        admin_client, "/admin/core/membership/", members, django_assert_num_queries
    )


def test_organization_page_has_members_and_keys_inline_without_secrets(admin_client):
    org = OrganizationFactory()
    MembershipFactory(organization=org, role=Role.VIEWER)
    created = api_key_create(organization=org, name="ci key", role=Role.MEMBER)
    page = admin_client.get(f"/admin/core/organization/{org.pk}/change/").content.decode()
    assert "ci key" in page and created.api_key.prefix in page
    assert created.token not in page and created.api_key.hashed_secret not in page
    assert "Memberships" in page or "memberships" in page


def test_revoke_action(admin_client):
    org = OrganizationFactory()
    key = api_key_create(organization=org, name="old", role=Role.MEMBER).api_key
    resp = admin_client.post(
        "/admin/core/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    key.refresh_from_db()
    assert key.revoked_at is not None and "1 key(s) revoked." in resp.content.decode()
    assert ApiKey.objects.count() == 1


def test_membership_admin_lists_users_and_roles(admin_client):
    member = MembershipFactory(role=Role.ADMIN)
    page = admin_client.get("/admin/core/membership/").content.decode()
    assert member.user.username in page and Membership.objects.count() == 1


def test_the_admin_revokes_through_the_service_and_the_audit_log(admin_client, org):
    from neonhub.core.models import AuditEvent
    from neonhub.core.services import api_key_create

    key = api_key_create(organization=org, name="leaked").api_key
    admin_client.post("/admin/core/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    event = AuditEvent.objects.get(action="api_key.revoke", target_id=str(key.pk))
    assert event.actor_user is not None and event.actor_user.is_staff
    # Nothing else about a key is edited in the admin (it would bypass the audit log).
    page = admin_client.get(f"/admin/core/apikey/{key.pk}/change/")
    assert page.status_code == 200 and 'name="role"' not in page.content.decode()

"""/members and /invitations: reads for every role, writes for owners and admins."""

from __future__ import annotations

import pytest
from django.core import mail

from neonhub.core.models import AuditEvent, Invitation, Membership, Role
from neonhub.core.services import api_key_create
from tests.conftest import ApiClient
from tests.factories import InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _api(client, org, role):
    return ApiClient(client, api_key_create(organization=org, name=role, role=role).token)


@pytest.fixture
def admin_api(client, org):
    return _api(client, org, Role.ADMIN)


@pytest.fixture
def owner_api(client, org):
    return _api(client, org, Role.OWNER)


def test_members_are_listed_for_every_role(viewer_api, org, owner):
    resp = viewer_api.get("/members")
    assert resp.status_code == 200
    (row,) = resp.json()
    assert row["email"] == owner.email and row["role"] == "owner"
    assert viewer_api.get(f"/members/{row['id']}").json()["email"] == owner.email


def test_changing_a_role_needs_manage_and_keeps_the_last_owner(
    admin_api, owner_api, viewer_api, org, owner
):
    member = MembershipFactory(organization=org, role=Role.MEMBER)
    assert viewer_api.patch(f"/members/{member.pk}", {"role": "admin"}).status_code == 403
    resp = admin_api.patch(f"/members/{member.pk}", {"role": "viewer"})
    assert resp.status_code == 200 and resp.json()["role"] == "viewer"
    assert admin_api.patch(f"/members/{member.pk}", {"role": "owner"}).status_code == 403
    bad = admin_api.patch(f"/members/{member.pk}", {"role": "king"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "role"
    mine = Membership.objects.get(user=owner)
    resp = owner_api.patch(f"/members/{mine.pk}", {"role": "admin"})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "CONFLICT"
    assert owner_api.delete(f"/members/{mine.pk}").status_code == 409
    assert owner_api.delete(f"/members/{member.pk}").status_code == 204
    assert not Membership.objects.filter(pk=member.pk).exists()
    actor = AuditEvent.objects.get(action="member.remove").actor
    assert actor.startswith("API key owner")


def test_another_organizations_member_is_404(owner_api, other_org):
    foreign = MembershipFactory(organization=other_org, role=Role.MEMBER)
    assert owner_api.patch(f"/members/{foreign.pk}", {"role": "viewer"}).status_code == 404
    assert owner_api.delete(f"/members/{foreign.pk}").status_code == 404
    assert owner_api.get(f"/members/{foreign.pk}").status_code == 404


def test_invitations_are_created_listed_resent_and_revoked(admin_api, api, org, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert api.post("/invitations", {"email": "e@example.com"}).status_code == 403
    bad = admin_api.post("/invitations", {"email": "nope", "role": "member"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "email"
    resp = admin_api.post("/invitations", {"email": "e@example.com", "role": "viewer"})
    assert resp.status_code == 201
    body = resp.json()
    assert body["state"] == "pending" and "token" not in str(body) and len(mail.outbox) == 1
    again = admin_api.post("/invitations", {"email": "e@example.com", "role": "viewer"})
    assert again.status_code == 409
    assert [i["email"] for i in api.get("/invitations").json()] == ["e@example.com"]
    assert admin_api.post(f"/invitations/{body['id']}/resend").status_code == 200
    assert len(mail.outbox) == 2
    assert admin_api.delete(f"/invitations/{body['id']}").status_code == 204
    assert Invitation.objects.get().revoked_at is not None
    assert api.get("/invitations").json() == []


def test_another_organizations_invitation_is_404(admin_api, other_org):
    foreign = InvitationFactory(organization=other_org)
    assert admin_api.delete(f"/invitations/{foreign.pk}").status_code == 404
    assert admin_api.post(f"/invitations/{foreign.pk}/resend").status_code == 404


def test_a_role_change_without_a_role_is_422_naming_it(admin_api, org):
    member = MembershipFactory(organization=org, role=Role.MEMBER)
    resp = admin_api.patch(f"/members/{member.pk}", {})
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "role"

"""The team: invitations (one-time, expiring links), roles, removal, and the Team page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from neonhub.core import team
from neonhub.core.auth import Principal
from neonhub.core.errors import Conflict, InvalidInput, PermissionDenied
from neonhub.core.models import AuditEvent, Invitation, Membership, Role
from tests.factories import InvitationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _principal(org, user, role=Role.OWNER):
    return Principal(organization=org, role=role, user=user)


def _link(message) -> str:
    return re.search(r"https?://\S+/invitations/(\S+)/", message.body).group(1)


@pytest.fixture
def settings_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


# --- invitations ------------------------------------------------------------------------------


def test_an_invitation_is_mailed_with_a_link_whose_token_is_stored_hashed(
    org, owner, settings_mail
):
    issued = team.invitation_create(
        principal=_principal(org, owner), email="Ann@Example.COM", role=Role.ADMIN
    )
    (message,) = mail.outbox
    assert message.to == ["Ann@example.com"]
    assert "Acme" in message.subject and "as admin" in message.body
    token = _link(message)
    invitation = Invitation.objects.get()
    assert invitation.token_hash != token and token not in str(invitation.__dict__)
    assert team.invitation_from_token(token=token) == invitation
    assert issued.url.endswith(f"/invitations/{token}/")
    event = AuditEvent.objects.get(action="invitation.create")
    assert event.changes == {"email": [None, "Ann@example.com"], "role": [None, "admin"]}
    assert token not in str(event.changes)


def test_a_new_person_accepts_once_with_a_password_the_validators_accept(org, owner, settings_mail):
    team.invitation_create(principal=_principal(org, owner), email="new@example.com", role="member")
    token = _link(mail.outbox[0])
    with pytest.raises(InvalidInput) as bad:
        team.invitation_accept_new_user(token=token, name="New Person", password="password")
    assert bad.value.details[0]["field"] == "password"
    user = team.invitation_accept_new_user(
        token=token, name="New Person", password="a-long-unusual-passphrase"
    )
    assert user.check_password("a-long-unusual-passphrase") and user.first_name == "New"
    assert Membership.objects.get(user=user, organization=org).role == Role.MEMBER
    assert AuditEvent.objects.filter(action="member.join", organization=org).exists()
    with pytest.raises(Conflict, match="already used"):
        team.invitation_accept_new_user(token=token, name="Again", password="x-long-password-2")


def test_an_expired_or_revoked_link_is_refused(org, owner):
    expired = InvitationFactory(organization=org, expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict, match="expired"):
        team.invitation_accept_new_user(
            token=_token(expired), name="N", password="a-long-unusual-passphrase"
        )
    revoked = InvitationFactory(organization=org)
    team.invitation_revoke(principal=_principal(org, owner), invitation=revoked)
    with pytest.raises(Conflict, match="withdrawn"):
        team.invitation_accept_new_user(
            token=_token(revoked), name="N", password="a-long-unusual-passphrase"
        )
    assert AuditEvent.objects.filter(action="invitation.revoke").count() == 1


def _token(invitation) -> str:
    # tests.factories.InvitationFactory's tokens are "invitation-<n>"; find n by its hash.
    import hashlib

    for n in range(100_000):
        if hashlib.sha256(f"invitation-{n}".encode()).hexdigest() == invitation.token_hash:
            return f"invitation-{n}"
    raise AssertionError("not a factory token")


def test_resending_replaces_the_link_and_the_expiry(org, owner, settings_mail):
    issued = team.invitation_create(
        principal=_principal(org, owner), email="a@example.com", role="viewer"
    )
    Invitation.objects.update(expires_at=timezone.now() + timedelta(minutes=1))
    old = _link(mail.outbox[0])
    team.invitation_resend(principal=_principal(org, owner), invitation=issued.invitation)
    new = _link(mail.outbox[1])
    assert old != new and team.invitation_from_token(token=old) is None
    invitation = team.invitation_from_token(token=new)
    assert invitation.expires_at > timezone.now() + timedelta(days=6)


def test_an_existing_user_accepts_only_as_the_invited_address(org, owner, other_org):
    invitation = InvitationFactory(organization=org, email="known@example.com", role=Role.VIEWER)
    someone_else = UserFactory()
    with pytest.raises(PermissionDenied, match="known@example.com"):
        team.invitation_accept(token=_token(invitation), user=someone_else)
    known = UserFactory(username="known@example.com")
    MembershipFactory(organization=other_org, user=known, role=Role.OWNER)
    membership = team.invitation_accept(token=_token(invitation), user=known)
    assert membership.organization == org and membership.role == Role.VIEWER
    # Their other organization is untouched.
    assert Membership.objects.get(user=known, organization=other_org).role == Role.OWNER


def test_an_invitation_of_another_organization_is_not_found(org, other_org):
    foreign = InvitationFactory(organization=other_org)
    with pytest.raises(team.NotFound):
        team.invitation_get(organization=org, invitation_id=foreign.pk)


def test_inviting_checks_email_role_members_and_pending_invitations(org, owner, settings_mail):
    p = _principal(org, owner)
    with pytest.raises(InvalidInput) as bad:
        team.invitation_create(principal=p, email="not-an-email", role="member")
    assert bad.value.details[0]["field"] == "email"
    with pytest.raises(InvalidInput):
        team.invitation_create(principal=p, email="a@example.com", role="king")
    with pytest.raises(Conflict, match="already a member"):
        team.invitation_create(principal=p, email=owner.email, role="member")
    team.invitation_create(principal=p, email="b@example.com", role="member")
    with pytest.raises(Conflict, match="pending invitation"):
        team.invitation_create(principal=p, email="B@example.com", role="member")


def test_a_failed_email_leaves_no_invitation(org, owner, settings, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(team, "send_mail", refuse)
    with pytest.raises(team.ConnectorUnavailable):
        team.invitation_create(
            principal=_principal(org, owner), email="c@example.com", role="member"
        )
    assert not Invitation.objects.exists() and not AuditEvent.objects.exists()


# --- roles and removal ------------------------------------------------------------------------


def test_the_last_owner_can_be_neither_demoted_nor_removed(org, owner):
    mine = Membership.objects.get(user=owner)
    p = _principal(org, owner)
    with pytest.raises(Conflict, match="needs an owner"):
        team.member_role_change(principal=p, membership=mine, role=Role.ADMIN)
    with pytest.raises(Conflict):
        team.member_remove(principal=p, membership=mine)
    second = MembershipFactory(organization=org, role=Role.OWNER)
    team.member_role_change(principal=p, membership=mine, role=Role.ADMIN)
    assert Membership.objects.get(pk=mine.pk).role == Role.ADMIN
    assert AuditEvent.objects.get(action="member.role_change").changes == {
        "role": ["owner", "admin"]
    }
    team.member_remove(principal=_principal(org, second.user), membership=mine)
    assert not Membership.objects.filter(pk=mine.pk).exists()
    assert AuditEvent.objects.filter(action="member.remove").exists()


def test_an_admin_neither_grants_nor_touches_ownership(org, owner):
    admin = MembershipFactory(organization=org, role=Role.ADMIN)
    member = MembershipFactory(organization=org, role=Role.MEMBER)
    p = _principal(org, admin.user, Role.ADMIN)
    with pytest.raises(PermissionDenied, match="Only an owner"):
        team.member_role_change(principal=p, membership=member, role=Role.OWNER)
    with pytest.raises(PermissionDenied, match="Only an owner"):
        team.member_remove(principal=p, membership=Membership.objects.get(user=owner))
    with pytest.raises(PermissionDenied):
        team.invitation_create(principal=p, email="x@example.com", role=Role.OWNER)
    team.member_role_change(principal=p, membership=member, role=Role.VIEWER)
    assert Membership.objects.get(pk=member.pk).role == Role.VIEWER


def test_members_and_viewers_change_nothing(org, owner, viewer):
    p = _principal(org, viewer, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        team.member_remove(principal=p, membership=Membership.objects.get(user=owner))
    with pytest.raises(PermissionDenied):
        team.invitation_create(principal=p, email="x@example.com", role=Role.VIEWER)


# --- pages ------------------------------------------------------------------------------------


def test_the_team_page_lists_members_and_invitations_with_actions_for_managers(
    client, org, owner, viewer
):
    InvitationFactory(organization=org, email="pending@example.com")
    client.force_login(owner)
    page = client.get("/settings/team/").content.decode()
    assert viewer.email in page and "pending@example.com" in page
    assert "Send invitation" in page and "Resend" in page and "Remove" in page
    assert "Require two-factor for members" in page
    assert "/settings/team/" in client.get("/settings/").content.decode()
    client.force_login(viewer)
    page = client.get("/settings/team/").content.decode()
    assert owner.email in page and "Send invitation" not in page and "Remove" not in page


def test_inviting_from_the_page_shows_errors_next_to_the_field(owner_client, org, settings_mail):
    resp = owner_client.post("/settings/team/invite/", {"email": "nope", "role": "member"})
    assert resp.status_code == 422
    assert 'id="invite-email-error"' in resp.content.decode()
    resp = owner_client.post("/settings/team/invite/", {"email": "d@example.com", "role": "admin"})
    assert resp.status_code == 302 and len(mail.outbox) == 1
    assert Invitation.objects.get().role == Role.ADMIN


def test_role_change_and_removal_from_the_page(owner_client, org, owner):
    member = MembershipFactory(organization=org, role=Role.MEMBER)
    resp = owner_client.post(f"/settings/team/members/{member.pk}/role/", {"role": "admin"})
    assert resp.status_code == 302
    assert Membership.objects.get(pk=member.pk).role == Role.ADMIN
    mine = Membership.objects.get(user=owner)
    resp = owner_client.post(f"/settings/team/members/{mine.pk}/remove/")
    assert resp.status_code == 409 and "needs an owner" in resp.content.decode()
    resp = owner_client.post(f"/settings/team/members/{member.pk}/remove/")
    assert resp.status_code == 302 and not Membership.objects.filter(pk=member.pk).exists()


def test_a_viewer_is_refused_and_foreign_ids_are_404(viewer_client, org, owner, other_org):
    mine = Membership.objects.get(user=owner)
    resp = viewer_client.post(f"/settings/team/members/{mine.pk}/role/", {"role": "viewer"})
    assert resp.status_code == 403
    foreign = MembershipFactory(organization=other_org)
    resp = viewer_client.post(f"/settings/team/members/{foreign.pk}/remove/")
    assert resp.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_the_accept_page_signs_a_new_person_up_and_into_the_organization(client, org):
    invitation = InvitationFactory(organization=org, email="fresh@example.com")
    url = f"/invitations/{_token(invitation)}/"
    page = client.get(url)
    assert page.status_code == 200 and "Join Acme" in page.content.decode()
    resp = client.post(url, {"name": "Fresh", "password": "short"})
    assert resp.status_code == 422 and 'id="id_password_error"' in resp.content.decode()
    resp = client.post(url, {"name": "Fresh Face", "password": "a-long-unusual-passphrase"})
    assert resp.status_code == 302
    home = client.get(resp["Location"])
    assert home.status_code == 200 and home.context["principal"].organization == org
    again = client.get(url)
    assert again.status_code == 410 and "already used" in again.content.decode()


def test_a_bad_link_says_so_without_a_500(client, org):
    resp = client.get("/invitations/not-a-token/")
    assert resp.status_code == 404 and "not valid" in resp.content.decode()
    expired = InvitationFactory(organization=org, expires_at=timezone.now() - timedelta(days=1))
    resp = client.get(f"/invitations/{_token(expired)}/")
    body = resp.content.decode()
    assert resp.status_code == 410 and "expired" in body and "Acme" in body
    assert expired.email not in body


def test_an_existing_user_is_asked_to_log_in_then_joins(client, org):
    known = UserFactory(username="old@example.com")
    invitation = InvitationFactory(organization=org, email="old@example.com")
    url = f"/invitations/{_token(invitation)}/"
    assert "Log in to accept" in client.get(url).content.decode()
    client.force_login(known)
    assert client.post(url).status_code == 302
    assert Membership.objects.filter(user=known, organization=org).exists()

from __future__ import annotations

import pytest
from django.test import RequestFactory

from neonhub.core import audit
from neonhub.core.auth import Principal
from neonhub.core.models import AuditEvent, Role
from neonhub.core.services import api_key_create
from tests.factories import AuditEventFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_a_person_s_change_is_recorded_with_who_what_and_where(org, owner):
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.9")
    principal = Principal(organization=org, role=Role.OWNER, user=owner)
    event = audit.audit_record(
        action="organization.update",
        principal=principal,
        target=org,
        changes=audit.changes_between({"timezone": "UTC"}, {"timezone": "Europe/Berlin"}),
        request=request,
    )
    event.refresh_from_db()
    assert event.organization == org
    assert event.actor_user == owner
    assert event.actor == (owner.email or owner.username)
    assert (event.target_type, event.target_id) == ("organization", str(org.pk))
    assert event.changes == {"timezone": ["UTC", "Europe/Berlin"]}
    assert event.ip_address == "203.0.113.9"


def test_an_api_key_is_named_by_its_name_and_prefix_never_its_secret(org):
    issued = api_key_create(organization=org, name="ci", role=Role.ADMIN)
    principal = Principal(organization=org, role=Role.ADMIN, api_key=issued.api_key)
    event = audit.audit_record(action="trigger.update", principal=principal)
    assert event.actor == f"API key ci ({issued.api_key.prefix}…)"
    assert event.actor_user is None
    assert issued.token not in str(event.__dict__)


def test_the_system_acts_without_a_principal_but_needs_an_organization(org):
    assert audit.audit_record(action="run.approval_expire", organization=org).actor == "system"
    with pytest.raises(ValueError, match="organization"):
        audit.audit_record(action="x.y")


def test_changes_mask_secrets_and_leave_out_what_did_not_change():
    changes = audit.changes_between(
        {"name": "a", "auth_token": "old-secret", "sid": "AC1"},
        {"name": "b", "auth_token": "new-secret", "sid": "AC1"},
        secret={"auth_token"},
    )
    assert changes == {"name": ["a", "b"], "auth_token": [audit.MASK, audit.MASK]}
    assert "secret" not in str(changes)


def test_the_audit_page_is_for_owners_and_admins_and_shows_only_this_organization(
    client, org, owner
):
    AuditEventFactory(organization=org, target_label="Mine")
    AuditEventFactory(organization=OrganizationFactory(), target_label="Theirs")
    client.force_login(owner)
    page = client.get("/settings/audit/")
    assert page.status_code == 200
    assert b"Mine" in page.content and b"Theirs" not in page.content
    member = MembershipFactory(organization=org, role=Role.MEMBER).user
    client.force_login(member)
    assert client.get("/settings/audit/").status_code == 403


def test_the_audit_page_pages_both_ways(client, org, owner):
    for i in range(55):
        AuditEventFactory(organization=org, target_label=f"event-{i}")
    client.force_login(owner)
    first = client.get("/settings/audit/")
    assert first.context["page"].next_cursor
    second = client.get("/settings/audit/", {"cursor": first.context["page"].next_cursor})
    assert len(second.context["page"].items) == 5
    assert second.context["page"].prev_cursor


def test_the_settings_page_links_the_audit_log_for_managers_only(client, org, owner, viewer):
    client.force_login(owner)
    assert b"/settings/audit/" in client.get("/settings/").content
    client.force_login(viewer)
    body = client.get("/settings/").content
    assert b"/settings/approvals/" in body and b"/settings/audit/" not in body


def test_the_admin_shows_events_read_only(staff_client, org):
    event = AuditEventFactory(organization=org)
    assert staff_client.get("/admin/core/auditevent/").status_code == 200
    assert staff_client.get(f"/admin/core/auditevent/{event.pk}/change/").status_code in (200, 403)
    assert staff_client.post(f"/admin/core/auditevent/{event.pk}/delete/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_changes_read_as_words_on_the_page():
    lines = audit.change_lines(
        {
            "email_send": [None, False],
            "social_platforms": [[], ["facebook_page", "reddit"]],
            "auth_token": [audit.MASK, audit.MASK],
            "note": "ok",
        }
    )
    assert lines == [
        ("Email send", "–", "No"),
        ("Social platforms", "–", "facebook_page, reddit"),
        ("Auth token", audit.MASK, audit.MASK),
        ("Note", "", "ok"),
    ]

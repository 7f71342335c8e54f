"""The approval and draft pages: the inbox, the run page's approval, approve / edit / reject,
the settings page (admins change, members look), and the drafts (list, read, edit, approve)."""

from __future__ import annotations

import uuid

import pytest

from agents import services
from agents.models import DraftStatus
from neonhub.core.models import AuditEvent, Role
from runs.models import AgentRun, ApprovalState, RunApproval, RunStatus
from tests.factories import (
    ContentDraftFactory,
    MembershipFactory,
    OrganizationFactory,
    RunApprovalFactory,
)
from tests.helpers import sandbox_connectors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _connectors(org):
    """Runs that would send need a connector to be started at all (pre-run checks)."""
    sandbox_connectors(org)


POST = {
    "text": "Calmer releases, now for everyone.",
    "platforms": ["reddit"],
    "reddit": {"subreddit": "r/productmanagement"},
}


@pytest.fixture
def held(org):
    org.settings = {"approvals": {"social_platforms": ["reddit"]}}
    org.save()
    run, _ = services.run_start(organization=org, agent="social", intent="publish", payload=POST)
    return run


@pytest.fixture
def member_client(client, org):
    client.force_login(MembershipFactory(organization=org, role=Role.MEMBER).user)
    return client


def test_the_run_page_shows_what_will_go_out_and_the_decision_buttons(owner_client, held):
    page = owner_client.get(f"/runs/{held.id}/").content.decode()
    assert "Awaiting approval" in page and "Publishing to Reddit needs approval" in page
    assert "submit_post" in page and "productmanagement" in page
    assert 'id="run-approve"' in page and 'id="run-reject"' in page
    assert f'href="/runs/{held.id}/approve/edit/"' in page


def test_members_see_the_preview_but_no_decision_buttons(member_client, held):
    page = member_client.get(f"/runs/{held.id}/").content.decode()
    assert "submit_post" in page and 'id="run-approve"' not in page
    assert member_client.post(f"/runs/{held.id}/approve/").status_code == 403
    held.refresh_from_db()
    assert held.status == RunStatus.AWAITING_APPROVAL


def test_the_inbox_lists_waiting_runs_newest_first_and_the_nav_counts_them(owner_client, org):
    older = RunApprovalFactory(run__organization=org)
    newer = RunApprovalFactory(
        run__organization=org, preview={"summary": "Email 'Hi' to 3", "recipients": 3, "items": []}
    )
    RunApprovalFactory()  # another organization's
    page = owner_client.get("/approvals/").content.decode()
    assert page.index(f"approval-{newer.run_id}") < page.index(f"approval-{older.run_id}")
    assert "Email &#x27;Hi&#x27; to 3" in page and page.count('id="approval-') == 2
    assert 'aria-label="2 awaiting approval">2</span>' in page


def test_approve_from_the_page_records_who_and_queues_the_run(owner_client, owner, held):
    resp = owner_client.post(f"/runs/{held.id}/approve/", {"note": "Fine"})
    assert resp.status_code == 302 and resp["Location"] == f"/runs/{held.id}/"
    approval = RunApproval.objects.get(run=held)
    assert approval.state == ApprovalState.APPROVED and approval.decided_by == owner
    page = owner_client.get(f"/runs/{held.id}/").content.decode()
    assert "Approval: approved" in page and owner.get_username() in page and "Fine" in page


def test_approving_twice_from_the_page_says_so(owner_client, held):
    owner_client.post(f"/runs/{held.id}/approve/")
    resp = owner_client.post(f"/runs/{held.id}/approve/", follow=True)
    assert "not awaiting approval" in resp.content.decode()


def test_reject_without_a_note_answers_422_next_to_the_field(owner_client, held):
    resp = owner_client.post(f"/runs/{held.id}/reject/", {"note": ""})
    assert resp.status_code == 422
    assert "Say why the run is rejected" in resp.content.decode()
    resp = owner_client.post(f"/runs/{held.id}/reject/", {"note": "Off brand"})
    assert resp.status_code == 302
    held.refresh_from_db()
    assert held.status == RunStatus.CANCELLED and held.error_code == "REJECTED"


def test_edit_before_approving_validates_and_records_the_edit(owner_client, held):
    form = owner_client.get(f"/runs/{held.id}/approve/edit/").content.decode()
    assert "Calmer releases, now for everyone." in form
    resp = owner_client.post(
        f"/runs/{held.id}/approve/edit/",
        {"input-text": "", "input-platforms": "reddit"},
    )
    assert resp.status_code == 422
    held.refresh_from_db()
    assert held.status == RunStatus.AWAITING_APPROVAL
    resp = owner_client.post(
        f"/runs/{held.id}/approve/edit/",
        {
            "input-text": "Calm releases for small teams.",
            "input-platforms": "reddit",
            "input-reddit__subreddit": "r/productmanagement",
            "note": "Shorter",
        },
    )
    assert resp.status_code == 302
    held.refresh_from_db()
    approval = RunApproval.objects.get(run=held)
    assert held.input["text"] == "Calm releases for small teams." and held.status != (
        RunStatus.AWAITING_APPROVAL
    )
    assert approval.edited and approval.original_input == POST and approval.note == "Shorter"
    assert approval.preview["items"][0]["content"]["text"] == "Calm releases for small teams."
    page = owner_client.get(f"/runs/{held.id}/").content.decode()
    assert "The approver changed the input before approving" in page


def test_another_organizations_run_is_404(owner_client):
    other = RunApprovalFactory(run__organization=OrganizationFactory())
    assert owner_client.post(f"/runs/{other.run_id}/approve/").status_code == 404
    assert owner_client.get(f"/runs/{other.run_id}/approve/edit/").status_code == 404
    assert owner_client.post(f"/runs/{uuid.uuid4()}/reject/", {"note": "x"}).status_code == 404


def test_admins_change_the_settings_with_checkboxes_and_numbers(owner_client, org):
    page = owner_client.get("/settings/approvals/").content.decode()
    assert 'type="checkbox" name="social_platforms" value="instagram"' in page
    resp = owner_client.post(
        "/settings/approvals/",
        {"social_platforms": ["instagram", "reddit"], "email_send": "on", "expires_hours": "24"},
    )
    assert resp.status_code == 302
    org.refresh_from_db()
    assert org.settings["approvals"] == {
        "social_platforms": ["instagram", "reddit"],
        "email_send": True,
        "sms_send": False,
        "whatsapp_send": False,
        "support_reply": False,
        "recipients_above": None,
        "expires_hours": 24,
    }
    event = AuditEvent.objects.get(organization=org, action="settings.approvals")
    assert event.changes["expires_hours"][1] == 24
    assert event.changes["social_platforms"][1] == ["instagram", "reddit"]


def test_bad_settings_come_back_next_to_the_field(owner_client, org):
    resp = owner_client.post(
        "/settings/approvals/", {"expires_hours": "0", "recipients_above": "-1"}
    )
    assert resp.status_code == 422
    page = resp.content.decode()
    assert page.count('class="field-error"') == 2
    org.refresh_from_db()
    assert "approvals" not in org.settings


def test_members_see_the_settings_but_cannot_change_them(member_client, org):
    page = member_client.get("/settings/approvals/").content.decode()
    assert 'id="read-only-note"' in page and "disabled" in page
    resp = member_client.post("/settings/approvals/", {"email_send": "on", "expires_hours": "1"})
    assert resp.status_code == 403
    org.refresh_from_db()
    assert "approvals" not in org.settings


# --- drafts -------------------------------------------------------------------------------------


def test_the_draft_list_filters_by_status_and_stays_in_the_organization(owner_client, org):
    mine = ContentDraftFactory(organization=org, title="Spring launch", status=DraftStatus.DRAFT)
    approved = ContentDraftFactory(organization=org, title="Summer", status=DraftStatus.APPROVED)
    ContentDraftFactory(title="Somebody else's")
    page = owner_client.get("/drafts/").content.decode()
    assert "Spring launch" in page and "Summer" in page and "Somebody else" not in page
    page = owner_client.get("/drafts/?status=approved").content.decode()
    assert f"draft-{approved.id}" in page and f"draft-{mine.id}" not in page
    assert owner_client.get("/drafts/?status=bogus").status_code == 422


def test_a_draft_reads_as_rendered_markdown_with_links_to_use_it(owner_client, org):
    draft = ContentDraftFactory(organization=org, body="# Launch\n\nIt is **here**.")
    page = owner_client.get(f"/drafts/{draft.id}/").content.decode()
    assert "<h1>Launch</h1>" in page and "<strong>here</strong>" in page
    assert f"/runs/new/?task=social/publish&amp;use_draft={draft.id}" in page
    assert f"/runs/new/?task=email/send&amp;use_draft={draft.id}" in page


def test_edit_and_approve_a_draft(owner_client, org):
    draft = ContentDraftFactory(organization=org)
    resp = owner_client.post(
        f"/drafts/{draft.id}/edit/",
        {"title": "New title", "body": "New body", "primary_keyword": "calm", "status": "draft"},
    )
    assert resp.status_code == 302
    resp = owner_client.post(f"/drafts/{draft.id}/edit/", {"title": "", "body": "x", "status": "x"})
    assert resp.status_code == 422 and resp.content.decode().count('class="field-error"') == 2
    owner_client.post(f"/drafts/{draft.id}/approve/")
    draft.refresh_from_db()
    assert (draft.title, draft.body, draft.primary_keyword, draft.status) == (
        "New title",
        "New body",
        "calm",
        DraftStatus.APPROVED,
    )


def test_viewers_read_drafts_but_change_nothing(viewer_client, org):
    draft = ContentDraftFactory(organization=org)
    page = viewer_client.get(f"/drafts/{draft.id}/").content.decode()
    assert draft.title in page and 'id="draft-edit"' not in page
    assert viewer_client.post(f"/drafts/{draft.id}/approve/").status_code == 403
    assert viewer_client.get(f"/drafts/{draft.id}/edit/").status_code == 403
    draft.refresh_from_db()
    assert draft.status == DraftStatus.DRAFT


def test_another_organizations_draft_is_404(owner_client):
    other = ContentDraftFactory()
    assert owner_client.get(f"/drafts/{other.id}/").status_code == 404
    assert owner_client.post(f"/drafts/{other.id}/approve/").status_code == 404
    assert AgentRun.objects.count() == 0

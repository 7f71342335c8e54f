"""The sequences API: build, activate, pause, enroll and remove, scoped to the organization."""

from __future__ import annotations

import pytest

from agents.audience.models import Contact
from agents.campaigns.models import Campaign
from agents.sequences import services
from agents.sequences.models import Enrollment, Sequence
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

BODY = {
    "name": "Onboarding",
    "steps": [
        {"subject": "Welcome", "body": "Hi {{first_name|there}}"},
        {"wait_days": 3, "condition": "not_opened", "subject": "Did you see?", "body": "Again"},
    ],
}


def create(api, **extra):
    answer = api.post("/sequences", {**BODY, **extra})
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_create_with_steps_then_read_it(api, org):
    campaign = Campaign.objects.create(organization=org, name="Spring")
    made = create(api, campaign_id=str(campaign.pk), goal_kind="clicked", goal_value="/buy")
    assert made["status"] == "draft"
    assert [s["position"] for s in made["steps"]] == [1, 2]
    assert made["steps"][1]["wait_days"] == 3
    got = api.get(f"/sequences/{made['id']}").json()
    assert got["campaign_id"] == str(campaign.pk)
    assert got["steps"][0]["waiting"] == 0
    services.enrollment_create(
        sequence=Sequence.objects.get(pk=made["id"]),
        contact=ContactFactory(organization=org, email="a@example.org"),
    )
    listed = api.get("/sequences").json()
    assert [(s["name"], s["enrolled"], s["active"]) for s in listed] == [("Onboarding", 1, 1)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"steps": [{"subject": "No body"}]}, "steps.0.body"),
        ({"steps": [{"subject": "a", "body": "b", "condition": "opened"}]}, "steps.0.condition"),
        ({"steps": [{"subject": "a", "body": "b", "wait_days": -1}]}, "wait_days"),
        ({"goal_kind": "tag"}, "goal_value"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_input_answers_422_naming_the_field(api, body, field):
    answer = api.post("/sequences", {**BODY, **body})
    assert answer.status_code == 422
    assert field in answer.content.decode()


def test_a_second_sequence_with_the_same_name_is_a_conflict(api):
    create(api)
    assert api.post("/sequences", BODY).status_code == 409


def test_activate_pause_patch_and_delete(api):
    made = create(api)
    assert api.post(f"/sequences/{made['id']}/activate").json()["status"] == "active"
    assert api.post(f"/sequences/{made['id']}/pause").json()["status"] == "paused"
    patched = api.patch(f"/sequences/{made['id']}", {"exit_on_reply": False, "name": "New"})
    assert (patched.json()["exit_on_reply"], patched.json()["name"]) == (False, "New")
    assert api.delete(f"/sequences/{made['id']}").status_code == 204
    assert not Sequence.objects.exists()


def test_an_empty_sequence_cannot_be_activated(api):
    made = create(api, steps=[])
    answer = api.post(f"/sequences/{made['id']}/activate")
    assert answer.status_code == 422
    assert "steps" in answer.content.decode()


def test_steps_can_be_added_changed_and_removed(api):
    made = create(api)
    base = f"/sequences/{made['id']}/steps"
    added = api.post(base, {"wait_hours": 4, "subject": "Third", "body": "3"})
    assert added.status_code == 201 and added.json()["position"] == 3
    changed = api.patch(f"{base}/{added.json()['id']}", {"condition": "clicked"})
    assert changed.json()["condition"] == "clicked"
    assert api.delete(f"{base}/{made['steps'][0]['id']}").status_code == 204
    steps = api.get(f"/sequences/{made['id']}").json()["steps"]
    # The new first step keeps its condition (it is ignored there: the first step goes to all).
    assert [(s["position"], s["condition"]) for s in steps] == [(1, "not_opened"), (2, "clicked")]


def test_enroll_by_id_and_by_email_once_only(api, org):
    made = create(api)
    ada = ContactFactory(organization=org, email="ada@example.org")
    path = f"/sequences/{made['id']}/enrollments"
    first = api.post(path, {"contact_id": str(ada.pk)})
    assert first.status_code == 201 and first.json()["created"] is True
    again = api.post(path, {"email": "ADA@example.org"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    new = api.post(path, {"email": "new@example.org"})
    assert new.status_code == 201
    assert Contact.objects.filter(organization=org, email="new@example.org").exists()
    listed = api.get(path).json()["items"]
    assert {e["email"] for e in listed} == {"ada@example.org", "new@example.org"}
    removed = api.delete(f"{path}/{first.json()['id']}").json()
    assert (removed["status"], removed["exit_reason"]) == ("exited", "removed")


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "contact_id"), ({"email": "not-an-address"}, "email")],
)
def test_enroll_needs_a_contact(api, body, field):
    made = create(api)
    answer = api.post(f"/sequences/{made['id']}/enrollments", body)
    assert answer.status_code == 422 and field in answer.content.decode()


def test_a_contact_without_email_is_not_enrolled(api, org):
    made = create(api)
    phone_only = ContactFactory(organization=org)
    answer = api.post(f"/sequences/{made['id']}/enrollments", {"contact_id": str(phone_only.pk)})
    assert answer.status_code == 422
    assert not Enrollment.objects.exists()


def test_other_organizations_ids_are_404(api, other_api, other_org):
    made = create(api)
    for call in (
        lambda: other_api.get(f"/sequences/{made['id']}"),
        lambda: other_api.post(f"/sequences/{made['id']}/activate"),
        lambda: other_api.delete(f"/sequences/{made['id']}"),
        lambda: other_api.get(f"/sequences/{made['id']}/enrollments"),
    ):
        assert call().status_code == 404
    foreign = ContactFactory(organization=other_org, email="x@example.org")
    answer = api.post(f"/sequences/{made['id']}/enrollments", {"contact_id": str(foreign.pk)})
    assert answer.status_code == 404
    other_campaign = Campaign.objects.create(organization=other_org, name="Theirs")
    assert (
        api.post(
            "/sequences", {**BODY, "name": "X", "campaign_id": str(other_campaign.pk)}
        ).status_code
        == 404
    )
    assert other_api.get("/sequences").json() == []


def test_viewers_read_but_do_not_write(api, viewer_api):
    made = create(api)
    assert viewer_api.get(f"/sequences/{made['id']}").status_code == 200
    assert viewer_api.post(f"/sequences/{made['id']}/activate").status_code == 403


def test_a_first_step_with_a_kept_condition_can_still_be_edited(api):
    made = create(api)
    base = f"/sequences/{made['id']}/steps"
    api.delete(f"{base}/{made['steps'][0]['id']}")  # "not_opened" is first now
    second = made["steps"][1]["id"]
    assert api.patch(f"{base}/{second}", {"subject": "New"}).status_code == 200
    refused = api.patch(f"{base}/{second}", {"condition": "opened"})
    assert refused.status_code == 422 and "condition" in refused.content.decode()

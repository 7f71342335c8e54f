"""The A/B tests API: create, start, results, pick, cancel; 422 naming fields, 404 across orgs."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from agents.abtests import services
from agents.mail.models import EmailMessage
from tests.agents.abtests.conftest import VARIANTS
from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db


def body(contact_list, **extra):
    return {"name": "Spring", "list_id": str(contact_list.pk), "variants": VARIANTS, **extra}


def test_create_then_start_sends_the_test_share(
    api, audience, smtp, django_capture_on_commit_callbacks
):
    created = api.post("/ab-tests", body(audience))
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "draft" and data["list_id"] == str(audience.pk)
    assert data["split"]["per_variant"] == {"A": 10, "B": 10} and data["split"]["rest"] == 80
    assert [v["key"] for v in data["variants"]] == ["A", "B"]
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/ab-tests/{data['id']}/start")
    assert started.status_code == 200 and started.json()["status"] == "waiting"
    assert EmailMessage.objects.filter(ab_test_id=data["id"]).count() == 20
    again = api.post(f"/ab-tests/{data['id']}/start")
    assert again.status_code == 409
    got = api.get(f"/ab-tests/{data['id']}").json()
    assert [r["sent"] for r in got["result"]["variants"]] == [10, 10]
    assert got["result"]["outcome"] == "not_enough_data"
    listed = api.get("/ab-tests").json()
    assert [t["id"] for t in listed["items"]] == [data["id"]]


def test_bad_input_is_422_naming_the_field(api, audience, other_org):
    response = api.post("/ab-tests", body(audience, share_percent=70))
    assert response.status_code == 422
    assert "share_percent" in str(response.json()["error"]["details"])
    foreign = ContactListFactory(organization=other_org)
    response = api.post("/ab-tests", body(foreign))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "list_id"
    response = api.post("/ab-tests", body(audience, variants=[VARIANTS[0], {"subject": "x"}]))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "variants.1.body"
    response = api.post("/ab-tests", body(audience, segment_id="not-a-uuid"))
    assert response.status_code == 422


def test_foreign_or_unknown_test_is_404(api, other_org, make_audience):
    theirs = services.abtest_create(
        organization=other_org,
        name="Theirs",
        variants=VARIANTS,
        contact_list=make_audience(3, organization=other_org),
    )
    for path in (f"/ab-tests/{theirs.pk}", f"/ab-tests/{uuid.uuid4()}"):
        assert api.get(path).status_code == 404
        assert api.post(f"{path}/start").status_code == 404
        assert api.post(f"{path}/cancel").status_code == 404


def test_viewer_reads_but_cannot_start(viewer_api, draft):
    assert viewer_api.get(f"/ab-tests/{draft.pk}").status_code == 200
    assert viewer_api.post(f"/ab-tests/{draft.pk}/start").status_code == 403


def test_pick_winner_only_when_waiting_for_a_pick(api, run_now, smtp, draft):
    assert api.post(f"/ab-tests/{draft.pk}/pick-winner", {"variant": "A"}).status_code == 409
    draft.no_winner = "manual"
    draft.save()
    test = run_now(services.abtest_start, test=draft)
    services.abtest_decide(test_id=test.pk, now=test.window_ends_at + timedelta(seconds=1))
    assert api.post(f"/ab-tests/{draft.pk}/pick-winner", {"variant": "Z"}).status_code == 422
    response = run_now(api.post, f"/ab-tests/{draft.pk}/pick-winner", {"variant": "B"})
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "done" and data["result"]["sent_variant"] == "B"
    assert data["result"]["rest_sent"] == 80


def test_cancel(api, draft):
    response = api.post(f"/ab-tests/{draft.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api.post(f"/ab-tests/{draft.pk}/cancel").status_code == 409

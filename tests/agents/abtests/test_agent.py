"""The Email agent's ab-test intent creates a real test and starts it."""

from __future__ import annotations

import uuid

import pytest

from agents.mail.models import EmailMessage
from agents.models import ABTest
from tests.agents.abtests.conftest import VARIANTS
from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_intent(run_now, org):
    from agents import services
    from runs.models import AgentRun

    def _run(payload, **kwargs):
        run, _ = run_now(
            services.run_start, organization=org, agent="email", intent="ab-test", payload=payload
        )
        return AgentRun.objects.get(pk=run.pk)

    return _run


def test_ab_test_with_a_list_starts_and_sends_the_test_share(run_intent, smtp, audience):
    run = run_intent({"name": "Spring", "listId": str(audience.pk), "variants": VARIANTS})
    assert run.status == "completed", run.error_message
    test = ABTest.objects.get(pk=run.output["testId"])
    assert run.output["status"] == "waiting" and test.contact_list == audience
    assert run.output["split"]["per_variant"] == {"A": 10, "B": 10}
    assert run.output["link"].endswith(f"/email/ab-tests/{test.pk}/")
    assert EmailMessage.objects.filter(ab_test=test).count() == 20


def test_ab_test_start_false_keeps_a_draft(run_intent, smtp, audience):
    run = run_intent({"listId": str(audience.pk), "variants": VARIANTS, "start": False})
    assert run.output["status"] == "draft"
    assert not EmailMessage.objects.exists()


def test_ab_test_unknown_or_foreign_list_is_422_naming_the_field(api, other_org):
    foreign = ContactListFactory(organization=other_org)
    for list_id in (str(uuid.uuid4()), str(foreign.pk), "nope"):
        response = api.post(
            "/runs",
            {
                "agent": "email",
                "intent": "ab-test",
                "payload": {"listId": list_id, "variants": VARIANTS},
            },
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "payload.listId"


def test_ab_test_variant_without_body_is_422(api):
    response = api.post(
        "/runs",
        {
            "agent": "email",
            "intent": "ab-test",
            "payload": {"variants": [{"subject": "A", "body": "a"}, {"subject": "B"}]},
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "payload.variants.1.body"


def test_ab_test_run_page_shows_the_split_and_links_to_the_test(
    run_intent, smtp, audience, owner_client
):
    from django.urls import reverse

    run = run_intent({"name": "Spring", "listId": str(audience.pk), "variants": VARIANTS})
    page = owner_client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert "Variant A to 10, Variant B to 10" in page
    assert "the other 80 get the winner" in page
    assert f"/email/ab-tests/{run.output['testId']}/" in page

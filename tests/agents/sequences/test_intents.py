"""The Email agent's generate-sequence makes a draft sequence; its enroll intent enrolls."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.audience.models import Contact
from agents.campaigns.models import Campaign
from agents.results import present
from agents.sequences import services
from agents.sequences.models import Enrollment, Sequence
from neonhub.core.errors import InvalidInput
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_generate_sequence_creates_a_draft_with_one_step_per_email(run_intent, org):
    campaign = Campaign.objects.create(organization=org, name="Launch")
    run = run_intent(
        "email",
        "generate-sequence",
        {"topic": "Product launch", "numEmails": 3, "campaignId": str(campaign.pk)},
    )
    assert run.status == "completed"
    sequence = Sequence.objects.get(pk=run.output["sequenceId"])
    assert (sequence.name, sequence.status, sequence.campaign) == (
        "Product launch",
        "draft",
        campaign,
    )
    steps = list(sequence.steps.order_by("position"))
    assert [(s.wait_days, s.condition) for s in steps] == [
        (0, "always"),
        (3, "always"),
        (3, "always"),
    ]
    assert [s.subject for s in steps] == [e["subject"] for e in run.output["sequence"]]
    assert run.output["sequenceUrl"].endswith(reverse("sequences:detail", args=[sequence.pk]))
    again = run_intent("email", "generate-sequence", {"topic": "Product launch", "numEmails": 1})
    assert Sequence.objects.get(pk=again.output["sequenceId"]).name == "Product launch (2)"


def test_the_results_page_offers_to_open_the_sequence(run_intent):
    run = run_intent("email", "generate-sequence", {"topic": "Welcome", "numEmails": 1})
    view = present("email", "generate-sequence", run.output, {})
    assert view.context["r"]["sequence_link"] == reverse(
        "sequences:detail", args=[run.output["sequenceId"]]
    )
    old = {k: v for k, v in run.output.items() if k != "sequenceId"}
    assert present("email", "generate-sequence", old, {}).context["r"]["sequence_link"] is None


def test_generate_sequence_refuses_an_unknown_campaign(run_intent, other_org):
    theirs = Campaign.objects.create(organization=other_org, name="Theirs")
    with pytest.raises(InvalidInput) as refused:
        run_intent("email", "generate-sequence", {"topic": "x", "campaignId": str(theirs.pk)})
    assert refused.value.details[0]["field"] == "payload.campaignId"
    assert not Sequence.objects.exists()


@pytest.fixture
def sequence(org):
    return services.sequence_create(
        organization=org, name="Drip", steps=[{"subject": "Hi", "body": "Hello"}]
    )


def test_enroll_by_email_adds_the_contact_and_is_once_only(run_intent, org, sequence):
    payload = {"sequenceId": str(sequence.pk), "email": "New@Example.org"}
    run = run_intent("email", "enroll", payload)
    assert run.status == "completed" and run.output["created"] is True
    contact = Contact.objects.get(organization=org, email="new@example.org")
    assert run.output["contactId"] == str(contact.pk)
    again = run_intent("email", "enroll", payload)
    assert again.output["created"] is False
    assert again.output["enrollmentId"] == run.output["enrollmentId"]
    assert Enrollment.objects.get().source == "trigger"


def test_enroll_by_contact_id(run_intent, org, sequence):
    ada = ContactFactory(organization=org, email="ada@example.org")
    run = run_intent("email", "enroll", {"sequenceId": str(sequence.pk), "contactId": str(ada.pk)})
    assert run.output["status"] == "active"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (
            {"sequenceId": "00000000-0000-0000-0000-000000000000", "email": "a@b.org"},
            "payload.sequenceId",
        ),
        ({"sequenceId": "nope", "email": "a@b.org"}, "payload.sequenceId"),
        ({"contactId": "00000000-0000-0000-0000-000000000000"}, "payload.contactId"),
        ({"email": "not an address"}, "email"),
        ({}, "payload"),
    ],
)
def test_enroll_refuses_bad_input_before_a_run(run_intent, sequence, payload, field):
    body = {"sequenceId": str(sequence.pk), **payload}
    with pytest.raises(InvalidInput) as refused:
        run_intent("email", "enroll", body)
    assert any(field in d["field"] for d in refused.value.details)


def test_enroll_refuses_another_organizations_sequence(run_intent, other_org):
    theirs = services.sequence_create(
        organization=other_org, name="Theirs", steps=[{"subject": "Hi", "body": "Hello"}]
    )
    with pytest.raises(InvalidInput):
        run_intent("email", "enroll", {"sequenceId": str(theirs.pk), "email": "a@example.org"})
    assert not Enrollment.objects.exists()


def test_enroll_through_the_runs_api(api, sequence):
    answer = api.post(
        "/runs",
        {
            "agent": "email",
            "intent": "enroll",
            "payload": {"sequenceId": str(sequence.pk), "email": "x@example.org"},
        },
    )
    assert answer.status_code == 202, answer.content
    bad = api.post(
        "/runs",
        {"agent": "email", "intent": "enroll", "payload": {"sequenceId": str(sequence.pk)}},
    )
    assert bad.status_code == 422


def test_the_run_page_has_an_open_the_sequence_button(run_intent, owner_client):
    run = run_intent("email", "generate-sequence", {"topic": "Welcome", "numEmails": 2})
    html = owner_client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert "Open the sequence" in html
    assert reverse("sequences:detail", args=[run.output["sequenceId"]]) in html

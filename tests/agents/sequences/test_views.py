"""The sequence pages: list, builder with htmx, funnel, enrolling, and the campaign fragment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.campaigns.models import Campaign
from agents.sequences import services
from agents.sequences.models import Enrollment, EnrollmentStatus, Sequence
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sequence(org):
    return services.sequence_create(
        organization=org,
        name="Welcome",
        steps=[
            {"subject": "Hello", "body": "Hi {{first_name|there}}"},
            {"wait_days": 2, "condition": "opened", "subject": "Second", "body": "More"},
        ],
    )


def test_the_list_says_what_to_do_when_empty(owner_client):
    page = owner_client.get(reverse("sequences:list"))
    assert page.status_code == 200
    assert "No sequences yet" in page.content.decode()


def test_the_list_shows_counts(owner_client, sequence, org):
    services.enrollment_create(
        sequence=sequence, contact=ContactFactory(organization=org, email="a@example.org")
    )
    html = owner_client.get(reverse("sequences:list")).content.decode()
    assert "Welcome" in html and "Draft" in html


def test_create_a_sequence_from_the_page(owner_client, org):
    campaign = Campaign.objects.create(organization=org, name="Spring")
    answer = owner_client.post(
        reverse("sequences:new"),
        {
            "name": "Spring drip",
            "campaign": str(campaign.pk),
            "goal_kind": "none",
            "exit_on_reply": "on",
        },
    )
    made = Sequence.objects.get(name="Spring drip")
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "sequences:detail", args=[made.pk]
    )
    assert made.campaign == campaign and made.exit_on_reply


def test_a_bad_form_shows_the_error_beside_the_field(owner_client, sequence):
    answer = owner_client.post(reverse("sequences:new"), {"name": "Welcome", "goal_kind": "tag"})
    assert answer.status_code == 422
    html = answer.content.decode()
    assert "give the tag" in html or "another sequence has this name" in html


def test_the_detail_page_shows_the_funnel_and_builder(owner_client, sequence):
    html = owner_client.get(reverse("sequences:detail", args=[sequence.pk])).content.decode()
    assert "How it is going" in html
    assert "Email 1" in html and "Email 2" in html
    assert "Opened the previous email" in html
    assert "Nobody is enrolled yet" in html
    assert "{" not in html.split("How it is going")[1].split("Emails")[0].replace("{{", "")


def test_add_move_and_remove_steps_with_htmx(owner_client, sequence):
    add = owner_client.post(
        reverse("sequences:step-add", args=[sequence.pk]),
        {
            "new-wait_days": "1",
            "new-wait_hours": "0",
            "new-condition": "not_clicked",
            "new-subject": "Third",
            "new-body": "3",
        },
        HTTP_HX_REQUEST="true",
    )
    assert add.status_code == 200 and 'id="steps"' in add.content.decode()
    assert "<html" not in add.content.decode()
    third = sequence.steps.get(position=3)
    owner_client.post(
        reverse("sequences:step-move", args=[sequence.pk, third.pk]),
        {"direction": "up"},
        HTTP_HX_REQUEST="true",
    )
    assert list(sequence.steps.order_by("position").values_list("subject", flat=True)) == [
        "Hello",
        "Third",
        "Second",
    ]
    owner_client.post(
        reverse("sequences:step-remove", args=[sequence.pk, third.pk]), HTTP_HX_REQUEST="true"
    )
    assert list(sequence.steps.order_by("position").values_list("subject", flat=True)) == [
        "Hello",
        "Second",
    ]


def test_a_step_without_content_is_refused_beside_its_field(owner_client, sequence):
    answer = owner_client.post(
        reverse("sequences:step-add", args=[sequence.pk]),
        {
            "new-wait_days": "0",
            "new-wait_hours": "0",
            "new-condition": "always",
            "new-subject": "Only a subject",
        },
        HTTP_HX_REQUEST="true",
    )
    assert "choose a template, or write a subject and a text" in answer.content.decode()
    assert sequence.steps.count() == 2
    without_htmx = owner_client.post(
        reverse("sequences:step-add", args=[sequence.pk]),
        {"new-wait_days": "0", "new-wait_hours": "0", "new-condition": "always"},
    )
    assert without_htmx.status_code == 422


def test_edit_a_step(owner_client, sequence):
    step = sequence.steps.get(position=2)
    prefix = f"step-{step.pk}"
    owner_client.post(
        reverse("sequences:step-edit", args=[sequence.pk, step.pk]),
        {
            f"{prefix}-wait_days": "4",
            f"{prefix}-wait_hours": "2",
            f"{prefix}-condition": "not_opened",
            f"{prefix}-subject": "Changed",
            f"{prefix}-body": "Body",
        },
        HTTP_HX_REQUEST="true",
    )
    step.refresh_from_db()
    assert (step.wait_days, step.wait_hours, step.condition, step.subject) == (
        4,
        2,
        "not_opened",
        "Changed",
    )


def test_activate_and_pause(owner_client, sequence):
    owner_client.post(reverse("sequences:activate", args=[sequence.pk]))
    sequence.refresh_from_db()
    assert sequence.status == "active"
    owner_client.post(reverse("sequences:pause", args=[sequence.pk]))
    sequence.refresh_from_db()
    assert sequence.status == "paused"


def test_enroll_one_person_once(owner_client, sequence):
    url = reverse("sequences:enroll", args=[sequence.pk])
    owner_client.post(url, {"email": "new@example.org"})
    page = owner_client.post(url, {"email": "new@example.org"}, follow=True)
    assert "already in this sequence" in page.content.decode()
    assert Enrollment.objects.filter(sequence=sequence).count() == 1
    enrollment = Enrollment.objects.get()
    detail = owner_client.get(reverse("sequences:enrollment", args=[sequence.pk, enrollment.pk]))
    assert "Waiting for email 1" in detail.content.decode()
    owner_client.post(reverse("sequences:enrollment-remove", args=[sequence.pk, enrollment.pk]))
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.EXITED


def test_the_campaign_fragment_lists_its_sequences(owner_client, org, sequence):
    campaign = Campaign.objects.create(organization=org, name="Spring")
    url = reverse("sequences:for-campaign", args=[campaign.pk])
    assert "No sequence is part of this campaign" in owner_client.get(url).content.decode()
    services.sequence_update(sequence=sequence, campaign=campaign)
    html = owner_client.get(url).content.decode()
    assert "Welcome" in html and "<html" not in html


def test_viewers_read_but_cannot_change(viewer_client, sequence):
    assert viewer_client.get(reverse("sequences:detail", args=[sequence.pk])).status_code == 200
    assert viewer_client.post(reverse("sequences:activate", args=[sequence.pk])).status_code == 403
    assert (
        "Add an email"
        not in viewer_client.get(reverse("sequences:detail", args=[sequence.pk])).content.decode()
    )


def test_another_organizations_sequence_is_404(client, other_org, sequence):
    from neonhub.core.models import Role
    from tests.factories import MembershipFactory

    client.force_login(MembershipFactory(organization=other_org, role=Role.OWNER).user)
    assert client.get(reverse("sequences:detail", args=[sequence.pk])).status_code == 404
    assert client.post(reverse("sequences:activate", args=[sequence.pk])).status_code == 404
    campaign = Campaign.objects.create(organization=sequence.organization, name="Ours")
    assert client.get(reverse("sequences:for-campaign", args=[campaign.pk])).status_code == 404

"""The A/B test pages, as a marketer uses them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse

from agents.abtests import services
from agents.campaigns.models import Campaign
from agents.mail.models import EmailMessage
from agents.models import ABTest, ABTestStatus
from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db


def form_data(contact_list, **extra):
    return {
        "name": "Spring subject",
        "contact_list": str(contact_list.pk),
        "variant_a_subject": "Spring sale starts now",
        "variant_a_body": "Hi {{first_name|there}}",
        "variant_b_subject": "20% off today",
        "variant_b_body": "Hi {{first_name|there}}",
        "metric": "opens",
        "share_percent": "20",
        "window_hours": "4",
        "confidence": "95",
        "no_winner": "leader",
        **extra,
    }


def test_empty_list_says_what_to_do(owner_client):
    page = owner_client.get(reverse("abtests:list")).content.decode()
    assert "No A/B tests yet" in page and reverse("abtests:new") in page


def test_create_review_and_start(
    owner_client, org, audience, smtp, django_capture_on_commit_callbacks
):
    response = owner_client.post(reverse("abtests:new"), form_data(audience))
    test = ABTest.objects.get(organization=org)
    assert response.status_code == 302 and response.url == reverse("abtests:detail", args=[test.pk])
    page = owner_client.get(response.url).content.decode()
    assert "Start the test" in page
    assert "Variant A to <strong>10</strong> people" in page
    assert "The other <strong>80</strong> people get the winner after 4 hours" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("abtests:start", args=[test.pk]), follow=True)
    page = response.content.decode()
    assert "The test share is on its way." in page
    assert "Waiting for the window to end" in page and 'hx-trigger="every 30s"' in page
    assert EmailMessage.objects.filter(ab_test=test).count() == 20


def test_form_errors_name_the_fields(owner_client, org, audience):
    data = {**form_data(audience, share_percent="80"), "contact_list": ""}
    response = owner_client.post(reverse("abtests:new"), data)
    page = response.content.decode()
    assert response.status_code == 422 and "Choose who gets this test" in page
    assert "less than or equal to 50" in page
    assert not ABTest.objects.exists()
    page = owner_client.post(
        reverse("abtests:new"), form_data(audience, variant_b_body="")
    ).content.decode()
    assert 'id="id_variant_b_body_error"' in page and "give a text, or choose a template" in page


def test_start_without_smtp_says_why(owner_client, draft):
    page = owner_client.post(
        reverse("abtests:start", args=[draft.pk]), follow=True
    ).content.decode()
    assert "The test was not started" in page
    draft.refresh_from_db()
    assert draft.status == ABTestStatus.DRAFT


def test_viewer_reads_but_cannot_start(viewer_client, draft):
    assert viewer_client.get(reverse("abtests:detail", args=[draft.pk])).status_code == 200
    assert viewer_client.post(reverse("abtests:start", args=[draft.pk])).status_code == 403
    assert viewer_client.get(reverse("abtests:new")).status_code == 200
    assert viewer_client.post(reverse("abtests:new"), {}).status_code == 403


def test_foreign_test_is_404(owner_client, other_org, make_audience):
    foreign = services.abtest_create(
        organization=other_org,
        name="Theirs",
        variants=[{"subject": "a", "body": "b"}] * 2,
        contact_list=make_audience(2, organization=other_org),
    )
    assert owner_client.get(reverse("abtests:detail", args=[foreign.pk])).status_code == 404
    assert owner_client.post(reverse("abtests:start", args=[foreign.pk])).status_code == 404
    assert owner_client.get(reverse("abtests:results", args=[foreign.pk])).status_code == 404
    assert owner_client.get(reverse("abtests:detail", args=[uuid.uuid4()])).status_code == 404


def test_foreign_list_is_a_form_error(owner_client, other_org):
    foreign = ContactListFactory(organization=other_org)
    page = owner_client.post(reverse("abtests:new"), form_data(foreign)).content.decode()
    assert "Select a valid choice" in page and not ABTest.objects.exists()


def test_pick_when_no_clear_winner(owner_client, run_now, smtp, draft):
    draft.no_winner = "manual"
    draft.save()
    test = run_now(services.abtest_start, test=draft)
    test = services.abtest_decide(test_id=test.pk, now=test.window_ends_at + timedelta(seconds=1))
    page = owner_client.get(reverse("abtests:detail", args=[test.pk])).content.decode()
    assert "Send variant B to the remaining 80" in page
    assert "Not enough data" in page
    response = run_now(owner_client.post, reverse("abtests:pick", args=[test.pk]), {"variant": "B"})
    assert response.status_code == 302
    test.refresh_from_db()
    assert test.status == ABTestStatus.DONE
    page = owner_client.get(reverse("abtests:detail", args=[test.pk])).content.decode()
    assert "You picked Variant B; it went to the remaining 80." in page


def test_winner_is_marked_with_plain_words(owner_client, run_now, smtp, org, make_audience):
    from django.utils import timezone

    test = services.abtest_create(
        organization=org,
        name="Big",
        variants=[{"subject": "A", "body": "b"}, {"subject": "B", "body": "b"}],
        contact_list=make_audience(600),
    )
    test = run_now(services.abtest_start, test=test)
    ids = list(EmailMessage.objects.filter(ab_test=test, variant="B").values_list("pk", flat=True))
    EmailMessage.objects.filter(pk__in=ids[:40]).update(first_opened_at=timezone.now())
    page = owner_client.get(reverse("abtests:results", args=[test.pk])).content.decode()
    assert "<html" not in page and "Variant B&#x27;s open rate is higher with" in page
    decided_at = test.window_ends_at + timedelta(seconds=1)
    run_now(services.abtest_decide, test_id=test.pk, now=decided_at)
    page = owner_client.get(reverse("abtests:detail", args=[test.pk])).content.decode()
    assert "Winner chosen in 4 h 0 min" in page
    assert 'class="abtest-winner"' in page and "Variant B went to the remaining 480" in page


def test_cancel_from_the_page(owner_client, draft):
    owner_client.post(reverse("abtests:cancel", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == ABTestStatus.CANCELLED


def test_audience_count_shows_the_list_size(owner_client, audience):
    page = owner_client.get(
        reverse("abtests:audience-count"), {"contact_list": str(audience.pk)}
    ).content.decode()
    assert "<strong>100</strong> contacts in Newsletter" in page
    page = owner_client.get(
        reverse("abtests:audience-count"), {"contact_list": "x"}
    ).content.decode()
    assert "Choose a segment or a contact list" in page


def test_for_campaign_fragment(owner_client, org, audience):
    campaign = Campaign.objects.create(organization=org, name="Spring")
    url = reverse("abtests:for-campaign", args=[campaign.pk])
    page = owner_client.get(url).content.decode()
    assert "No A/B tests in this campaign yet" in page and "<html" not in page
    services.abtest_create(
        organization=org,
        name="Spring subject",
        variants=[{"subject": "a", "body": "b"}] * 2,
        contact_list=audience,
        campaign=campaign,
    )
    page = owner_client.get(url).content.decode()
    assert "Spring subject" in page and "Draft" in page

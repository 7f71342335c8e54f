"""A marketer opens the page of a campaign whose sequence tested its first subject line: the
opens, clicks and the bounce are counted, and the A/B section (loaded by htmx) says B won; the
sequence's page shows the test on its first email."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agents.abtests.models import ABTestRecipient, RecipientGroup
from agents.campaigns.models import Campaign
from agents.mail.models import EmailEvent, EmailMessage
from agents.models import ABTest, ABTestStatus
from agents.sequences import services, subject_tests
from tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _message(campaign, test, contact, variant, subject, **fields):
    sent_at = timezone.now() - timedelta(hours=5)
    message = EmailMessage.objects.create(
        organization_id=campaign.organization_id,
        campaign=campaign,
        contact=contact,
        to=contact.email,
        subject=subject,
        token=secrets.token_urlsafe(16),
        status=fields.pop("status", "sent"),
        sent_at=sent_at,
        ab_test=test,
        variant=variant,
        **fields,
    )
    for kind in ("open", "click", "bounce"):
        if (kind == "open" and message.first_opened_at) or (
            kind == "click" and message.first_clicked_at
        ):
            EmailEvent.objects.create(
                organization_id=campaign.organization_id,
                message=message,
                campaign=campaign,
                contact=contact,
                kind=kind,
                at=sent_at + timedelta(minutes=3),
            )
        if kind == "bounce" and message.status == "bounced":
            EmailEvent.objects.create(
                organization_id=campaign.organization_id,
                message=message,
                campaign=campaign,
                contact=contact,
                kind=kind,
                detail={"kind": "hard"},
                at=sent_at + timedelta(minutes=1),
            )
    return message


@pytest.fixture
def decided(marketer):
    org = marketer.memberships.first().organization
    campaign = Campaign.objects.create(organization=org, name="Spring Sale")
    sequence = services.sequence_create(
        organization=org,
        name="Spring drip",
        campaign=campaign,
        steps=[
            {"subject": "Spring is here", "body": "Hi {{first_name|there}}."},
            {"wait_days": 1, "condition": "opened", "subject": "Picked for you", "body": "More."},
        ],
    )
    step = sequence.steps.get(position=1)
    test = subject_tests.step_test_set(
        step=step, subject_b="Your spring offer is inside", share_percent=50, min_sample=3
    )
    now = timezone.now()
    people = [
        ContactFactory(organization=org, name=f"P{i} Person", email=f"p{i}@example.org")
        for i in range(8)
    ]
    for i, person in enumerate(people):
        variant = "AB"[i % 2]
        subject = "Spring is here" if variant == "A" else "Your spring offer is inside"
        ABTestRecipient.objects.create(
            test=test, contact=person, group=RecipientGroup.TEST, variant=variant, position=i
        )
        fields = {}
        if variant == "B":
            fields = {"first_opened_at": now - timedelta(hours=4), "opens": 1}
            if i == 1:
                fields.update(first_clicked_at=now - timedelta(hours=4), clicks=1)
            if i == 7:
                fields = {"status": "bounced", "bounce_kind": "hard", "bounced_at": now}
        _message(campaign, test, person, variant, subject, **fields)
    ABTest.objects.filter(pk=test.pk).update(
        status=ABTestStatus.WAITING,
        started_at=now - timedelta(hours=5),
        window_ends_at=now - timedelta(hours=1),
        split={"test": 8, "rest": 0, "rest_sent_elsewhere": True},
    )
    from agents.abtests.services import abtest_decide

    decided = abtest_decide(test_id=test.pk)
    assert decided.winner == "B"
    return campaign, sequence


def test_the_campaign_page_shows_the_numbers_and_the_winner(browser_page, marketer, decided):
    campaign, sequence = decided
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.get_by_role("heading", name="Spring Sale", level=1)).to_be_visible()
    expect(page.locator("#tile-sent .value")).to_have_text("8")
    expect(page.locator("#tile-opened")).to_contain_text("3")
    expect(page.locator("#tile-clicked")).to_contain_text("1")
    expect(page.locator("#tile-bounced")).to_contain_text("1 hard")
    abtests = page.locator("#campaign-abtests")
    expect(abtests).to_contain_text("Variant B won")
    expect(abtests).to_contain_text("email 1 of the sequence Spring drip")
    expect(page.locator("#campaign-sequences")).to_contain_text("Spring drip")
    browser_page.settled()
    browser_page.shot("campaign")

    # The sequence's page shows the test on its first email, in plain words.
    browser_page.goto(f"/email/sequences/{sequence.pk}/")
    card = page.locator("#step-1")
    expect(card).to_contain_text("Subject test")
    expect(card).to_contain_text("Variant B won: everyone else gets its subject.")
    expect(card).to_contain_text("Your spring offer is inside")
    card.scroll_into_view_if_needed()
    browser_page.shot("sequence")
    card.get_by_role("link", name="Open the test's page").click()
    expect(page.locator("main")).to_contain_text("Email 1 of the sequence")
    browser_page.shot("test")

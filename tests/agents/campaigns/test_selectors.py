from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from agents.analytics.models import TrackedPost
from agents.campaigns import selectors
from agents.campaigns.services import campaign_create, conversion_record
from tests.agents.campaigns.conftest import event, message
from tests.factories import AgentRunFactory, OrganizationFactory


def test_totals_count_people_and_leave_machine_opens_and_clicks_apart(org, campaign):
    a = message(campaign, "a@example.com")
    b = message(campaign, "b@example.com")
    c = message(campaign, "c@example.com")
    d = message(campaign, "d@example.com")
    message(campaign, "e@example.com", status="failed", sent_at=None)
    event(a, "open")
    event(a, "open")  # the same person twice: one opened email
    event(a, "click")
    event(b, "open", machine=True)  # Apple's proxy: not a person
    event(b, "click", machine=True)
    event(c, "bounce", detail={"kind": "hard"})
    event(d, "bounce", detail={"kind": "soft"})
    event(d, "reply")
    event(d, "unsubscribe")

    totals = selectors.campaign_totals(campaign=campaign)

    assert totals.sent == 4
    assert totals.failed == 1
    assert totals.hard_bounced == 1 and totals.soft_bounced == 1 and totals.bounced == 2
    assert totals.delivered == 3
    assert totals.opened == 1 and totals.opened_people == 1
    assert totals.clicked == 1
    assert totals.machine_opens == 1 and totals.machine_clicks == 1
    assert totals.replied == 1 and totals.unsubscribed == 1
    assert abs(totals.open_rate - 1 / 3) < 1e-9


def test_cost_conversions_and_posts_are_the_campaigns_own(org, campaign):
    other = campaign_create(organization=org, name="Other")
    AgentRunFactory(organization=org, campaign_id=campaign.pk, cost=Decimal("1.25"))
    AgentRunFactory(organization=org, campaign_id=campaign.pk, cost=Decimal("0.75"))
    AgentRunFactory(organization=org, campaign_id=other.pk, cost=Decimal("9"))
    run = AgentRunFactory(organization=org, campaign_id=campaign.pk)
    TrackedPost.objects.create(
        organization=org, platform="reddit", provider_post_id="t3_1", run=run
    )
    TrackedPost.objects.create(organization=org, platform="reddit", provider_post_id="t3_2")
    conversion_record(campaign=campaign, value="40", reference="o-1")
    conversion_record(campaign=campaign, value="40", reference="o-1")  # a repeat
    conversion_record(campaign=campaign, value="10.50", reference="o-2")

    totals = selectors.campaign_totals(campaign=campaign)

    assert totals.runs == 3 and totals.cost == Decimal("2.00")
    assert totals.conversions == 2 and totals.conversion_value == Decimal("50.50")
    assert totals.posts == 1


def test_another_organizations_rows_never_count(org, campaign):
    stranger = OrganizationFactory()
    AgentRunFactory(organization=stranger, campaign_id=campaign.pk, cost=Decimal("5"))
    assert selectors.campaign_totals(campaign=campaign).cost == Decimal("0")


def test_series_has_every_day_and_counts_people_only(org, campaign):
    now = timezone.now()
    today = timezone.localtime(now, org.tz).date()
    old = message(campaign, "a@example.com", sent_at=now - timedelta(days=2))
    new = message(campaign, "b@example.com", sent_at=now)
    event(old, "open", at=now)
    event(new, "open", at=now)
    event(new, "open", at=now)  # the same email again that day: once
    event(new, "click", machine=True, at=now)
    event(old, "bounce", at=now - timedelta(days=1), detail={"kind": "hard"})

    days = selectors.campaign_series(
        campaign=campaign, since=today - timedelta(days=3), until=today
    )

    assert [d.day for d in days] == [today - timedelta(days=i) for i in (3, 2, 1, 0)]
    by_day = {d.day: d for d in days}
    assert by_day[today].sent == 1 and by_day[today].opened == 2 and by_day[today].clicked == 0
    assert by_day[today - timedelta(days=2)].sent == 1
    assert by_day[today - timedelta(days=1)].bounced == 1
    assert by_day[today - timedelta(days=3)].sent == 0


def test_series_range_defaults_to_the_campaign_dates_and_caps_a_year(org):
    today = timezone.localtime(timezone.now(), org.tz).date()
    dated = campaign_create(
        organization=org, name="Dated", starts_on=today - timedelta(days=5), ends_on=today
    )
    assert selectors.series_range(campaign=dated) == (today - timedelta(days=5), today)
    undated = campaign_create(organization=org, name="Undated")
    start, end = selectors.series_range(campaign=undated)
    assert end == today and (end - start).days == 29
    start, end = selectors.series_range(campaign=undated, since=today - timedelta(days=900))
    assert (end - start).days == selectors.MAX_SERIES_DAYS - 1


def test_list_totals_take_the_same_queries_for_one_campaign_or_many(org, django_assert_num_queries):
    campaigns = [campaign_create(organization=org, name=f"C{i}") for i in range(6)]
    for c in campaigns:
        message(c, "x@example.com")
    with django_assert_num_queries(3):
        found = selectors.campaigns_totals(organization=org, campaigns=campaigns)
    assert all(found[c.pk].sent == 1 for c in campaigns)

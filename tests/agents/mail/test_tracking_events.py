"""event_record's counters, the machine rules, and the public pixel and click views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.mail import machines, selectors, services, tracking
from agents.mail.models import EmailEvent, EmailMessage
from connectors.suppressions import suppression_add
from neonhub.core.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)


@pytest.fixture
def sent(record):
    """The message, sent a minute ago (past the 'within seconds of sending' rule)."""
    EmailMessage.objects.filter(pk=record.pk).update(
        status="sent", sent_at=timezone.now() - timedelta(minutes=1)
    )
    record.refresh_from_db()
    return record


def click_path(record, url="https://shop.example.com/sale"):
    return tracking.click_url(token=record.token, url=url).removeprefix("https://hub.example.com")


# --- counters -----------------------------------------------------------------------------------


def test_person_open_counts_and_sets_first_opened_once(sent, contact, campaign):
    first = services.event_record(message=sent, kind="open")
    services.event_record(message=sent, kind="open", at=first.at + timedelta(hours=1))
    sent.refresh_from_db()
    assert (sent.opens, sent.machine_opens, sent.first_opened_at) == (2, 0, first.at)
    assert (first.contact_id, first.campaign_id, first.organization_id) == (
        contact.pk,
        campaign.pk,
        sent.organization_id,
    )


def test_machine_open_and_click_count_only_as_machines(sent):
    services.event_record(message=sent, kind="open", machine=True)
    services.event_record(message=sent, kind="click", machine=True, url="https://x.example/")
    sent.refresh_from_db()
    assert (sent.opens, sent.machine_opens, sent.clicks, sent.machine_clicks) == (0, 1, 0, 1)
    assert sent.first_opened_at is None and sent.first_clicked_at is None


def test_person_click_implies_an_open(sent):
    event = services.event_record(message=sent, kind="click", url="https://x.example/")
    sent.refresh_from_db()
    assert sent.clicks == 1 and sent.first_clicked_at == event.at == sent.first_opened_at
    assert sent.opens == 0


def test_bounces_complaints_replies_and_unsubscribes_update_the_message(sent):
    services.event_record(message=sent, kind="bounce", detail={"kind": "soft"})
    sent.refresh_from_db()
    assert (sent.soft_bounces, sent.bounce_kind, sent.status) == (1, "soft", "sent")
    hard = services.event_record(message=sent, kind="bounce", detail={"kind": "hard"})
    sent.refresh_from_db()
    assert (sent.status, sent.bounce_kind, sent.bounced_at) == ("bounced", "hard", hard.at)
    complaint = services.event_record(message=sent, kind="complaint")
    reply = services.event_record(message=sent, kind="reply")
    services.event_record(message=sent, kind="reply", at=reply.at + timedelta(days=1))
    unsub = services.event_record(message=sent, kind="unsubscribe")
    sent.refresh_from_db()
    assert (sent.status, sent.complained_at) == ("complained", complaint.at)
    assert sent.replied_at == reply.at and sent.unsubscribed_at == unsub.at


def test_unknown_kind_is_refused(sent):
    with pytest.raises(InvalidInput):
        services.event_record(message=sent, kind="forwarded")
    assert not EmailEvent.objects.exists()


# --- machine rules ------------------------------------------------------------------------------


def hit(sent_ago: float | None = 3600, **kw):
    now = timezone.now()
    base = {
        "method": "GET",
        "address": "203.0.113.9",
        "user_agent": BROWSER,
        "at": now,
        "sent_at": None if sent_ago is None else now - timedelta(seconds=sent_ago),
    }
    return machines.Hit(**{**base, **kw})


@pytest.mark.parametrize(
    "kw, kind, reason",
    [
        ({}, "open", ""),
        ({}, "click", ""),
        ({"user_agent": "Mozilla/5.0"}, "open", "apple_privacy"),
        ({"address": "17.58.100.4"}, "open", "apple_privacy"),
        ({"method": "HEAD"}, "click", "head_request"),
        ({"method": "HEAD"}, "open", "head_request"),
        (
            {"user_agent": "Mozilla/5.0 (compatible; MSOffice 16; Microsoft Office Protection)"},
            "click",
            "security_scanner",
        ),
        ({"user_agent": "Proofpoint URL Defense"}, "click", "security_scanner"),
        ({"user_agent": "Mimecast-LinkScan/1.0"}, "click", "security_scanner"),
        ({"user_agent": "Barracuda Sentinel (EE)"}, "click", "security_scanner"),
        ({"sent_ago": 2}, "click", "too_soon"),
        ({"sent_ago": 2}, "open", "too_soon"),
        ({"sent_ago": 30}, "click", ""),
        ({"sent_ago": None}, "open", ""),
    ],
)
def test_machine_rules(kw, kind, reason):
    assert machines.machine_reason(hit(**kw), kind=kind) == reason


def test_apple_address_clicks_are_people():
    assert machines.machine_reason(hit(address="17.58.100.4"), kind="click") == ""


# --- the public views ---------------------------------------------------------------------------


def test_pixel_records_a_person_open_with_no_cache_headers(
    client, sent, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):  # message, savepoint, event, counters
        resp = client.get(f"/m/o/{sent.token}.gif", HTTP_USER_AGENT=BROWSER)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/gif"
    assert resp.content == tracking.PIXEL_GIF
    assert "no-store" in resp["Cache-Control"]
    event = EmailEvent.objects.get()
    assert (event.kind, event.machine, event.user_agent) == ("open", False, BROWSER)
    sent.refresh_from_db()
    assert sent.opens == 1


def test_pixel_answers_the_same_gif_for_an_unknown_token(client, sent):
    resp = client.get("/m/o/not-a-token.gif")
    assert resp.status_code == 200 and resp.content == tracking.PIXEL_GIF
    assert not EmailEvent.objects.exists()


def test_apple_proxy_open_is_a_machine_open(client, sent):
    client.get(f"/m/o/{sent.token}.gif", HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="17.1.2.3")
    event = EmailEvent.objects.get()
    assert event.machine and event.detail == {"reason": "apple_privacy"}
    sent.refresh_from_db()
    assert (sent.opens, sent.machine_opens) == (0, 1)


def test_open_right_after_sending_is_a_machine_open(client, record):
    EmailMessage.objects.filter(pk=record.pk).update(status="sent", sent_at=timezone.now())
    client.get(f"/m/o/{record.token}.gif", HTTP_USER_AGENT=BROWSER)
    assert EmailEvent.objects.get().detail == {"reason": "too_soon"}


def test_click_redirects_and_records(client, sent, django_assert_max_num_queries):
    # Two reads (the message, the burst check), the event and the counters, and savepoints.
    with django_assert_max_num_queries(8):
        resp = client.get(click_path(sent), HTTP_USER_AGENT=BROWSER)
    assert resp.status_code == 302 and resp["Location"] == "https://shop.example.com/sale"
    assert resp["Referrer-Policy"] == "no-referrer"
    event = EmailEvent.objects.get()
    assert (event.kind, event.url, event.machine) == (
        "click",
        "https://shop.example.com/sale",
        False,
    )
    sent.refresh_from_db()
    assert sent.clicks == 1 and sent.first_opened_at is not None


def test_tampered_click_is_a_plain_404_and_records_nothing(client, sent):
    path = click_path(sent).replace("shop.example.com", "evil.example.com")
    resp = client.get(path)
    assert resp.status_code == 404 and "not valid" in resp.content.decode()
    assert "Location" not in resp
    assert client.get(f"/m/c/{sent.token}/").status_code == 404
    assert client.get(f"/m/c/{sent.token}/?u=https://evil.example.com/&s=").status_code == 404
    assert not EmailEvent.objects.exists()


def test_a_signed_link_of_a_deleted_message_still_redirects(client, sent):
    path = click_path(sent)
    sent.delete()
    resp = client.get(path)
    assert resp.status_code == 302 and resp["Location"] == "https://shop.example.com/sale"


def test_head_click_is_a_machine_click(client, sent):
    resp = client.head(click_path(sent), HTTP_USER_AGENT=BROWSER)
    assert resp.status_code == 302
    assert EmailEvent.objects.get().detail == {"reason": "head_request"}


def test_many_links_in_the_same_second_are_all_machine_clicks(client, sent):
    client.get(click_path(sent, "https://shop.example.com/a"), HTTP_USER_AGENT=BROWSER)
    sent.refresh_from_db()
    assert sent.clicks == 1
    client.get(click_path(sent, "https://shop.example.com/b"), HTTP_USER_AGENT=BROWSER)
    client.get(click_path(sent, "https://shop.example.com/c"), HTTP_USER_AGENT=BROWSER)
    sent.refresh_from_db()
    assert (sent.clicks, sent.machine_clicks, sent.first_clicked_at) == (0, 3, None)
    assert set(EmailEvent.objects.values_list("machine", flat=True)) == {True}
    assert {e.detail["reason"] for e in EmailEvent.objects.all()} == {"burst"}


def test_the_same_link_twice_is_still_a_person(client, sent):
    client.get(click_path(sent), HTTP_USER_AGENT=BROWSER)
    client.get(click_path(sent), HTTP_USER_AGENT=BROWSER)
    sent.refresh_from_db()
    assert (sent.clicks, sent.machine_clicks) == (2, 0)


# --- unsubscribes, selectors ----------------------------------------------------------------------


def test_unsubscribing_with_the_link_is_an_event_of_the_latest_email(
    client, org, sent, django_capture_on_commit_callbacks
):
    from agents.audience.unsubscribe import unsubscribe_url

    path = unsubscribe_url(
        organization_id=org.pk, channel="email", address="ann@example.org"
    ).removeprefix("https://hub.example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(path).status_code == 200
    event = EmailEvent.objects.get()
    assert (event.kind, event.message_id) == ("unsubscribe", sent.pk)
    sent.refresh_from_db()
    assert sent.unsubscribed_at == event.at


def test_other_suppressions_are_not_unsubscribe_events(
    org, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        suppression_add(
            organization=org, channel="email", address="ann@example.org", source="staff"
        )
    assert not EmailEvent.objects.exists()


def test_selectors_stay_in_the_organization(org, other_org, sent, contact):
    services.event_record(message=sent, kind="open")
    assert [e.kind for e in selectors.message_events(organization=org, message_id=sent.pk)] == [
        "open"
    ]
    assert selectors.contact_email_activity(organization=org, contact=contact).count() == 1
    assert not selectors.contact_email_activity(organization=other_org, contact=contact).exists()
    with pytest.raises(NotFound):
        selectors.message_events(organization=other_org, message_id=sent.pk)


# --- where a person sees them ------------------------------------------------------------------


def test_run_fragment_and_message_page_show_what_happened(owner_client, org, sent, contact):
    from tests.factories import AgentRunFactory

    run = AgentRunFactory(organization=org, agent="email", intent="send", status="completed")
    EmailMessage.objects.filter(pk=sent.pk).update(run_id=run.pk)
    services.event_record(
        message=sent, kind="open", machine=True, detail={"reason": "apple_privacy"}
    )
    services.event_record(message=sent, kind="click", url="https://shop.example.com/sale")
    fragment = owner_client.get(f"/email/runs/{run.pk}/emails/").content.decode()
    assert "ann@example.org" in fragment and "1 open, 0 clicks" in fragment
    page = owner_client.get(f"/email/messages/{sent.pk}/").content.decode()
    assert "Apple Mail Privacy Protection loaded the images" in page
    assert "https://shop.example.com/sale" in page and "the person" in page


def test_run_fragment_says_what_to_expect_when_empty(owner_client, org):
    from tests.factories import AgentRunFactory

    run = AgentRunFactory(organization=org, agent="email", intent="send", status="completed")
    assert (
        "No emails recorded" in owner_client.get(f"/email/runs/{run.pk}/emails/").content.decode()
    )


def test_another_organizations_message_and_run_are_404(client, other_org, sent):
    from tests.factories import AgentRunFactory, MembershipFactory

    client.force_login(MembershipFactory(organization=other_org).user)
    run = AgentRunFactory(organization=sent.organization, agent="email", intent="send")
    assert client.get(f"/email/messages/{sent.pk}/").status_code == 404
    assert client.get(f"/email/runs/{run.pk}/emails/").status_code == 404


def test_contact_fragment_lists_the_contacts_email_events(owner_client, org, sent, contact):
    url = f"/email/contacts/{contact.pk}/activity/"
    assert "Nothing yet" in owner_client.get(url).content.decode()
    services.event_record(message=sent, kind="click", url="https://shop.example.com/sale")
    fragment = owner_client.get(url).content.decode()
    assert "Spring is here" in fragment and "Clicked" in fragment
    assert f"/email/messages/{sent.pk}/" in fragment

"""message_prepare: signed click links, UTM parameters, the open pixel and the message header."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from agents.mail import services, tracking
from agents.mail.models import MailSettings

pytestmark = pytest.mark.django_db

UNSUB = "https://hub.example.com/unsubscribe/abc123/"


def message(**extra):
    return {
        "to": "ann@example.org",
        "subject": "Spring is here",
        "text": f"See https://shop.example.com/sale?ref=mail. Or mail us.\n\nStop: {UNSUB}",
        "html": (
            '<html><body><p><a href="https://shop.example.com/sale?ref=mail">Sale</a> '
            '<a href="https://shop.example.com/new?utm_source=partner">New</a> '
            '<a href="mailto:help@example.com">Mail us</a> <a href="tel:+441234">Call</a> '
            '<a href="#top">Top</a></p>'
            f'<p><a href="{UNSUB}">Unsubscribe</a></p></body></html>'
        ),
        "unsubscribe_url": UNSUB,
        **extra,
    }


def hrefs(html):
    return [a["href"] for a in BeautifulSoup(html, "html.parser").find_all("a")]


def destination(link):
    query = parse_qs(urlsplit(link).query)
    return query["u"][0], query["s"][0]


def test_links_become_signed_redirects_with_utm_and_the_rest_is_untouched(org, record):
    out = services.message_prepare(organization=org, record=record, message=message())
    sale, new, mail, tel, anchor, unsub = hrefs(out["html"])
    assert sale.startswith(f"https://hub.example.com/m/c/{record.token}/?")
    url, signature = destination(sale)
    parts = urlsplit(url)
    assert parts.netloc == "shop.example.com" and parts.path == "/sale"
    assert parse_qs(parts.query) == {
        "ref": ["mail"],
        "utm_source": ["neonhub"],
        "utm_medium": ["email"],
        "utm_campaign": ["spring-sale-2026"],
    }
    assert tracking.click_destination(token=record.token, url=url, signature=signature) == url
    # The author's own utm_source wins; the others are added.
    new_query = parse_qs(urlsplit(destination(new)[0]).query)
    assert new_query["utm_source"] == ["partner"] and new_query["utm_medium"] == ["email"]
    assert (mail, tel, anchor, unsub) == ("mailto:help@example.com", "tel:+441234", "#top", UNSUB)
    assert out["headers"] == {"X-NeonHub-Message": record.token}
    assert out["to"] == "ann@example.org" and out["unsubscribe_url"] == UNSUB


def test_text_links_are_rewritten_but_not_the_unsubscribe_link_nor_the_full_stop(org, record):
    out = services.message_prepare(organization=org, record=record, message=message())
    first, rest = out["text"].split(" Or mail us.")
    assert first.startswith("See https://hub.example.com/m/c/") and first.endswith(".")
    url, _ = destination(first.removeprefix("See ").removesuffix("."))
    assert url.startswith("https://shop.example.com/sale?ref=mail&utm_source=neonhub")
    assert rest.endswith(f"Stop: {UNSUB}")


def test_open_pixel_is_the_last_thing_in_the_body(org, record):
    out = services.message_prepare(organization=org, record=record, message=message())
    body = BeautifulSoup(out["html"], "html.parser").body
    last = body.find_all(recursive=False)[-1]
    assert last.name == "img"
    assert last["src"] == f"https://hub.example.com/m/o/{record.token}.gif"
    assert (last["width"], last["height"], last["alt"]) == ("1", "1", "")


def test_a_fragment_without_body_gets_the_pixel_at_the_end(org, record):
    out = services.message_prepare(
        organization=org,
        record=record,
        message=message(html='<p><a href="http://x.example/">x</a></p>'),
    )
    last = BeautifulSoup(out["html"], "html.parser").find_all(recursive=False)[-1]
    assert last.name == "img" and last["src"].endswith(f"/m/o/{record.token}.gif")
    assert out["html"].startswith('<p><a href="https://hub.example.com/m/c/')


def test_plain_text_only_messages_get_no_pixel(org, record):
    plain = message()
    del plain["html"]
    out = services.message_prepare(organization=org, record=record, message=plain)
    assert "html" not in out and "/m/c/" in out["text"]


def test_signatures_differ_per_message_and_per_link(org, record):
    other = services.message_record(organization=org, to="bob@example.org", subject="s")
    url = "https://shop.example.com/sale"
    a = tracking.link_signature(token=record.token, url=url)
    assert a != tracking.link_signature(token=other.token, url=url)
    assert a != tracking.link_signature(token=record.token, url=url + "?x=1")
    assert tracking.click_destination(token=other.token, url=url, signature=a) is None


@pytest.mark.parametrize(
    "url, signature",
    [
        ("https://evil.example.com/", None),  # another destination under the same signature
        ("https://shop.example.com/sale", "0" * 32),  # a made-up signature
        ("https://shop.example.com/sale", ""),  # none
        ("javascript:alert(1)", None),  # not a web address, even if signed
    ],
)
def test_tampered_links_are_refused(record, url, signature):
    good = tracking.link_signature(token=record.token, url="https://shop.example.com/sale")
    if url.startswith("javascript"):
        good = tracking.link_signature(token=record.token, url=url)
    assert (
        tracking.click_destination(
            token=record.token, url=url, signature=good if signature is None else signature
        )
        is None
    )


def test_everything_switched_off_leaves_the_message_as_written(org, record):
    MailSettings.objects.create(
        organization=org, track_opens=False, track_clicks=False, add_utm=False
    )
    original = message()
    out = services.message_prepare(organization=org, record=record, message=original)
    assert {k: v for k, v in out.items() if k != "headers"} == original
    assert out["headers"] == {"X-NeonHub-Message": record.token}


def test_utm_only_adds_parameters_to_the_links_themselves(org, record):
    MailSettings.objects.create(
        organization=org, track_opens=False, track_clicks=False, utm_source="newsletter"
    )
    out = services.message_prepare(organization=org, record=record, message=message())
    sale = hrefs(out["html"])[0]
    assert sale.startswith("https://shop.example.com/sale?ref=mail&utm_source=newsletter")
    assert "<img" not in out["html"] and "/m/c/" not in out["text"]


def test_clicks_without_utm_keep_destinations_as_written(org, record):
    MailSettings.objects.create(organization=org, add_utm=False)
    out = services.message_prepare(organization=org, record=record, message=message())
    assert destination(hrefs(out["html"])[0])[0] == "https://shop.example.com/sale?ref=mail"


def test_variant_is_utm_content_and_no_campaign_means_no_utm_campaign(org):
    record = services.message_record(
        organization=org, to="cy@example.org", subject="s", variant="variant_1"
    )
    out = services.message_prepare(organization=org, record=record, message=message())
    query = parse_qs(urlsplit(destination(hrefs(out["html"])[0])[0]).query)
    assert query["utm_content"] == ["variant_1"] and "utm_campaign" not in query


def test_campaign_own_utm_name_is_used(org, record, campaign):
    campaign.utm_campaign = "spring26"
    campaign.save()
    record.refresh_from_db()
    out = services.message_prepare(organization=org, record=record, message=message())
    query = parse_qs(urlsplit(destination(hrefs(out["html"])[0])[0]).query)
    assert query["utm_campaign"] == ["spring26"]


def test_links_signed_with_an_old_key_still_work_while_it_is_a_fallback(record, settings):
    url = "https://shop.example.com/sale"
    signature = tracking.link_signature(token=record.token, url=url)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    assert tracking.click_destination(token=record.token, url=url, signature=signature) == url
    settings.SECRET_KEY_FALLBACKS = []
    assert tracking.click_destination(token=record.token, url=url, signature=signature) is None


def test_outlook_conditional_comments_survive(org, record):
    html = (
        "<!doctype html><html><body><!--[if mso | IE]><table><tr><td><![endif]-->"
        '<a href="https://shop.example.com/">Shop</a><!--[if mso | IE]></td></tr></table>'
        "<![endif]--></body></html>"
    )
    out = services.message_prepare(organization=org, record=record, message=message(html=html))
    assert "<!--[if mso | IE]><table><tr><td><![endif]-->" in out["html"]
    assert "<!--[if mso | IE]></td></tr></table><![endif]-->" in out["html"]
    assert out["html"].count("/m/c/") == 1

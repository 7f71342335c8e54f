"""The open pixel and the click links put into each outgoing email.

A click link is ``<public site>/m/c/<message token>/?u=<destination>&s=<signature>``: the
destination travels in the link itself and the signature is an HMAC (Django's
``salted_hmac`` under this module's own salt, so no other signed value of the site can be
replayed here) over the message's token and that destination.  Each message and each link
therefore has its own signature, no row is stored per link, and a changed destination or a
link moved to another message is refused (a plain 404, never a redirect to somewhere the
link did not name).  The pixel is ``<public site>/m/o/<message token>.gif``: the token is
random and reveals nothing; the answer is the same GIF for any token.

UTM parameters (``utm_source``, ``utm_medium``, ``utm_campaign``, ``utm_content``) are added
to each destination, keeping any the author already set.  The unsubscribe link, ``mailto:``
and ``tel:`` links and anchors inside the page are never touched.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bs4 import BeautifulSoup
from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "neonhub.mail.click.v1"
HEADER = "X-NeonHub-Message"

# A 1x1 transparent GIF (43 bytes).
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

# A bare web address in a plain-text part; trailing punctuation belongs to the sentence.
TEXT_URL_RE = re.compile(r"https?://[^\s<>\"'\]\)]+", re.IGNORECASE)
TRAILING = ".,;:!?"


@dataclass(frozen=True)
class Tracking:
    """What to do to one message: from the organization's settings and the message's record."""

    token: str
    opens: bool
    clicks: bool
    utm: dict[str, str] = field(default_factory=dict)  # empty: no UTM parameters

    @property
    def changes_anything(self) -> bool:
        return self.opens or self.clicks or bool(self.utm)


def link_signature(*, token: str, url: str, secret: str | None = None) -> str:
    value = f"{token}\n{url}"
    return salted_hmac(SALT, value, secret=secret, algorithm="sha256").hexdigest()[:32]


def click_url(*, token: str, url: str) -> str:
    path = reverse("mail-public:click", args=[token])
    query = urlencode({"u": url, "s": link_signature(token=token, url=url)})
    return f"{settings.NEONHUB_PUBLIC_URL}{path}?{query}"


def pixel_url(*, token: str) -> str:
    return f"{settings.NEONHUB_PUBLIC_URL}{reverse('mail-public:open', args=[token])}"


def click_destination(*, token: str, url: str, signature: str) -> str | None:
    """The destination of a click link, or ``None`` when the link is not one we signed."""
    if not url or not signature or not _web(url):
        return None
    # Signed with the current key, or an old one still accepted (SECRET_KEY_FALLBACKS).
    for secret in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())):
        expected = link_signature(token=token, url=url, secret=secret)
        if constant_time_compare(expected, signature):
            return url
    return None


def with_utm(url: str, utm: dict[str, str]) -> str:
    """``url`` with the UTM parameters it does not already have (the author's win)."""
    if not utm:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name.lower() for name, _ in query}
    added = [(name, value) for name, value in utm.items() if name not in present and value]
    if not added:
        return url
    return urlunsplit(parts._replace(query=urlencode(query + added)))


def instrument(message: dict, tracking: Tracking) -> dict:
    """``message`` (to, subject, text, html?, unsubscribe_url) with its links, UTM parameters,
    pixel and the ``X-NeonHub-Message`` header; the parts themselves are left as they are when
    nothing is switched on."""
    out = dict(message)
    out["headers"] = {**(message.get("headers") or {}), HEADER: tracking.token}
    if not tracking.changes_anything:
        return out
    skip = _unsubscribe_links(message.get("unsubscribe_url") or "")
    if out.get("text") and (tracking.clicks or tracking.utm):
        out["text"] = _text(out["text"], tracking, skip)
    if out.get("html"):
        out["html"] = _html(out["html"], tracking, skip)
    return out


def _link(url: str, tracking: Tracking) -> str:
    destination = with_utm(url, tracking.utm)
    return click_url(token=tracking.token, url=destination) if tracking.clicks else destination


def _text(text: str, tracking: Tracking, skip: _Unsubscribe) -> str:
    def replace(match: re.Match) -> str:
        found = match.group(0)
        url = found.rstrip(TRAILING)
        tail = found[len(url) :]
        if url in skip:
            return found
        return _link(url, tracking) + tail

    return TEXT_URL_RE.sub(replace, text)


def _html(html: str, tracking: Tracking, skip: _Unsubscribe) -> str:
    soup = BeautifulSoup(html, "html.parser")
    if tracking.clicks or tracking.utm:
        for anchor in soup.find_all("a", href=True):
            href = anchor["href"].strip()
            if _web(href) and href not in skip:
                anchor["href"] = _link(href, tracking)
    if tracking.opens:
        pixel = soup.new_tag(
            "img",
            attrs={
                "src": pixel_url(token=tracking.token),
                "width": "1",
                "height": "1",
                "alt": "",
                "style": "display:block;width:1px;height:1px;border:0;margin:0;padding:0",
            },
        )
        (soup.body or soup).append(pixel)
    return str(soup)


def _web(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


class _Unsubscribe:
    """The message's unsubscribe link, and any other of our unsubscribe pages' links."""

    def __init__(self, unsubscribe_url: str):
        self.url = unsubscribe_url
        self.prefix = settings.NEONHUB_PUBLIC_URL + reverse("unsubscribe", args=["-"])[:-2]

    def __contains__(self, url: str) -> bool:
        return url == self.url or url.startswith(self.prefix)


def _unsubscribe_links(unsubscribe_url: str) -> _Unsubscribe:
    return _Unsubscribe(unsubscribe_url)

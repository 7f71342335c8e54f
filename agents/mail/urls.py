"""The mail pages (namespace ``mail``)."""

from django.urls import path  # noqa: F401

from agents.mail.inbound_urls import inbound_patterns, page_patterns

app_name = "mail"

urlpatterns: list = [*page_patterns]

# Public: the tracking pixel and links a mail client follows, and the bounce mailbox's inbound
# endpoint; each request proves itself with a signed token.
public_patterns: list = [*inbound_patterns]

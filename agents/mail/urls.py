"""The mail pages (namespace ``mail``)."""

from django.urls import path  # noqa: F401

app_name = "mail"

urlpatterns: list = []

# Public: the tracking pixel and links a mail client follows, and the bounce mailbox's inbound
# endpoint; each request proves itself with a signed token.
public_patterns: list = []

"""Bounce handling's URLs: the public inbound endpoint and the settings page.

``inbound_patterns`` are public (mounted at the site root, beside the tracking links);
``page_patterns`` belong to the ``mail`` namespace.
"""

from django.urls import path

from agents.mail import inbound, inbound_views

inbound_patterns = [
    path("hooks/mail/inbound/<str:token>", inbound.inbound_mail, name="inbound"),
]

page_patterns = [
    path("email/bounces/", inbound_views.bounce_settings, name="bounces"),
    path("email/bounces/test", inbound_views.bounce_test, name="bounces-test"),
    path("email/bounces/rotate", inbound_views.bounce_rotate, name="bounces-rotate"),
]

"""The mail pages (namespace ``mail``) and the public tracking links (namespace ``mail-public``)."""

from django.urls import path

from agents.mail import views
from agents.mail.inbound_urls import inbound_patterns, page_patterns

app_name = "mail"

urlpatterns: list = [
    path("email/tracking/", views.tracking_settings, name="settings"),
    path("email/messages/<uuid:message_id>/", views.message_detail, name="message"),
    path("email/runs/<uuid:run_id>/emails/", views.run_emails, name="run-emails"),
    path(
        "email/contacts/<uuid:contact_id>/activity/",
        views.contact_activity,
        name="contact-activity",
    ),
    *page_patterns,
]

# Public: the tracking pixel and links a mail client follows, and the bounce mailbox's inbound
# endpoint; each request proves itself with a signed token.
public_patterns: list = [
    path("m/o/<str:token>.gif", views.open_pixel, name="open"),
    path("m/c/<str:token>/", views.click, name="click"),
    *inbound_patterns,
]

"""URLs of triggers: the public webhook endpoints (namespace ``hooks``) and the pages (``triggers``)."""

from django.urls import path

from agents.triggers import webhooks

hook_patterns = [
    path("twilio/<str:connector_id>/inbound", webhooks.twilio_inbound, name="twilio-inbound"),
    path("twilio/<str:connector_id>/status", webhooks.twilio_status, name="twilio-status"),
    path("meta/<str:connector_id>", webhooks.meta, name="meta"),
    path("shopify/<str:connector_id>", webhooks.shopify, name="shopify"),
    path("generic/<str:trigger_id>", webhooks.generic, name="generic"),
]

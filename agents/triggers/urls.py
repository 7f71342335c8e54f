"""URLs of triggers: the public webhook endpoints (namespace ``hooks``) and the pages (``triggers``)."""

from django.urls import path

from agents.triggers import views, webhooks

hook_patterns = [
    path("twilio/<str:connector_id>/inbound", webhooks.twilio_inbound, name="twilio-inbound"),
    path("twilio/<str:connector_id>/status", webhooks.twilio_status, name="twilio-status"),
    path("meta/<str:connector_id>", webhooks.meta, name="meta"),
    path("shopify/<str:connector_id>", webhooks.shopify, name="shopify"),
    path("generic/<str:trigger_id>", webhooks.generic, name="generic"),
]

page_patterns = [
    path("batches/", views.batch_list, name="batch-list"),
    path("batches/<uuid:batch_id>/", views.batch_detail, name="batch-detail"),
    path("batches/<uuid:batch_id>/progress/", views.batch_progress, name="batch-progress"),
    path(
        "batches/<uuid:batch_id>/pause/",
        views.batch_action,
        {"action": "pause"},
        name="batch-pause",
    ),
    path(
        "batches/<uuid:batch_id>/resume/",
        views.batch_action,
        {"action": "resume"},
        name="batch-resume",
    ),
    path(
        "batches/<uuid:batch_id>/cancel/",
        views.batch_action,
        {"action": "cancel"},
        name="batch-cancel",
    ),
    path("schedules/", views.schedule_list, name="schedule-list"),
    path("schedules/preview/", views.schedule_preview, name="schedule-preview"),
    path(
        "schedules/<uuid:schedule_id>/pause/",
        views.schedule_action,
        {"action": "pause"},
        name="schedule-pause",
    ),
    path(
        "schedules/<uuid:schedule_id>/resume/",
        views.schedule_action,
        {"action": "resume"},
        name="schedule-resume",
    ),
    path(
        "schedules/<uuid:schedule_id>/delete/",
        views.schedule_action,
        {"action": "delete"},
        name="schedule-delete",
    ),
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts/import/", views.contact_import, name="contact-import"),
    path(
        "contacts/import/<str:import_id>/",
        views.contact_import_preview,
        name="contact-import-preview",
    ),
    path("contacts/export/", views.contact_export, name="contact-export"),
    path("triggers/", views.trigger_list, name="trigger-list"),
    path(
        "triggers/<uuid:trigger_id>/enable/",
        views.trigger_action,
        {"action": "enable"},
        name="trigger-enable",
    ),
    path(
        "triggers/<uuid:trigger_id>/disable/",
        views.trigger_action,
        {"action": "disable"},
        name="trigger-disable",
    ),
    path(
        "triggers/<uuid:trigger_id>/delete/",
        views.trigger_action,
        {"action": "delete"},
        name="trigger-delete",
    ),
]

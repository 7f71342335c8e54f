"""URLs of automation: the public webhook endpoints (namespace ``hooks``) and the pages (``automation``)."""

from django.urls import path

from agents.automation import views, webhooks

app_name = "automation"

hook_patterns = [
    path("twilio/<str:connector_id>/inbound", webhooks.twilio_inbound, name="twilio-inbound"),
    path("twilio/<str:connector_id>/status", webhooks.twilio_status, name="twilio-status"),
    path("meta/<str:connector_id>", webhooks.meta, name="meta"),
    path("shopify/<str:connector_id>", webhooks.shopify, name="shopify"),
    path("generic/<str:trigger_id>", webhooks.generic, name="generic"),
]

urlpatterns = [
    path("batches/", views.batch_list, name="batch-list"),
    # The new-batch form posts its CSV here: a path ending in /upload gets the upload size limit.
    path("batches/upload", views.batch_list, name="batch-upload"),
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

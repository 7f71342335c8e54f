"""URLs of automation: the public webhook endpoints (namespace ``hooks``) and the pages (``automation``)."""

from django.urls import path

from agents.automation import views, webhooks

app_name = "automation"

# The generic trigger's path comes first: "generic" is not a provider's path.  Every
# provider answers at <its webhook_path>/<connector id>[/<kind>] (see webhooks.py).
hook_patterns = [
    path("generic/<str:trigger_id>", webhooks.generic, name="generic"),
    path("<slug:prefix>/<str:connector_id>", webhooks.provider_hook, name="provider"),
    path(
        "<slug:prefix>/<str:connector_id>/<slug:kind>",
        webhooks.provider_hook,
        name="provider-kind",
    ),
]

urlpatterns = [
    path("batches/", views.batch_list, name="batch-list"),
    # The new-batch form posts its CSV here: a path ending in /upload gets the upload size limit.
    path("batches/upload", views.batch_list, name="batch-upload"),
    path("batches/<uuid:batch_id>/", views.batch_detail, name="batch-detail"),
    path(
        "campaigns/<uuid:campaign_id>/automation/",
        views.campaign_origins,
        name="campaign-origins",
    ),
    path("batches/<uuid:batch_id>/progress/", views.batch_progress, name="batch-progress"),
    path(
        "batches/<uuid:batch_id>/items/<int:index>/",
        views.batch_item_row,
        name="batch-item-row",
    ),
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
    path("schedules/<uuid:schedule_id>/", views.schedule_edit, name="schedule-edit"),
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
    path("calendar/", views.calendar_page, name="calendar"),
    path(
        "calendar/runs/<uuid:run_id>/reschedule/",
        views.calendar_reschedule,
        name="calendar-reschedule",
    ),
    path("calendar/runs/<uuid:run_id>/cancel/", views.calendar_cancel, name="calendar-cancel"),
    path(
        "calendar/schedules/<uuid:schedule_id>/skip/",
        views.calendar_schedule_action,
        {"action": "skip"},
        name="calendar-schedule-skip",
    ),
    path(
        "calendar/schedules/<uuid:schedule_id>/pause/",
        views.calendar_schedule_action,
        {"action": "pause"},
        name="calendar-schedule-pause",
    ),
    path("calendar/link/", views.calendar_feed_regenerate, name="calendar-feed-regenerate"),
    # Public: the signed token is the key (agents/automation/feed.py); no session needed.
    path("calendar/feed/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("triggers/", views.trigger_list, name="trigger-list"),
    path("recipes/", views.recipe_list, name="recipe-list"),
    path("recipes/<uuid:recipe_id>/", views.recipe_edit, name="recipe-edit"),
    path("recipes/<uuid:recipe_id>/preview/", views.recipe_preview, name="recipe-preview"),
    path("recipes/<uuid:recipe_id>/switch/", views.recipe_switch, name="recipe-switch"),
    path("triggers/<uuid:trigger_id>/", views.trigger_edit, name="trigger-edit"),
    path(
        "triggers/<uuid:trigger_id>/rotate-secret/",
        views.trigger_action,
        {"action": "rotate"},
        name="trigger-rotate",
    ),
    path(
        "triggers/deliveries/<uuid:delivery_id>/",
        views.delivery_detail,
        name="delivery-detail",
    ),
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

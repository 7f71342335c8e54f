"""The sequences pages (namespace ``sequences``), under the Email area."""

from django.urls import path

from agents.sequences import views

app_name = "sequences"

urlpatterns = [
    path("email/sequences/", views.sequence_list, name="list"),
    path("email/sequences/new/", views.sequence_new, name="new"),
    path(
        "email/sequences/for-campaign/<uuid:campaign_id>/",
        views.for_campaign,
        name="for-campaign",
    ),
    path("email/sequences/<uuid:sequence_id>/", views.sequence_detail, name="detail"),
    path("email/sequences/<uuid:sequence_id>/edit/", views.sequence_edit, name="edit"),
    path(
        "email/sequences/<uuid:sequence_id>/activate/",
        views.sequence_status,
        {"action": "activate"},
        name="activate",
    ),
    path(
        "email/sequences/<uuid:sequence_id>/pause/",
        views.sequence_status,
        {"action": "pause"},
        name="pause",
    ),
    path("email/sequences/<uuid:sequence_id>/delete/", views.sequence_delete, name="delete"),
    path("email/sequences/<uuid:sequence_id>/steps/add/", views.step_add, name="step-add"),
    path(
        "email/sequences/<uuid:sequence_id>/steps/<uuid:step_id>/edit/",
        views.step_edit,
        name="step-edit",
    ),
    path(
        "email/sequences/<uuid:sequence_id>/steps/<uuid:step_id>/move/",
        views.step_move,
        name="step-move",
    ),
    path(
        "email/sequences/<uuid:sequence_id>/steps/<uuid:step_id>/remove/",
        views.step_remove,
        name="step-remove",
    ),
    path("email/sequences/<uuid:sequence_id>/enroll/", views.enroll_email, name="enroll"),
    path(
        "email/sequences/<uuid:sequence_id>/enroll-segment/",
        views.enroll_segment,
        name="enroll-segment",
    ),
    path(
        "email/sequences/<uuid:sequence_id>/enrollments/<uuid:enrollment_id>/",
        views.enrollment_detail,
        name="enrollment",
    ),
    path(
        "email/sequences/<uuid:sequence_id>/enrollments/<uuid:enrollment_id>/remove/",
        views.enrollment_remove,
        name="enrollment-remove",
    ),
]

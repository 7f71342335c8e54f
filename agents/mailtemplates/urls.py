"""The template pages (namespace ``mailtemplates``), under the Email area."""

from django.urls import path

from agents.mailtemplates import views

app_name = "mailtemplates"

urlpatterns = [
    path("email/templates/", views.template_list, name="list"),
    path("email/templates/new/", views.template_new, name="new"),
    path("email/templates/<uuid:template_id>/", views.template_detail, name="detail"),
    path("email/templates/<uuid:template_id>/live/", views.template_live, name="live"),
    path("email/templates/<uuid:template_id>/preview/", views.template_preview, name="preview"),
    path(
        "email/templates/<uuid:template_id>/duplicate/",
        views.template_duplicate,
        name="duplicate",
    ),
    path("email/templates/<uuid:template_id>/delete/", views.template_delete, name="delete"),
    path(
        "email/templates/<uuid:template_id>/send-test/",
        views.template_send_test,
        name="send-test",
    ),
]

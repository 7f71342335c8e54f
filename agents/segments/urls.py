"""The segments pages (namespace ``segments``), in the Email area."""

from django.urls import path

from agents.segments import views

app_name = "segments"

urlpatterns = [
    path("email/segments/", views.segment_list, name="list"),
    path("email/segments/new/", views.segment_new, name="new"),
    path("email/segments/count/", views.segment_count, name="count"),
    path("email/segments/row/", views.segment_row, name="row"),
    path("email/segments/row/remove/", views.segment_row_remove, name="row-remove"),
    path("email/segments/<uuid:segment_id>/", views.segment_detail, name="detail"),
    path("email/segments/<uuid:segment_id>/delete/", views.segment_delete, name="delete"),
]

from django.urls import path

from agents import views

app_name = "agents"

urlpatterns = [
    path("runs/new/", views.run_new, name="run-new"),
    path("runs/<uuid:run_id>/cancel/", views.run_cancel, name="run-cancel"),
    path("runs/<uuid:run_id>/retry/", views.run_retry, name="run-retry"),
    path("runs/<uuid:run_id>/rerun/", views.run_rerun, name="run-rerun"),
    path("runs/<uuid:run_id>/outbox/", views.run_outbox, name="run-outbox"),
]

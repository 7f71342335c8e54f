from django.urls import path

from runs import views

app_name = "runs"

urlpatterns = [
    path("", views.run_list, name="list"),
    path("runs/newer/", views.run_newer, name="newer"),
    path("overview/", views.overview, name="overview"),
    path("runs/<uuid:run_id>/", views.run_detail, name="detail"),
    path("runs/<uuid:run_id>/row/", views.run_row, name="row"),
    path("runs/<uuid:run_id>/result.md", views.run_download, {"fmt": "md"}, name="download-md"),
    path(
        "runs/<uuid:run_id>/result.html", views.run_download, {"fmt": "html"}, name="download-html"
    ),
]

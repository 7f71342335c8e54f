from django.urls import path

from connectors import views

app_name = "connectors"

urlpatterns = [
    path("connectors/", views.connector_list, name="list"),
    path("connectors/new/", views.connector_add, name="add"),
    path("connectors/<uuid:connector_id>/", views.connector_detail, name="detail"),
    path("connectors/<uuid:connector_id>/edit/", views.connector_edit, name="edit"),
    path("connectors/<uuid:connector_id>/delete/", views.connector_delete, name="delete"),
    path("connectors/<uuid:connector_id>/test/", views.connector_test, name="test"),
]

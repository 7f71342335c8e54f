from django.urls import path

from connectors import views
from connectors.oauth import views as oauth_views

app_name = "connectors"

urlpatterns = [
    path("connectors/", views.connector_list, name="list"),
    path("connectors/new/", views.connector_add, name="add"),
    path("connectors/<uuid:connector_id>/", views.connector_detail, name="detail"),
    path("connectors/<uuid:connector_id>/edit/", views.connector_edit, name="edit"),
    path("connectors/<uuid:connector_id>/delete/", views.connector_delete, name="delete"),
    path("connectors/<uuid:connector_id>/test/", views.connector_test, name="test"),
    # "Connect with …" (connectors/oauth): the callback path is fixed, registered with each app.
    path("connectors/oauth/<slug:target>/start/", oauth_views.oauth_start, name="oauth-start"),
    path(
        "connectors/oauth/<slug:app>/callback/", oauth_views.oauth_callback, name="oauth-callback"
    ),
    path("connectors/oauth/grants/<uuid:grant_id>/", oauth_views.oauth_choose, name="oauth-choose"),
    path("settings/connected-apps/", oauth_views.oauth_apps, name="oauth-apps"),
]

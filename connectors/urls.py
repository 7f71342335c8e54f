from django.urls import path

from connectors import views
from connectors.oauth import views as oauth_views
from connectors.oauth.specs import APPS, TARGETS

app_name = "connectors"

urlpatterns = [
    path("connectors/", views.connector_list, name="list"),
    path("connectors/new/", views.connector_add, name="add"),
    path("connectors/<uuid:connector_id>/", views.connector_detail, name="detail"),
    path("connectors/<uuid:connector_id>/edit/", views.connector_edit, name="edit"),
    path("connectors/<uuid:connector_id>/delete/", views.connector_delete, name="delete"),
    path("connectors/<uuid:connector_id>/test/", views.connector_test, name="test"),
    # "Connect with …" (connectors/oauth): one fixed path per target and per app (the callback
    # is the redirect URL registered with each app), so an unknown one is simply not a page.
    *(
        path(
            f"connectors/oauth/{target}/start/",
            oauth_views.oauth_start,
            {"target": target},
            name=f"oauth-start-{target}",
        )
        for target in TARGETS
    ),
    *(
        path(
            f"connectors/oauth/{app}/callback/",
            oauth_views.oauth_callback,
            {"app": app},
            name=f"oauth-callback-{app}",
        )
        for app in APPS
    ),
    path("connectors/oauth/grants/<uuid:grant_id>/", oauth_views.oauth_choose, name="oauth-choose"),
    path("settings/connected-apps/", oauth_views.oauth_apps, name="oauth-apps"),
]

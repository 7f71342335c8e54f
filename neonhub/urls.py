from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agents.audience.urls import public_patterns as audience_public_patterns
from agents.automation.urls import hook_patterns
from neonhub.api import api
from neonhub.core import views as core_views
from neonhub.core import views_api_keys as api_key_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("org/switch/", core_views.organization_switch, name="org-switch"),
    path("settings/", core_views.settings_home, name="settings"),
    path("settings/audit/", core_views.audit_log, name="audit-log"),
    path("settings/api-keys/", api_key_views.api_key_list, name="api-keys"),
    path("settings/api-keys/<uuid:api_key_id>/", api_key_views.api_key_edit, name="api-key-edit"),
    path(
        "settings/api-keys/<uuid:api_key_id>/revoke/",
        api_key_views.api_key_revoke,
        name="api-key-revoke",
    ),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics, name="metrics"),
    *audience_public_patterns,
    # Public webhook endpoints that providers call; each request proves itself with a signature.
    path("hooks/", include((hook_patterns, "hooks"))),
    path("", include("runs.urls")),
    path("", include("agents.urls")),
    path("", include("connectors.urls")),
    path("", include("agents.automation.urls")),
    path("", include("agents.audience.urls")),
]

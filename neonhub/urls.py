from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agents.public_views import unsubscribe
from neonhub.api import api
from neonhub.core import views as core_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("org/switch/", core_views.organization_switch, name="org-switch"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("", include("runs.urls")),
    path("", include("agents.urls")),
]

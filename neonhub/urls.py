from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agents.audience.urls import public_patterns as audience_public_patterns
from agents.automation.urls import hook_patterns
from agents.mail.urls import public_patterns as mail_public_patterns
from neonhub.api import api
from neonhub.core import views as core_views
from neonhub.core import views_api_keys as api_key_views
from neonhub.core import views_team

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("login/", views_team.LoginView.as_view(), name="login"),
    path("login/code/", views_team.login_code, name="login-code"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/", views_team.account, name="account"),
    path("invitations/<str:token>/", views_team.invitation_accept, name="invitation-accept"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("org/switch/", core_views.organization_switch, name="org-switch"),
    path("settings/", core_views.settings_home, name="settings"),
    path("settings/audit/", core_views.audit_log, name="audit-log"),
    path("settings/alerts/", include("neonhub.alerts.urls")),
    path("settings/team/", views_team.team_page, name="team"),
    path("settings/team/invite/", views_team.team_invite, name="team-invite"),
    path("settings/team/two-factor/", views_team.team_two_factor, name="team-two-factor"),
    path(
        "settings/team/invitations/<uuid:invitation_id>/resend/",
        views_team.team_invitation_resend,
        name="team-invitation-resend",
    ),
    path(
        "settings/team/invitations/<uuid:invitation_id>/revoke/",
        views_team.team_invitation_revoke,
        name="team-invitation-revoke",
    ),
    path(
        "settings/team/members/<uuid:member_id>/role/",
        views_team.team_member_role,
        name="team-member-role",
    ),
    path(
        "settings/team/members/<uuid:member_id>/remove/",
        views_team.team_member_remove,
        name="team-member-remove",
    ),
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
    path("", include((mail_public_patterns, "mail-public"))),
    # Public webhook endpoints that providers call; each request proves itself with a signature.
    path("hooks/", include((hook_patterns, "hooks"))),
    path("", include("runs.urls")),
    path("", include("agents.urls")),
    path("", include("connectors.urls")),
    path("", include("agents.automation.urls")),
    path("", include("agents.audience.urls")),
    path("", include("agents.analytics.urls")),
    path("", include("agents.campaigns.urls")),
    path("", include("agents.mail.urls")),
    path("", include("agents.mailtemplates.urls")),
    path("", include("agents.segments.urls")),
    path("", include("agents.abtests.urls")),
    path("", include("agents.sequences.urls")),
]

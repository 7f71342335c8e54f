"""What the OAuth flows keep: an organization's own app, a connection waiting for its account
to be chosen, and the OAuth facts of a connected connector.

Secrets (an app's client secret, a waiting connection's tokens) are AES-256-GCM tokens from
``connectors.crypto`` bound to their row's id, as connector credentials are.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from neonhub.core.models import BaseModel, Organization


class OAuthApp(BaseModel):
    """An organization's own registration at a provider, used instead of the installation's."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="oauth_apps"
    )
    app = models.CharField(max_length=32)  # a key of connectors.oauth.specs.APPS, no choices
    client_id = models.CharField(max_length=255)
    client_secret = models.TextField(editable=False)
    client_secret_mask = models.CharField(max_length=16, blank=True, default="", editable=False)

    class Meta:
        ordering = ["app"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "app"], name="oauthapp_unique_org_app")
        ]

    def __str__(self) -> str:
        return f"{self.app} app"


class OAuthGrant(BaseModel):
    """Tokens just granted, waiting for the person to choose which account becomes a connector.

    ``secrets`` holds the encrypted JSON of the tokens (and per-account tokens such as Page
    tokens); ``accounts`` only what the chooser shows.  Deleted when the choice is made;
    a grant past ``expires_at`` is refused and pruned.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="oauth_grants"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=32)
    secrets = models.TextField(editable=False)
    accounts = models.JSONField(default=list)
    scopes = models.JSONField(default=list)
    # The connector being reconnected, if the flow started from one.
    reconnect = models.ForeignKey(
        "connectors.Connector", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.target} grant"


class OAuthLink(BaseModel):
    """How a connector was connected: the app, the account, the scopes granted, the refreshes.

    Its presence is what makes a connector "OAuth-connected": the refresh schedule renews
    its tokens and a "token expired" answer triggers one refresh and one retry.
    """

    connector = models.OneToOneField(
        "connectors.Connector", on_delete=models.CASCADE, related_name="oauth_link"
    )
    target = models.CharField(max_length=32)
    account_id = models.CharField(max_length=255)
    account_name = models.CharField(max_length=255, blank=True, default="")
    scopes = models.JSONField(default=list)
    # Which app credentials renew it: the organization's own app, or the installation's.
    own_app = models.BooleanField(default=False)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.target}: {self.account_name or self.account_id}"

"""An organization's connectors, the outbox of side effects, suppressions and budget usage.

``Connector.provider`` holds a registry slug without ``choices``: a new provider must not
need a migration (STYLE.md).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from neonhub.core.models import BaseModel, Organization


class Mode(models.TextChoices):
    LIVE = "live", "Live"
    SANDBOX = "sandbox", "Sandbox"


class Health(models.TextChoices):
    # A new connector, until a test passes or a call through it succeeds: nothing is known yet.
    UNTESTED = "untested", "Untested"
    HEALTHY = "healthy", "Healthy"
    EXPIRING = "expiring", "Expiring"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
    RATE_LIMITED = "rate_limited", "Rate limited"
    DISABLED = "disabled", "Disabled"


class Connector(BaseModel):
    """One account at an outside service.

    ``credentials`` is one AES-256-GCM token (see ``connectors.crypto``) holding the JSON of
    the provider's Credentials schema; ``credentials_masks`` keeps what may be shown of each
    field (``AC12…9f3e``), so lists never decrypt.  ``state`` is provider-owned, non-secret
    runtime state (rate-limit headers, a pending upload) persisted between calls.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="connectors"
    )
    provider = models.CharField(max_length=64)
    name = models.CharField(max_length=100)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.LIVE)
    enabled = models.BooleanField(default=True)
    credentials = models.TextField(blank=True, default="", editable=False)
    credentials_masks = models.JSONField(default=dict, blank=True, editable=False)
    config = models.JSONField(default=dict, blank=True)
    state = models.JSONField(default=dict, blank=True, editable=False)
    health = models.CharField(max_length=16, choices=Health.choices, default=Health.UNTESTED)
    last_error = models.CharField(max_length=200, blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["provider", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "name"],
                name="connector_unique_org_provider_name",
            ),
            models.CheckConstraint(
                condition=models.Q(mode__in=Mode.values), name="connector_mode_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(health__in=Health.values), name="connector_health_valid"
            ),
        ]
        indexes = [
            # connector_for(): an organization's enabled connectors of one provider, newest edit first.
            models.Index(
                fields=["organization", "provider", "enabled", "-updated_at"],
                name="connector_org_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider}, {self.mode})"

    @property
    def is_sandbox(self) -> bool:
        return self.mode == Mode.SANDBOX


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown"


# Not settled: being sent (or left by a crash), or its outcome unknown.  The metrics count these
# (connectors.metrics), from the partial index outbox_open.
OPEN_OUTBOX_STATUSES = (OutboxStatus.PENDING, OutboxStatus.UNKNOWN)


class OutboundMessage(BaseModel):
    """One side effect (a message, a post, an email, an upload), keyed so it happens once.

    The idempotency key is made from the lineage's first run and the step, so a re-executed
    run, or a person's Retry of it, finds the row and returns what was sent instead of sending
    again.  ``run_id`` is the run that carried it out.  ``attempted_at`` is set just
    before the request leaves: a ``pending`` row with it set was interrupted mid-call and is
    treated as ``unknown``, never blindly repeated.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="outbound_messages"
    )
    connector = models.ForeignKey(
        Connector, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    provider = models.CharField(max_length=64)
    action = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=255)
    run_id = models.UUIDField(null=True, blank=True)  # not a FK: connectors does not import runs
    contact_id = models.UUIDField(null=True, blank=True)
    target = models.CharField(max_length=255, blank=True, default="")
    # Why a message was sent, as the compliance gate was told ("marketing", "reply",
    # "opt_out_confirmation"); "" for side effects that are not messages to a person, and for
    # rows written before it was recorded.  Frequency caps count only marketing messages.
    purpose = models.CharField(
        max_length=32,
        blank=True,
        default="",
        choices=[
            ("", "Not a message"),
            ("marketing", "Marketing"),
            ("reply", "Reply"),
            ("opt_out_confirmation", "Opt-out confirmation"),
        ],
    )
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    sandbox = models.BooleanField(default=False)
    provider_id = models.CharField(max_length=255, blank=True, default="")
    provider_status = models.CharField(max_length=64, blank=True, default="")
    response = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=32, blank=True, default="")
    error = models.CharField(max_length=200, blank=True, default="")
    # Money spent; a sandbox row spends nothing and keeps what it would have cost live apart.
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    would_cost = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    attempted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="outbox_unique_org_key"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=OutboxStatus.values), name="outbox_status_valid"
            ),
        ]
        indexes = [
            # /metrics: the open side effects by status and provider (connectors.metrics), read
            # from this small index instead of the whole outbox.
            models.Index(
                fields=["status", "provider"],
                name="outbox_open",
                condition=models.Q(status__in=["pending", "unknown"]),
            ),
            # The run page: the side effects of one run.
            models.Index(
                fields=["run_id"], name="outbox_run", condition=models.Q(run_id__isnull=False)
            ),
            # The retention job (neonhub.ops.retention): side effects linked to no run, by age;
            # partial, so the rows of runs (nearly all) pay nothing for it.
            models.Index(
                fields=["organization", "created_at"],
                name="outbox_unlinked_created",
                condition=models.Q(run_id__isnull=True),
            ),
            # Delivery callbacks (Twilio status): find the row by the provider's id.
            models.Index(fields=["provider", "provider_id"], name="outbox_provider_id"),
            # The connector page: its latest side effects.
            models.Index(fields=["connector", "-created_at"], name="outbox_connector_created"),
            # Frequency caps (agents.audience.compliance): one recipient's messages of the last days.
            models.Index(
                fields=["organization", "target", "-created_at"],
                name="outbox_org_target_created",
                condition=~models.Q(target=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}.{self.action} → {self.target or '?'} ({self.status})"


class SuppressionChannel(models.TextChoices):
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", "Email"


class SuppressionSource(models.TextChoices):
    OPT_OUT_KEYWORD = "opt_out_keyword", "Opt-out keyword"
    UNSUBSCRIBE_LINK = "unsubscribe_link", "Unsubscribe link"
    BOUNCE = "bounce", "Bounce"
    STAFF = "staff", "Staff"
    PROVIDER_ERROR = "provider_error", "Provider error"


class Suppression(BaseModel):
    """An address that must not be sent to on a channel (E.164 phones, lowercased emails)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="suppressions"
    )
    channel = models.CharField(max_length=16, choices=SuppressionChannel.choices)
    address = models.CharField(max_length=254)
    reason = models.CharField(max_length=200, blank=True, default="")
    source = models.CharField(max_length=32, choices=SuppressionSource.choices)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Also the index of suppression_exists(): one lookup per recipient before a send.
            models.UniqueConstraint(
                fields=["organization", "channel", "address"],
                name="suppression_unique_org_channel_address",
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=SuppressionChannel.values),
                name="suppression_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=SuppressionSource.values),
                name="suppression_source_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"


class BudgetUsage(models.Model):
    """The database counter of outbound budgets: one row per unit-spending call.

    Used when no Redis is configured.  Rows older than the budget's window are pruned as
    new ones are written, so a connector keeps at most one window's worth.
    """

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="+")
    budget = models.CharField(max_length=64)
    used_at = models.DateTimeField(default=timezone.now)
    units = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            # budget_consume(): the units a connector spent on one budget within the window.
            models.Index(fields=["connector", "budget", "used_at"], name="budgetusage_window"),
        ]

    def __str__(self) -> str:
        return f"{self.budget}: {self.units} at {self.used_at:%Y-%m-%d %H:%M:%S}"


# --- "Connect with …" (connectors/oauth) ----------------------------------------------------
# Secrets here (an app's client secret, a waiting connection's tokens) are AES-256-GCM tokens
# from ``connectors.crypto`` bound to their row's id, as connector credentials are.


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
        Connector, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
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

    connector = models.OneToOneField(Connector, on_delete=models.CASCADE, related_name="oauth_link")
    target = models.CharField(max_length=32)
    account_id = models.CharField(max_length=255)
    account_name = models.CharField(max_length=255, blank=True, default="")
    scopes = models.JSONField(default=list)
    # Which app credentials renew it: the organization's own app, or the installation's.
    own_app = models.BooleanField(default=False)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the current access token runs out (the refresh schedule's clock).  The connector's
    # ``token_expires_at`` is when the *connection* ends unless renewed: the refresh token's
    # expiry, or the access token's when there is no refresh token, or none.
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.target}: {self.account_name or self.account_id}"

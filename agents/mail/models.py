"""Every email sent, and what happened to it afterwards.

``EmailMessage`` is one message to one address, written before it is sent (so its tracking
token exists for the pixel, the links and the VERP return path) and kept per lineage: a
person's Retry finds the row of the run it continues instead of making a second one.
``EmailEvent`` is one thing that happened to a message (opened, clicked, bounced, complained,
replied, unsubscribed), linked to its contact and campaign so a campaign's page and a
segment's "opened in the last 30 days" are plain queries.  The counters on the message
(``opens``, ``clicks``, the ``first_*_at`` times) are kept with the events, so the lists
that show them do not count events row by row.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from neonhub.core.models import BaseModel, Organization


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # written, not yet accepted by the SMTP server
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # refused when sent
    BOUNCED = "bounced", "Bounced"  # accepted, then returned (hard bounce)
    COMPLAINED = "complained", "Complained"  # the person marked it as spam


class EmailMessage(BaseModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="email_messages"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="email_messages",
    )
    contact = models.ForeignKey(
        "audience.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="email_messages",
    )
    run_id = models.UUIDField(null=True, blank=True)
    lineage_id = models.UUIDField(null=True, blank=True)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=998, blank=True, default="")
    # An A/B test's variant ("variant_0") and the test, when the message is part of one.
    ab_test = models.ForeignKey(
        "agents.ABTest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    variant = models.CharField(max_length=32, blank=True, default="")
    # Random, URL-safe: the open pixel's, the click links' and the return path's handle.
    token = models.CharField(max_length=32, unique=True)
    message_id = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    opens = models.PositiveIntegerField(default=0)
    machine_opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    machine_clicks = models.PositiveIntegerField(default=0)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    # "hard" or "soft" (the last bounce's kind); soft bounces are counted in ``soft_bounces``.
    bounce_kind = models.CharField(max_length=8, blank=True, default="")
    soft_bounces = models.PositiveSmallIntegerField(default=0)
    complained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One message per address per lineage: a Retry reuses the row (and its token).
            models.UniqueConstraint(
                fields=["organization", "lineage_id", "to"],
                condition=models.Q(lineage_id__isnull=False),
                name="emailmessage_unique_lineage_to",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "campaign", "sent_at"], name="emailmsg_org_campaign"
            ),
            models.Index(fields=["ab_test", "variant"], name="emailmsg_abtest_variant"),
            models.Index(fields=["organization", "message_id"], name="emailmsg_org_messageid"),
            models.Index(fields=["contact", "-created_at"], name="emailmsg_contact"),
            # An address's latest email: unsubscribes, bounces without a token, erasure, and
            # attributing an order to the buyer's last clicked email.
            models.Index(fields=["organization", "to", "-created_at"], name="emailmsg_org_to"),
        ]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} to {self.to}"


class EventKind(models.TextChoices):
    OPEN = "open", "Opened"
    CLICK = "click", "Clicked"
    BOUNCE = "bounce", "Bounced"
    COMPLAINT = "complaint", "Complained"
    REPLY = "reply", "Replied"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribed"


class EmailEvent(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(EmailMessage, on_delete=models.CASCADE, related_name="events")
    contact = models.ForeignKey(
        "audience.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    # A mail client's proxy (Apple Mail Privacy Protection) or a link scanner, not a person:
    # reported apart, never counted as an open or a click.
    machine = models.BooleanField(default=False)
    url = models.CharField(max_length=2000, blank=True, default="")
    # For a bounce: "hard" or "soft"; for a machine event: why it was judged one.
    detail = models.JSONField(default=dict, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(
                fields=["organization", "campaign", "kind", "at"], name="emailevent_campaign"
            ),
            models.Index(
                fields=["organization", "contact", "kind", "at"], name="emailevent_contact"
            ),
            models.Index(fields=["message", "kind"], name="emailevent_message"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.message_id} at {self.at:%Y-%m-%d %H:%M}"


class MailSettings(models.Model):
    """An organization's tracking choices (each can be switched off, for privacy)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="mail_settings"
    )
    track_opens = models.BooleanField(default=True)
    track_clicks = models.BooleanField(default=True)
    add_utm = models.BooleanField(default=True)
    utm_source = models.CharField(max_length=100, default="neonhub")
    utm_medium = models.CharField(max_length=100, default="email")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Mail settings of {self.organization_id}"


# --- bounces, complaints and replies ----------------------------------------------------------


class TlsMode(models.TextChoices):
    SSL = "ssl", "SSL/TLS (port 993)"
    STARTTLS = "starttls", "STARTTLS (port 143)"


class BounceMailbox(BaseModel):
    """Where an organization's returned mail arrives, and how NeonHub reads it.

    Two ways in: the mail server posts each message to the inbound endpoint (its URL carries
    ``inbound_token``, stored encrypted so the settings page can show it, and found by its
    SHA-256 in ``inbound_token_hash``), or NeonHub fetches unread mail from an IMAP mailbox
    every five minutes.  ``bounce_address`` overrides the installation's
    ``NEONHUB_BOUNCE_ADDRESS`` for the VERP return path.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="bounce_mailbox"
    )
    bounce_address = models.CharField(max_length=254, blank=True, default="")
    host = models.CharField(max_length=253, blank=True, default="")
    port = models.PositiveIntegerField(default=993)
    tls_mode = models.CharField(max_length=8, choices=TlsMode.choices, default=TlsMode.SSL)
    username = models.CharField(max_length=254, blank=True, default="")
    password = models.TextField(blank=True, default="", editable=False)  # encrypted (sealed)
    folder = models.CharField(max_length=200, default="INBOX")
    enabled = models.BooleanField(default=False)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    inbound_token = models.TextField(blank=True, default="", editable=False)  # encrypted (sealed)
    # Null until the first token is drawn (unique: blank strings would collide).
    inbound_token_hash = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tls_mode__in=["ssl", "starttls"]),
                name="bouncemailbox_tls_mode_valid",
            ),
        ]
        indexes = [
            # mailbox_fetch_due(): the enabled mailboxes, least recently checked first.
            models.Index(fields=["enabled", "last_checked_at"], name="bouncemailbox_due"),
        ]

    def __str__(self) -> str:
        return f"Bounce mailbox of {self.organization_id}"


class InboundKind(models.TextChoices):
    HARD = "hard", "Hard bounce"
    SOFT = "soft", "Soft bounce"
    COMPLAINT = "complaint", "Spam complaint"
    REPLY = "reply", "Reply"
    AUTO_REPLY = "auto_reply", "Automatic reply"
    UNKNOWN = "unknown", "Not recognized"


class InboundMail(models.Model):
    """One message that came back (a bounce, a complaint, a reply), kept once per its own
    Message-ID so a message posted twice, or fetched again, is never counted twice."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # The inbound message's own Message-ID, or the SHA-256 of its bytes when it has none.
    key = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=InboundKind.choices)
    address = models.CharField(max_length=254, blank=True, default="")
    message = models.ForeignKey(
        EmailMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    diagnostic = models.CharField(max_length=300, blank=True, default="")
    via = models.CharField(max_length=8, default="endpoint")  # "endpoint" or "imap"
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="inboundmail_unique_key"),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=["hard", "soft", "complaint", "reply", "auto_reply", "unknown"]
                ),
                name="inboundmail_kind_valid",
            ),
        ]
        indexes = [
            # The bounce page's "recent bounces and complaints", newest first.
            models.Index(fields=["organization", "-at"], name="inboundmail_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.address or '?'} at {self.at:%Y-%m-%d %H:%M}"

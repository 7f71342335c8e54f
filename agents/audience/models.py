"""The people an organization messages: contacts, lists, and the messages they send us.

These tables were created by the ``triggers`` app (their names keep its prefix).  Every row carries its organization; reads go through ``selectors.py`` with it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from neonhub.core.models import BaseModel, Organization


class InboundMessage(BaseModel):
    """A message a person sent us (SMS, WhatsApp): the conversation record and WhatsApp's window."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    connector = models.ForeignKey(
        "connectors.Connector", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        "Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    channel = models.CharField(max_length=16)
    address = models.CharField(max_length=254)
    provider_id = models.CharField(max_length=64, blank=True, default="")
    body = models.TextField(blank=True, default="")

    class Meta:
        db_table = (
            "triggers_inboundmessage"  # created by the triggers app, before audience had its own
        )
        ordering = ["-created_at"]
        indexes = [
            # The WhatsApp 24-hour window: the latest inbound message from one address.
            models.Index(
                fields=["organization", "channel", "address", "-created_at"],
                name="inbound_org_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.address} at {self.created_at:%Y-%m-%d %H:%M}"


# --- contacts ---------------------------------------------------------------------------------


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", "Granted"
    REVOKED = "revoked", "Revoked"


class Contact(BaseModel):
    """A person an organization messages.

    ``consent`` holds one entry per channel: ``{"sms": {"status": "granted", "source":
    "web form", "at": "2025-05-01T10:00:00+00:00"}}``.  ``attributes`` are free fields for
    templates (``{"first_name": "Ada"}``).  ``timezone`` blank means the organization's.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=16, blank=True, default="")
    timezone = models.CharField(max_length=64, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    consent = models.JSONField(default=dict, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # Set when the person's data was erased (``services.contact_erase``): the row stays so the
    # anonymised messages keep their count, but it holds nothing about the person any more.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "triggers_contact"  # created by the triggers app, before audience had its own
        ordering = ["-created_at", "-id"]
        constraints = [
            # Also the indexes of contact_for_address(): one lookup before each message.
            models.UniqueConstraint(
                fields=["organization", "phone"],
                condition=~models.Q(phone=""),
                name="contact_unique_org_phone",
            ),
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=~models.Q(email=""),
                name="contact_unique_org_email",
            ),
        ]
        indexes = [
            # The contact list and export: newest first within an organization, keyset on (created_at, id).
            models.Index(fields=["organization", "-created_at", "-id"], name="contact_org_created"),
        ]

    def __str__(self) -> str:
        if self.erased_at:
            return "Erased contact"
        return self.name or self.email or self.phone or str(self.id)


class ContactList(BaseModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contact_lists"
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True, default="")
    contacts = models.ManyToManyField(
        Contact, through="ContactListMembership", related_name="lists"
    )

    class Meta:
        db_table = (
            "triggers_contactlist"  # created by the triggers app, before audience had its own
        )
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="contactlist_unique_org_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ContactListMembership(models.Model):
    """A contact on a list.  The integer key gives a stable order a batch resumes from."""

    contact_list = models.ForeignKey(
        ContactList, on_delete=models.CASCADE, related_name="memberships"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "triggers_contactlistmembership"  # created by the triggers app, before audience had its own
        constraints = [
            models.UniqueConstraint(
                fields=["contact_list", "contact"], name="membership_unique_list_contact"
            ),
        ]
        indexes = [
            # A batch over a list reads it in key order from where it stopped.
            models.Index(fields=["contact_list", "id"], name="listmember_list_id"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} on {self.contact_list_id}"


class ConsentEvent(BaseModel):
    """One grant or withdrawal of consent for a channel: the contact's consent history.

    ``Contact.consent`` holds the current state; every change to it adds a row here with where
    it came from (``source``: "entered by ada@example.com", "csv import", "web form") and the
    time it was given (``at``; ``created_at`` is when it was recorded).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events")
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=ConsentStatus.choices)
    source = models.CharField(max_length=100, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-created_at"]
        indexes = [
            # The contact page: one contact's history, newest first.
            models.Index(fields=["contact", "-at"], name="consentevent_contact_at"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.status} ({self.source})"

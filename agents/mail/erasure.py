"""Erasing a person's email record with the contact (``audience.services.contact_erase``).

The messages stay, so a campaign's counts do not change, but they no longer say who they
went to or what the subject said to them (subjects are personalised); the events lose the
links and the client's user agent.
"""

from __future__ import annotations

from django.db.models import Q

from agents.audience.models import Contact
from agents.mail.models import EmailEvent, EmailMessage

ERASED = "[erased]"


def contact_mail_erase(contact: Contact, addresses: set[str]) -> dict[str, int]:
    emails = {a for a in addresses if "@" in a}
    messages = EmailMessage.objects.filter(organization_id=contact.organization_id).filter(
        Q(contact=contact) | Q(to__in=emails)
    )
    ids = list(messages.values_list("pk", flat=True))
    EmailEvent.objects.filter(message_id__in=ids).update(url="", user_agent="", detail={})
    count = EmailMessage.objects.filter(pk__in=ids).update(
        to=ERASED, subject=ERASED, contact=contact
    )
    return {"emails_anonymised": count}

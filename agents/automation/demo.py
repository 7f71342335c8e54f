"""The demo organization's email set-up (``make run``): a campaign, a template, a segment and a
few email subscribers, so the Campaigns and Email pages have something to open.  Idempotent;
everything sends through the sandbox SMTP connector."""

from __future__ import annotations

from agents.audience import services as contacts
from agents.audience.models import Contact
from agents.campaigns.models import Campaign
from agents.campaigns.services import campaign_create
from agents.mailtemplates.models import EmailTemplate
from agents.mailtemplates.services import template_create
from agents.segments.models import Segment
from agents.segments.services import segment_create
from neonhub.core.models import Organization

SUBSCRIBERS = [
    ("Ada Lovelace", "ada@demo-customers.example", ["spring", "vip"]),
    ("Grace Hopper", "grace@demo-customers.example", ["spring"]),
    ("Alan Turing", "alan@demo-customers.example", ["spring"]),
    ("Katherine Johnson", "katherine@demo-customers.example", []),
]


def demo_email_ensure(organization: Organization) -> None:
    if not Campaign.objects.filter(organization=organization, name="Spring launch").exists():
        campaign_create(
            organization=organization,
            name="Spring launch",
            goal="200 orders from the spring range",
            channels=["email", "instagram"],
        )
    if not EmailTemplate.objects.filter(
        organization=organization, name="Spring newsletter"
    ).exists():
        template_create(organization=organization, name="Spring newsletter", layout="newsletter")
    for name, email, tags in SUBSCRIBERS:
        if not Contact.objects.filter(organization=organization, email=email).exists():
            contacts.contact_create(
                organization=organization,
                name=name,
                email=email,
                tags=tags,
                consent={"email": {"status": "granted", "source": "demo"}},
            )
    if not Segment.objects.filter(organization=organization, name="Spring subscribers").exists():
        segment_create(
            organization=organization,
            name="Spring subscribers",
            description="Tagged spring, with consent to email",
            rules={
                "match": "all",
                "conditions": [
                    {"kind": "tag", "op": "has", "value": "spring"},
                    {"kind": "consent", "channel": "email", "op": "granted"},
                ],
            },
        )

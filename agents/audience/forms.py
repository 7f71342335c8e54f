"""Forms of the contact pages.  The services stay the judges:
their field errors come back next to the fields (see ``neonhub.core.forms.errors_to_form``)."""

from __future__ import annotations

from django import forms


class ContactImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: name, email, phone, timezone, tags (a;b), consent_sms, consent_whatsapp, "
        "consent_email, consent_source; other columns become attributes",
    )


CONSENT_CHOICES = [
    ("", "Leave as it is"),
    ("granted", "Granted"),
    ("revoked", "Withdrawn"),
]
CONSENT_HELP = (
    "Recorded as “entered by you”, with the time; nothing is granted unless you choose it."
)


class ContactForm(forms.Form):
    """A single contact.  Consent per channel starts at "leave as it is": never granted by default."""

    name = forms.CharField(max_length=200, required=False)
    email = forms.CharField(max_length=254, required=False)
    phone = forms.CharField(
        max_length=32,
        required=False,
        help_text="With its country code (E.164), e.g. +14155550100",
    )
    tags = forms.CharField(max_length=500, required=False, help_text="Separated by commas")
    attributes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: name = value (e.g. first_name = Ada), used as {{placeholders}}",
    )
    consent_sms = forms.ChoiceField(
        label="SMS consent", choices=CONSENT_CHOICES, required=False, help_text=CONSENT_HELP
    )
    consent_whatsapp = forms.ChoiceField(
        label="WhatsApp consent", choices=CONSENT_CHOICES, required=False
    )
    consent_email = forms.ChoiceField(
        label="Email consent", choices=CONSENT_CHOICES, required=False
    )

    def clean_attributes(self) -> dict:
        attributes = {}
        for number, line in enumerate(self.cleaned_data["attributes"].splitlines(), 1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"Line {number}: write it as name = value")
            attributes[key.strip()] = value.strip()
        return attributes

    def contact_data(self) -> dict:
        """The fields for ``contact_create``/``contact_update`` (consent only where chosen)."""
        data = self.cleaned_data
        consent = {
            channel: {"status": data[f"consent_{channel}"]}
            for channel in ("sms", "whatsapp", "email")
            if data.get(f"consent_{channel}")
        }
        fields = {
            "name": data["name"],
            "email": data["email"],
            "phone": data["phone"],
            "tags": data["tags"],
            "attributes": data["attributes"],
        }
        if consent:
            fields["consent"] = consent
        return fields

    @staticmethod
    def initial_for(contact) -> dict:
        return {
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "tags": ", ".join(contact.tags or []),
            "attributes": "\n".join(f"{k} = {v}" for k, v in (contact.attributes or {}).items()),
        }


class ContactListForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=300, required=False)


class ListFilterForm(forms.Form):
    """Who to add to a list at once: every contact matching these."""

    q = forms.CharField(label="Text", max_length=100, required=False)
    tag = forms.CharField(max_length=50, required=False)
    consent = forms.ChoiceField(
        label="Consent granted for",
        required=False,
        choices=[("", "Any"), ("sms", "SMS"), ("whatsapp", "WhatsApp"), ("email", "Email")],
    )


class EraseForm(forms.Form):
    confirm = forms.CharField(label="Type the contact's name to confirm", max_length=254)

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

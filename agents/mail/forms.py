"""The tracking settings form (the page ``mail:settings``)."""

from __future__ import annotations

from django import forms

from agents.mail.schemas import EmailTrackingSettings


class TrackingSettingsForm(forms.Form):
    opens = forms.BooleanField(
        required=False,
        label="Track opens",
        help_text=(
            "Adds an invisible 1×1 image to each email with a design (HTML). When the person's "
            "mail program loads images, you see that the email was opened. Many people block "
            "images or use Apple Mail, which loads them for everyone, so opens are a rough sign."
        ),
    )
    clicks = forms.BooleanField(
        required=False,
        label="Track clicks",
        help_text=(
            "Sends each link through this site first, so you see who clicked which link. "
            "The person lands on the same page, a moment later. Off: links go straight to "
            "their page and clicks are not seen."
        ),
    )
    utm = forms.BooleanField(
        required=False,
        label="Add UTM parameters to links",
        help_text=(
            "Adds utm_source, utm_medium, utm_campaign (the campaign's name) and utm_content "
            "(the A/B test's variant) to links, so your website's analytics can tell visits "
            "from these emails apart. Values already in a link are kept."
        ),
    )
    utm_source = forms.CharField(
        max_length=100,
        label="Source (utm_source)",
        help_text="Where the visit came from, as your analytics shows it (e.g. newsletter).",
    )
    utm_medium = forms.CharField(
        max_length=100,
        label="Medium (utm_medium)",
        help_text="The kind of channel (usually email).",
    )

    @staticmethod
    def initial_from(current: EmailTrackingSettings) -> dict:
        return {
            "opens": current.opens,
            "clicks": current.clicks,
            "utm": current.utm,
            "utm_source": current.utmSource,
            "utm_medium": current.utmMedium,
        }

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "opens": data["opens"],
            "clicks": data["clicks"],
            "utm": data["utm"],
            "utmSource": data["utm_source"],
            "utmMedium": data["utm_medium"],
        }


# The service's field names → this form's (errors from the service land next to their field).
FIELD_NAMES = {"utmSource": "utm_source", "utmMedium": "utm_medium"}

"""Forms of the template pages.  The services judge the input: their field errors come back
next to the fields (``content.heading`` next to "Heading")."""

from __future__ import annotations

from django import forms

from agents.mailtemplates.models import EmailTemplate, Layout
from agents.mailtemplates.services import CONTENT_LIMITS

LAYOUT_HELP = {
    Layout.NEWSLETTER: "A coloured header, an optional picture, your text and a button.",
    Layout.ANNOUNCEMENT: "A big centred heading and one large button: for a single message.",
    Layout.LETTER: "Looks like a personal email: just text, with a simple link button.",
    Layout.PRODUCT: "A picture beside the heading and text, and a button to buy or learn more.",
}
PLACEHOLDER_HELP = "You can use {{first_name|there}} and the other variables listed beside."


class NewTemplateForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Only your team sees it, e.g. “Spring sale”")
    layout = forms.ChoiceField(
        label="Starter layout",
        choices=Layout.choices,
        initial=Layout.NEWSLETTER,
        widget=forms.RadioSelect,
        help_text="You can change the layout later; your text stays.",
    )


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=200)
    layout = forms.ChoiceField(choices=Layout.choices)
    subject = forms.CharField(
        max_length=300, required=False, help_text="What the inbox shows first. " + PLACEHOLDER_HELP
    )
    preheader = forms.CharField(
        label="Preview text",
        max_length=200,
        required=False,
        help_text="The grey line after the subject in most inboxes.",
    )
    heading = forms.CharField(max_length=CONTENT_LIMITS["heading"], required=False)
    body = forms.CharField(
        label="Text",
        max_length=CONTENT_LIMITS["body"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Blank line = new paragraph; **bold**, *italic*, - list, [link text](https://…).",
    )
    image_url = forms.CharField(
        label="Picture link", max_length=CONTENT_LIMITS["image_url"], required=False,
        help_text="The address of a picture on the web (https://…). Leave empty for none.",
    )  # fmt: skip
    image_alt = forms.CharField(
        label="Picture description", max_length=CONTENT_LIMITS["image_alt"], required=False,
        help_text="Shown when pictures are off, and read aloud by screen readers.",
    )  # fmt: skip
    button_label = forms.CharField(
        label="Button text", max_length=CONTENT_LIMITS["button_label"], required=False,
        help_text="Leave empty for no button.",
    )  # fmt: skip
    button_url = forms.CharField(
        label="Button link", max_length=CONTENT_LIMITS["button_url"], required=False,
        help_text="Where the button goes (https://…).",
    )  # fmt: skip
    footer = forms.CharField(
        max_length=CONTENT_LIMITS["footer"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Your address or why people get this email. An unsubscribe link is always added.",
    )
    advanced = forms.BooleanField(
        label="Advanced: edit the MJML myself (the fields above are then not used)",
        required=False,
    )
    mjml = forms.CharField(
        label="MJML source",
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "code"}),
        help_text="See mjml.io for the tags. Leave empty to start from the layout above.",
    )

    CONTENT = tuple(CONTENT_LIMITS)

    @classmethod
    def initial_for(cls, template: EmailTemplate) -> dict:
        return {
            "name": template.name,
            "layout": template.layout,
            "subject": template.subject,
            "preheader": template.preheader,
            "advanced": template.advanced,
            "mjml": template.mjml,
            **{key: (template.content or {}).get(key, "") for key in cls.CONTENT},
        }

    def changes(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "layout": data["layout"],
            "subject": data["subject"],
            "preheader": data["preheader"],
            "content": {key: data[key] for key in self.CONTENT if data.get(key)},
            "advanced": data["advanced"],
            "mjml": data["mjml"],
        }


class SendTestForm(forms.Form):
    """Nothing to fill: the test goes to the signed-in person."""

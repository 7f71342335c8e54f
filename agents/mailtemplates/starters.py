"""The sample text each starter layout begins with, so a new template looks like an email at
once and can be sent as a test straight away."""

from __future__ import annotations

from agents.mailtemplates.models import Layout

STARTERS: dict[str, dict[str, str]] = {
    Layout.NEWSLETTER: {
        "heading": "This month at a glance",
        "body": "Hi {{first_name|there}},\n\nHere is what is new this month.\n\n"
        "- **The first story**: one or two sentences about it.\n"
        "- **The second story**: what changed, and why it matters.\n\n"
        "Thanks for reading!",
        "button_label": "Read more",
        "button_url": "https://example.com",
        "footer": "You get this newsletter because you signed up on our website.",
    },
    Layout.ANNOUNCEMENT: {
        "heading": "Something new is here",
        "body": "Hi {{first_name|there}},\n\nWe have just launched something we think you "
        "will like. Here is what it does for you, in one sentence.",
        "button_label": "See what's new",
        "button_url": "https://example.com",
        "footer": "",
    },
    Layout.LETTER: {
        "heading": "",
        "body": "Hi {{first_name|there}},\n\nWrite your letter here, as you would write "
        "to one person.\n\nBest wishes,  \nThe team",
        "footer": "",
    },
    Layout.PRODUCT: {
        "heading": "Meet our newest product",
        "body": "Hi {{first_name|there}},\n\nOne sentence on what it is, one on who it is "
        "for, and one on why now.",
        "image_url": "https://placehold.co/600x400.png",
        "image_alt": "The product",
        "button_label": "Shop now",
        "button_url": "https://example.com",
        "footer": "",
    },
}


# A new template's subject, so a test can be sent straight away.
STARTER_SUBJECTS: dict[str, str] = {
    Layout.NEWSLETTER: "This month at a glance",
    Layout.ANNOUNCEMENT: "Something new for you, {{first_name|there}}",
    Layout.LETTER: "A note for you, {{first_name|there}}",
    Layout.PRODUCT: "Meet our newest product",
}

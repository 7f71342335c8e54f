"""Compiling templates: every starter layout, escaping, placeholders kept, the text part."""

from __future__ import annotations

import pytest

from agents.mailtemplates import services
from agents.mailtemplates.models import EmailTemplate, Layout
from neonhub.core.errors import InvalidInput
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _template(**kwargs) -> EmailTemplate:
    kwargs.setdefault("layout", Layout.NEWSLETTER)
    kwargs.setdefault("subject", "News for {{first_name|you}}")
    kwargs.setdefault("content", dict(services.STARTERS[kwargs["layout"]]))
    return EmailTemplate(name="t", **kwargs)


@pytest.mark.parametrize("layout", Layout.values)
def test_each_starter_compiles_to_responsive_html_with_a_text_part(layout):
    compiled = services.template_compile(template=_template(layout=layout))
    assert compiled.html.startswith("<!doctype html>")
    assert "@media only screen" in compiled.html  # MJML's responsive columns
    assert "{{first_name|there}}" in compiled.html and "{{unsubscribe_url}}" in compiled.html
    assert compiled.text.startswith(
        ("Hi {{first_name|there}}", services.STARTERS[layout].get("heading") or "Hi")
    )
    assert "Unsubscribe ({{unsubscribe_url}})" in compiled.text
    assert compiled.subject == "News for {{first_name|you}}"


def test_user_text_is_escaped_and_stays_text():
    template = _template(
        content={
            "heading": "<script>alert(1)</script> & more",
            "body": "Hello <b onclick=x>there</b>\n\n<img src=x onerror=alert(1)>",
            "button_label": 'Go "now"',
            "button_url": 'https://example.com/?a=1&b="2"',
        }
    )
    html = services.template_compile(template=template).html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "onerror" not in html.replace("onerror=alert(1)&gt;", "") and "<b onclick" not in html
    assert "Go &quot;now&quot;" in html or "Go &#34;now&#34;" in html
    assert 'href="https://example.com/?a=1&amp;b=&quot;2&quot;"' in html


def test_placeholders_survive_everywhere_even_with_special_defaults():
    template = _template(
        preheader="Just for {{first_name|you}}",
        content={
            "heading": "Hi {{name|Tom & Jerry}}",
            "body": "Your code: **{{code}}** and [your page]({{page_url}})",
            "button_label": "Open {{plan|your plan}}",
            "button_url": "{{cta_url}}",
            "image_url": "https://cdn.example.com/{{image_id}}.png",
        },
    )
    compiled = services.template_compile(template=template)
    for placeholder in ("{{name|Tom & Jerry}}", "{{code}}", "{{cta_url}}", "{{image_id}}"):
        assert placeholder in compiled.html
    assert 'href="{{page_url}}"' in compiled.html and "Just for {{first_name|you}}" in compiled.html
    rendered = services.template_render(
        template=template,
        values={
            "code": "A<1>",
            "page_url": "https://x.example/p",
            "cta_url": "https://x.example",
            "image_id": "7",
            "unsubscribe_url": "https://hub.example/u/1",
        },
    )
    assert "Hi Tom &amp; Jerry" in rendered.html and "A&lt;1&gt;" in rendered.html
    assert "{{" not in rendered.html and rendered.missing == ()
    assert "Open your plan: https://x.example" in rendered.text


def test_text_part_has_headings_paragraphs_lists_links_and_the_button():
    template = _template(
        content={
            "heading": "Big news",
            "body": "First paragraph.\n\nSecond with [a link](https://example.com/a).\n\n- one\n- two\n\n1. first\n2. second",
            "button_label": "Shop now",
            "button_url": "https://shop.example.com",
            "footer": "Acme Inc, 1 Main St",
        }
    )
    text = services.template_compile(template=template).text
    assert text.startswith(
        "Big news\n\nFirst paragraph.\n\nSecond with a link (https://example.com/a)."
    )
    assert "- one\n- two" in text and "1. first\n2. second" in text
    assert "Shop now: https://shop.example.com" in text and "Acme Inc, 1 Main St" in text
    assert "<" not in text and "mso" not in text and "News for" not in text


def test_the_preheader_is_hidden_in_html_and_left_out_of_the_text():
    template = _template(preheader="Sneak peek inside")
    compiled = services.template_compile(template=template)
    assert "Sneak peek inside" in compiled.html and "Sneak peek inside" not in compiled.text


def test_advanced_mjml_compiles_and_a_broken_one_names_the_mjml_field():
    good = _template(
        advanced=True,
        mjml="<mjml><mj-body><mj-section><mj-column><mj-text>Hey {{first_name|you}}</mj-text></mj-column></mj-section></mj-body></mjml>",
    )
    assert "Hey {{first_name|you}}" in services.template_compile(template=good).html
    bad = _template(advanced=True, mjml="<mjml><mj-body><mj-section>")
    with pytest.raises(InvalidInput) as exc:
        services.template_compile(template=bad)
    assert exc.value.details[0]["field"] == "mjml"


def test_render_reports_placeholders_with_neither_value_nor_default():
    template = _template(content={"body": "Your plan: {{plan}}"})
    rendered = services.template_render(template=template, values={})
    assert rendered.missing == ("plan",) and "{{plan}}" in rendered.text


def test_contact_values_split_the_name_and_add_attributes(org):
    contact = ContactFactory(
        organization=org, name="Ada Lovelace King", email="ada@example.org", phone="",
        attributes={"plan": "Pro", "visits": 3, "vip": True, "email": "other@example.org"},
    )  # fmt: skip
    values = services.contact_values(contact)
    assert values == {
        "first_name": "Ada", "last_name": "Lovelace King", "name": "Ada Lovelace King",
        "email": "ada@example.org", "plan": "Pro", "visits": "3",
    }  # fmt: skip
    nameless = ContactFactory(
        organization=org, name="", email="x@example.org", attributes={"first_name": "Xi"}
    )
    assert services.contact_values(nameless)["first_name"] == "Xi"

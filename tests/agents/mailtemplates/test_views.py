"""The template pages: list, new from a starter, edit with its live preview, preview as a
contact, duplicate, delete and "send a test to me"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.mailtemplates.models import EmailTemplate
from connectors.services import connector_create
from runs.models import AgentRun
from tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_the_empty_list_says_what_to_do_next(owner_client):
    page = owner_client.get(reverse("mailtemplates:list")).content.decode()
    assert "No email templates yet" in page and "New template" in page
    assert 'aria-current="page">Templates' in page


def test_new_from_a_starter_then_edit_and_save(owner_client, org):
    response = owner_client.post(
        reverse("mailtemplates:new"), {"name": "Launch", "layout": "announcement"}
    )
    template = EmailTemplate.objects.get(organization=org)
    assert response.url == reverse("mailtemplates:detail", args=[template.id])
    assert template.layout == "announcement" and template.content["button_label"]
    page = owner_client.get(response.url).content.decode()
    assert "Variables you can use" in page and "{{first_name}}" in page and "Heading" in page
    saved = owner_client.post(
        response.url,
        {"name": "Launch", "layout": "newsletter", "subject": "Hi", "heading": "Big day",
         "body": "Text", "button_label": "", "button_url": ""},
    )  # fmt: skip
    assert saved.status_code == 302
    template.refresh_from_db()
    assert template.layout == "newsletter" and template.content == {
        "heading": "Big day",
        "body": "Text",
    }


def test_a_bad_field_comes_back_next_to_it(owner_client, make_template):
    template = make_template()
    response = owner_client.post(
        reverse("mailtemplates:detail", args=[template.id]),
        {"name": "Spring sale", "layout": "letter", "button_label": "Go", "button_url": "ftp://x"},
    )
    assert response.status_code == 422
    assert "must be a web address" in response.context["form"].errors["button_url"][0]
    template.refresh_from_db()
    assert template.layout == "announcement"


def test_the_live_preview_shows_the_typed_text_escaped_in_a_sandboxed_frame(
    owner_client, make_template
):
    template = make_template()
    fragment = owner_client.post(
        reverse("mailtemplates:live", args=[template.id]),
        {"name": "x", "layout": "letter", "subject": "Hello {{first_name|there}}",
         "heading": "<script>alert(1)</script>", "body": "Hi {{nickname}}"},
    ).content.decode()  # fmt: skip
    assert "<iframe" in fragment and "sandbox" in fragment and "Hello there" in fragment
    assert "<script>alert" not in fragment
    assert "{{nickname}} is not a field of your contacts" in fragment
    broken = owner_client.post(
        reverse("mailtemplates:live", args=[template.id]),
        {"name": "x", "layout": "letter", "advanced": "on", "mjml": "<mjml><mj-body>"},
    ).content.decode()
    assert "cannot be shown yet" in broken and "MJML" in broken
    assert EmailTemplate.objects.get().name == "Spring sale"  # nothing saved


def test_preview_as_a_contact(owner_client, org, make_template):
    make_template(content={"heading": "For {{first_name|you}}", "body": "Plan: {{plan|none}}"})
    template = EmailTemplate.objects.get()
    ada = ContactFactory(
        organization=org, name="Ada L", email="ada@example.org", attributes={"plan": "Pro"}
    )
    ContactFactory(organization=org, name="Bob", email="bob@example.org")
    url = reverse("mailtemplates:preview", args=[template.id])
    page = owner_client.get(url, {"contact": str(ada.id)}).content.decode()
    assert "As Ada L sees it" in page and "Hello Ada" in page
    assert "For Ada" in page and "Plan: Pro" in page and "email-frame mobile" in page
    found = owner_client.get(url, {"q": "bob"}).content.decode()
    assert "bob@example.org" in found and "ada@example.org" not in found
    foreign = ContactFactory(organization=OrganizationFactory(), email="z@example.org")
    assert owner_client.get(url, {"contact": str(foreign.id)}).status_code == 404


def test_duplicate_and_delete(owner_client, org, make_template):
    template = make_template()
    owner_client.post(reverse("mailtemplates:duplicate", args=[template.id]))
    owner_client.post(reverse("mailtemplates:duplicate", args=[template.id]))
    names = sorted(EmailTemplate.objects.values_list("name", flat=True))
    assert names == ["Spring sale", "Spring sale (copy 2)", "Spring sale (copy)"]
    confirm = owner_client.get(reverse("mailtemplates:delete", args=[template.id]))
    assert "Delete template" in confirm.content.decode()
    owner_client.post(reverse("mailtemplates:delete", args=[template.id]))
    assert not EmailTemplate.objects.filter(pk=template.pk).exists()


def test_viewers_look_but_do_not_change(viewer_client, make_template):
    template = make_template()
    assert viewer_client.get(reverse("mailtemplates:detail", args=[template.id])).status_code == 200
    assert (
        viewer_client.post(reverse("mailtemplates:duplicate", args=[template.id])).status_code
        == 403
    )
    assert (
        viewer_client.post(reverse("mailtemplates:delete", args=[template.id])).status_code == 403
    )
    assert (
        viewer_client.post(
            reverse("mailtemplates:new"), {"name": "x", "layout": "letter"}
        ).status_code
        == 403
    )


def test_another_organizations_template_is_a_404(owner_client):
    other = EmailTemplate.objects.create(organization=OrganizationFactory(), name="Theirs")
    for name in ("detail", "preview", "delete"):
        assert (
            owner_client.get(reverse(f"mailtemplates:{name}", args=[other.id])).status_code == 404
        )
    assert owner_client.post(reverse("mailtemplates:duplicate", args=[other.id])).status_code == 404


def test_send_a_test_to_me_starts_an_email_run(owner_client, owner, org, make_template, run_now):
    template = make_template()
    url = reverse("mailtemplates:send-test", args=[template.id])
    refused = owner_client.post(url, follow=True).content.decode()
    assert "The test was not sent" in refused and not AgentRun.objects.exists()
    connector_create(
        organization=org, provider="smtp_email", name="sandbox", mode="sandbox",
        config={"host": "smtp.example.com", "from_address": "news@acme.example"},
    )  # fmt: skip
    page = run_now(owner_client.post, url, follow=True).content.decode()
    run = AgentRun.objects.get()
    assert (
        run.agent == "email"
        and run.intent == "send"
        and run.input["templateId"] == str(template.id)
    )
    assert run.input["recipients"][0]["email"] == owner.email
    assert reverse("runs:detail", args=[run.id]) in page
    run.refresh_from_db()
    assert run.status == "completed", run.error_context
    assert run.output["sent"] == 1 and run.output["sandbox"] is True


def test_the_advanced_mode_starts_from_the_layouts_mjml_and_then_is_used(owner_client, org):
    owner_client.post(reverse("mailtemplates:new"), {"name": "Raw", "layout": "letter"})
    template = EmailTemplate.objects.get()
    assert template.subject  # a starter subject, so a test can be sent at once
    url = reverse("mailtemplates:detail", args=[template.id])
    fields = {"name": "Raw", "layout": "letter", "subject": "S", "body": "Fields text"}
    owner_client.post(url, {**fields, "advanced": "on", "mjml": ""})
    template.refresh_from_db()
    assert template.advanced and "<mjml" in template.mjml and "Fields text" in template.mjml
    mjml = template.mjml.replace("Fields text", "Hand-written {{first_name|you}}")
    owner_client.post(url, {**fields, "advanced": "on", "mjml": mjml})
    page = owner_client.get(reverse("mailtemplates:preview", args=[template.id])).content.decode()
    assert "Hand-written you" in page and "Fields text" not in page
    broken = owner_client.post(url, {**fields, "advanced": "on", "mjml": "<mjml><mj-body>"})
    assert (
        broken.status_code == 422
        and "could not be read" in broken.context["form"].errors["mjml"][0]
    )


def test_the_list_shows_each_template_in_a_fixed_number_of_queries(
    owner_client, org, django_assert_num_queries
):
    from tests.helpers import assert_same_queries_for_5_and_50

    made = []

    def make_rows(n):
        for _ in range(n):
            made.append(
                EmailTemplate.objects.create(organization=org, name=f"T{len(made)}", subject="S")
            )

    page = assert_same_queries_for_5_and_50(
        owner_client, reverse("mailtemplates:list"), make_rows, django_assert_num_queries
    ).content.decode()
    assert "T49" in page and "Not used yet" in page and "Announcement" not in page

"""The Email agent and templates: write-template (built-in writer) and send with templateId."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents import results
from agents.mail.models import MailSettings
from agents.mailtemplates import services
from agents.mailtemplates.models import EmailTemplate
from connectors.models import OutboundMessage
from connectors.services import connector_create
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun
from tests.connectors.providers.smtp_server import Mailbox, plain_smtp_connector, smtp_server
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox():
    return Mailbox()


@pytest.fixture
def smtp(org, mailbox):
    with smtp_server(mailbox, mode="none", auth=False) as controller:
        plain_smtp_connector(org, controller.port)
        yield controller


def test_write_template_creates_a_template_with_the_builtin_writer(run_intent, org):
    run = run_intent(
        "email",
        "write-template",
        {
            "topic": "spring garden sale",
            "ctaUrl": "https://shop.example.com/spring",
            "layout": "product",
        },
    )
    assert run.status == "completed", run.error_context
    template = EmailTemplate.objects.get(organization=org)
    out = run.output
    assert out["templateId"] == str(template.id) and out["templateName"] == template.name
    assert template.layout == "product" and template.subject == out["subject"]
    assert template.content["button_url"] == "https://shop.example.com/spring"
    assert "{{first_name|there}}" in template.content["body"]
    assert template.written_by_run == run.lineage_id and out["generator"]
    compiled = services.template_compile(template=template)
    assert "https://shop.example.com/spring" in compiled.html
    view = results.present("email", "write-template", out, run.input)
    assert view.template == "agents/results/email_template.html"
    assert view.context["r"]["template_id"] == str(template.id)


def test_write_template_into_an_existing_template_keeps_its_name_and_image(run_intent, org):
    template = services.template_create(
        organization=org, name="Mine", layout="newsletter",
        content={"heading": "Old", "image_url": "https://cdn.example.com/a.png", "body": "Old text"},
    )  # fmt: skip
    run = run_intent(
        "email", "write-template", {"topic": "autumn news", "templateId": str(template.id)}
    )
    assert run.status == "completed", run.error_context
    template.refresh_from_db()
    assert template.name == "Mine" and template.layout == "newsletter"
    assert template.content["heading"] != "Old" and template.content["body"] != "Old text"
    assert template.content["image_url"] == "https://cdn.example.com/a.png"
    assert EmailTemplate.objects.count() == 1


def test_write_template_with_a_foreign_or_unknown_template_is_refused_before_a_run(run_intent, api):
    foreign = EmailTemplate.objects.create(organization=OrganizationFactory(), name="Theirs")
    for template_id in (str(foreign.id), "not-an-id"):
        response = api.post(
            "/runs",
            {
                "agent": "email",
                "intent": "write-template",
                "payload": {"topic": "x", "templateId": template_id},
            },
        )
        assert response.status_code == 422, response.json()
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert "payload.templateId" in fields
    assert not AgentRun.objects.exists()
    assert EmailTemplate.objects.get(pk=foreign.pk).content == {}


def test_send_with_a_template_delivers_its_html_and_text_filled_per_recipient(
    run_intent, smtp, mailbox, org
):
    # The links as written (click tracking, on by default, is tested in tests/agents/mail).
    MailSettings.objects.create(organization=org, track_clicks=False, add_utm=False)
    template = services.template_create(
        organization=org, name="Hello", layout="announcement", subject="Hi {{first_name|there}}",
        content={"heading": "Hello {{first_name|there}} & co", "body": "Your plan: **{{plan}}**",
                 "button_label": "Open", "button_url": "https://example.com/open"},
    )  # fmt: skip
    run = run_intent(
        "email",
        "send",
        {
            "templateId": str(template.id),
            "recipients": [
                {"email": "ann@example.org", "variables": {"first_name": "Ann", "plan": "Pro <1>"}},
                {"email": "bob@example.org", "variables": {"plan": "Free"}},
            ],
        },
    )
    assert run.status == "completed", run.error_context
    assert run.output["sent"] == 2
    ann = mailbox.messages[0]["message"]
    assert ann["Subject"] == "Hi Ann"
    html = ann.get_body(("html",)).get_content()
    text = ann.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Hello Ann &amp; co" in html and "Pro &lt;1&gt;" in html and "@media" in html
    assert text.startswith("Hello Ann & co\n\nYour plan") and "Your plan: Pro <1>" in text
    assert "Open: https://example.com/open" in text and "/unsubscribe/" in text
    assert "{{" not in html and "{{" not in text
    assert mailbox.messages[1]["message"]["Subject"] == "Hi there"


def test_send_needs_a_template_or_a_subject_and_body(api, org):
    connector_create(
        organization=org, provider="smtp_email", name="sandbox", mode="sandbox",
        config={"host": "smtp.example.com", "from_address": "news@acme.example"},
    )  # fmt: skip
    response = api.post(
        "/runs", {"agent": "email", "intent": "send", "payload": {"recipients": ["a@example.org"]}}
    )
    assert response.status_code == 422, response.json()
    assert "templateId" in response.json()["error"]["message"]
    foreign = EmailTemplate.objects.create(
        organization=OrganizationFactory(), name="Theirs", subject="S"
    )
    response = api.post(
        "/runs",
        {
            "agent": "email",
            "intent": "send",
            "payload": {"templateId": str(foreign.id), "recipients": ["a@example.org"]},
        },
    )
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["payload.templateId"]
    assert not AgentRun.objects.exists() and not OutboundMessage.objects.exists()


def test_a_template_with_a_placeholder_nobody_fills_is_refused_before_a_run(api, org):
    connector_create(
        organization=org, provider="smtp_email", name="sandbox", mode="sandbox",
        config={"host": "smtp.example.com", "from_address": "news@acme.example"},
    )  # fmt: skip
    template = services.template_create(
        organization=org, name="T", subject="S", content={"body": "Code {{code}}"}
    )
    response = api.post(
        "/runs",
        {
            "agent": "email",
            "intent": "send",
            "payload": {"templateId": str(template.id), "recipients": ["a@example.org"]},
        },
    )
    assert response.status_code == 422, response.json()
    assert "{{code}}" in response.json()["error"]["details"][0]["message"]
    with pytest.raises(InvalidInput):
        from agents.library.email import SendIn, send_preview

        send_preview(SendIn(templateId=str(template.id), recipients=["a@example.org"]), org)


def test_the_run_page_links_to_the_written_template(run_intent, owner_client):
    run = run_intent("email", "write-template", {"topic": "winter menu", "name": "Winter"})
    template = EmailTemplate.objects.get(name="Winter")
    page = owner_client.get(reverse("runs:detail", args=[run.id])).content.decode()
    assert "Email template “Winter”" in page
    assert reverse("mailtemplates:detail", args=[template.id]) in page


def test_write_template_uses_the_language_model_when_there_is_one(run_intent, org):
    import copy
    import json
    from pathlib import Path

    import responses

    fixture = (
        Path(__file__).resolve().parents[2] / "fixtures" / "openai" / "chat_completion_json.json"
    )
    body = json.loads(fixture.read_text())
    answer = {
        "subject": "Your table is waiting",
        "preheader": "Book before Friday",
        "heading": "Winter menu <new>",
        "body": "Hi {{first_name|there}},\n\nSoups, stews and **warm bread**.",
        "buttonLabel": "Book a table",
    }
    body = copy.deepcopy(body)
    body["choices"][0]["message"]["content"] = json.dumps(answer)
    connector_create(
        organization=org, provider="openai_compatible", name="OpenAI", mode="live",
        credentials={"api_key": "sk-test-secret-4242"}, config={"model": "gpt-4o-mini"},
    )  # fmt: skip
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, "https://api.openai.com/v1/chat/completions", json=body)
        run = run_intent(
            "email",
            "write-template",
            {"topic": "winter menu", "ctaUrl": "https://bistro.example/book"},
        )
        prompt = json.loads(rsps.calls[0].request.body)["messages"][1]["content"]
    assert run.status == "completed", run.error_context
    assert "winter menu" in prompt and run.output["generator"]["kind"] == "model"
    template = EmailTemplate.objects.get()
    assert (
        template.subject == "Your table is waiting" and template.preheader == "Book before Friday"
    )
    assert template.content["button_label"] == "Book a table"
    compiled = services.template_compile(template=template)
    assert (
        "Winter menu &lt;new&gt;" in compiled.html
        and "<strong>warm bread</strong>" in compiled.html
    )
    assert "Book a table: https://bistro.example/book" in compiled.text

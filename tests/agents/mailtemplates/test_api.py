"""The email templates API: create, read, change, delete, preview as a contact, render."""

from __future__ import annotations

import pytest

from agents.mailtemplates.models import EmailTemplate
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _fields(response) -> set[str]:
    return {str(d.get("field")) for d in response.json()["error"]["details"] or []}


def test_create_read_list_patch_and_delete(api):
    created = api.post(
        "/email-templates",
        {"name": "Welcome", "layout": "newsletter", "subject": "Hi {{first_name|there}}"},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["layout"] == "newsletter" and body["content"]["heading"]  # the starter text
    template_id = body["id"]
    assert api.get(f"/email-templates/{template_id}").json()["name"] == "Welcome"
    assert [t["name"] for t in api.get("/email-templates").json()["items"]] == ["Welcome"]
    patched = api.patch(
        f"/email-templates/{template_id}",
        {"content": {"heading": "New heading", "body": "Hello"}, "subject": "Changed"},
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["content"] == {"heading": "New heading", "body": "Hello"}
    assert api.delete(f"/email-templates/{template_id}").status_code == 204
    assert not EmailTemplate.objects.exists()


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"name": ""}, "name"),
        ({"name": "x", "layout": "poster"}, "layout"),
        ({"name": "x", "content": {"image_url": "javascript:alert(1)"}}, "content.image_url"),
        ({"name": "x", "content": {"button_label": "Go"}}, "content.button_url"),
        ({"name": "x", "content": {"colour": "red"}}, "content.colour"),
        ({"name": "x", "advanced": True, "mjml": "<mjml><mj-body>"}, "mjml"),
        ({"name": "x", "advanced": True}, "mjml"),
    ],
)
def test_bad_input_answers_422_naming_the_field(api, payload, field):
    response = api.post("/email-templates", payload)
    assert response.status_code == 422, response.json()
    assert any(f.endswith(field) or field in f for f in _fields(response)), response.json()
    assert not EmailTemplate.objects.exists()


def test_a_taken_name_is_a_422_on_name(api):
    api.post("/email-templates", {"name": "Same"})
    response = api.post("/email-templates", {"name": "Same"})
    assert response.status_code == 422 and "name" in _fields(response)


def test_another_organizations_template_is_a_404(api, other_api):
    template_id = api.post("/email-templates", {"name": "Ours"}).json()["id"]
    assert other_api.get(f"/email-templates/{template_id}").status_code == 404
    assert other_api.patch(f"/email-templates/{template_id}", {"subject": "x"}).status_code == 404
    assert other_api.delete(f"/email-templates/{template_id}").status_code == 404
    assert other_api.get(f"/email-templates/{template_id}/preview").status_code == 404
    assert other_api.get("/email-templates").json()["items"] == []
    assert EmailTemplate.objects.get().subject != "x"


def test_preview_as_a_contact_fills_their_values(api, org, other_org):
    contact = ContactFactory(
        organization=org, name="Ada Lovelace", email="ada@example.org", attributes={"plan": "Pro"}
    )
    template_id = api.post(
        "/email-templates",
        {
            "name": "Plan",
            "subject": "Hi {{first_name|there}}",
            "content": {"heading": "Your {{plan}} plan", "body": "Dear {{first_name|friend}}"},
        },
    ).json()["id"]
    response = api.get(f"/email-templates/{template_id}/preview", {"contact_id": str(contact.id)})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["subject"] == "Hi Ada" and "Your Pro plan" in body["html"]
    assert body["text"].startswith("Your Pro plan\n") and "Dear Ada" in body["text"]
    assert "/unsubscribe/" in body["html"] and body["missing"] == []
    defaults = api.get(f"/email-templates/{template_id}/preview").json()
    assert defaults["subject"] == "Hi there" and defaults["missing"] == ["plan"]
    assert any("{{plan}}" in w for w in defaults["warnings"]) is False  # plan is an attribute
    foreign = ContactFactory(organization=other_org, email="x@example.org")
    assert (
        api.get(
            f"/email-templates/{template_id}/preview", {"contact_id": str(foreign.id)}
        ).status_code
        == 404
    )


def test_render_compiles_without_saving_and_warns_about_unknown_variables(api):
    response = api.post(
        "/email-templates/render",
        {"layout": "letter", "subject": "S", "content": {"body": "Hi {{nickname}}"}},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert "Hi {{nickname}}" in body["html"] and body["text"].startswith("Hi {{nickname}}")
    assert body["warnings"] and "{{nickname}}" in body["warnings"][0]
    filled = api.post(
        "/email-templates/render",
        {"content": {"body": "Hi {{nickname}}"}, "values": {"nickname": "Ace"}},
    ).json()
    assert filled["text"].startswith("Hi Ace")
    broken = api.post("/email-templates/render", {"advanced": True, "mjml": "<mjml>"})
    assert broken.status_code == 422 and "mjml" in _fields(broken)
    assert not EmailTemplate.objects.exists()


def test_viewers_read_but_do_not_write(api, viewer_api):
    template_id = api.post("/email-templates", {"name": "Read me"}).json()["id"]
    assert viewer_api.get(f"/email-templates/{template_id}").status_code == 200
    assert viewer_api.post("/email-templates/render", {"content": {"body": "x"}}).status_code == 200
    assert viewer_api.post("/email-templates", {"name": "No"}).status_code == 403
    assert viewer_api.delete(f"/email-templates/{template_id}").status_code == 403


def test_layouts_are_listed(api):
    names = [layout["name"] for layout in api.get("/email-templates/layouts").json()]
    assert names == ["newsletter", "announcement", "letter", "product"]

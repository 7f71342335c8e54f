"""The contacts API of single contacts: consent history, list rename and filter-add, the
privacy export and erasure."""

from __future__ import annotations

import pytest

from agents.audience.models import Contact
from neonhub.core.models import AuditEvent, Role
from neonhub.core.services import api_key_create
from tests.conftest import ApiClient
from tests.factories import ContactFactory, ContactListFactory, OutboundMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(client, org):
    return ApiClient(client, api_key_create(organization=org, name="admin", role=Role.ADMIN).token)


def _details(resp):
    return [d["field"] for d in resp.json()["error"]["details"]]


def test_create_and_patch_record_consent_history_with_the_key_as_source(api, org):
    cid = api.post(
        "/contacts",
        {"name": "Ada", "phone": "+14155550100", "consent": {"sms": {"status": "granted"}}},
    ).json()["id"]
    resp = api.patch(
        f"/contacts/{cid}", {"consent": {"email": {"status": "revoked", "source": "call"}}}
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["consent"]["sms"]["status"] == "granted"
    detail = api.get(f"/contacts/{cid}").json()
    history = [(e["channel"], e["status"], e["source"]) for e in detail["consent_history"]]
    assert ("email", "revoked", "call") in history
    assert any(source.startswith("entered by API key") for _, _, source in history)
    bad = api.patch(f"/contacts/{cid}", {"consent": {"sms": {"status": "maybe"}}})
    assert bad.status_code == 422 and any("consent" in f for f in _details(bad))
    assert _details(api.patch(f"/contacts/{cid}", {"phone": "0123"})) == ["phone"]


def test_list_rename_and_add_matching(api, org):
    cl = api.post("/contact-lists", {"name": "VIP"}).json()
    ContactListFactory(organization=org, name="Taken")
    renamed = api.patch(f"/contact-lists/{cl['id']}", {"name": "VIPs"})
    assert renamed.json()["name"] == "VIPs"
    assert api.patch(f"/contact-lists/{cl['id']}", {"name": "Taken"}).status_code == 409
    assert _details(api.patch(f"/contact-lists/{cl['id']}", {"name": ""})) == ["name"]
    for _ in range(3):
        ContactFactory(organization=org, tags=["vip"])
    ContactFactory(organization=org)
    added = api.post(f"/contact-lists/{cl['id']}/members/matching", {"tag": "vip"})
    assert added.json() == {"changed": 3, "size": 3}
    again = api.post(f"/contact-lists/{cl['id']}/members/matching", {"tag": "vip"})
    assert again.json() == {"changed": 0, "size": 3}
    empty = api.post(f"/contact-lists/{cl['id']}/members/matching", {})
    assert empty.status_code == 422 and _details(empty) == ["search"]
    fax = api.post(f"/contact-lists/{cl['id']}/members/matching", {"consent": "fax"})
    assert fax.status_code == 422 and "consent" in str(fax.json())


def test_export_and_erase(api, admin_api, viewer_api, org):
    contact = ContactFactory(organization=org, name="Ada Lovelace", email="ada@example.com")
    OutboundMessageFactory(organization=org, contact_id=contact.pk, target=contact.phone)
    data = api.get(f"/contacts/{contact.pk}/data").json()
    assert data["contact"]["email"] == "ada@example.com" and len(data["messages_sent"]) == 1
    assert viewer_api.get(f"/contacts/{contact.pk}/data").status_code == 403
    assert api.post(f"/contacts/{contact.pk}/erase", {"confirm": "Ada Lovelace"}).status_code == 403
    wrong = admin_api.post(f"/contacts/{contact.pk}/erase", {"confirm": "Ada"})
    assert wrong.status_code == 422 and _details(wrong) == ["confirm"]
    done = admin_api.post(f"/contacts/{contact.pk}/erase", {"confirm": "Ada Lovelace"})
    assert done.status_code == 200 and done.json()["messages_anonymised"] == 1
    after = api.get(f"/contacts/{contact.pk}").json()
    assert after["erased_at"] and after["name"] == "" and after["email"] == ""
    assert after["messages"][0]["target"] == "[erased]"
    assert AuditEvent.objects.get(action="contact.erase").actor.startswith("API key admin")
    assert api.patch(f"/contacts/{contact.pk}", {"name": "x"}).status_code == 409
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_foreign_ids_answer_404(api, other_org):
    contact = ContactFactory(organization=other_org)
    cl = ContactListFactory(organization=other_org)
    assert api.get(f"/contacts/{contact.pk}/data").status_code == 404
    assert api.post(f"/contacts/{contact.pk}/erase", {"confirm": contact.name}).status_code == 404
    assert api.patch(f"/contact-lists/{cl.pk}", {"name": "x"}).status_code == 404
    assert api.post(f"/contact-lists/{cl.pk}/members/matching", {"tag": "x"}).status_code == 404
    mine = api.post("/contact-lists", {"name": "Mine"}).json()["id"]
    assert (
        api.post(f"/contact-lists/{mine}/members", {"contact_ids": [str(contact.pk)]}).status_code
        == 404
    )

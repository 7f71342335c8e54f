"""The triggers, schedules, contacts, contact-lists and batches API."""

from __future__ import annotations

import csv
import io
import uuid

from agents.audience.models import Contact
from tests.factories import ContactFactory
from tests.helpers import api_upload

# --- contacts -------------------------------------------------------------------------------


def test_contact_crud_consent_and_timeline(api, org, twilio_sms, run_now):
    resp = api.post(
        "/contacts",
        {
            "name": "Ada",
            "phone": "+14155550100",
            "tags": ["vip"],
            "consent": {"sms": {"status": "granted", "source": "web form"}},
            "attributes": {"plan": "pro"},
        },
    )
    assert resp.status_code == 201, resp.content
    cid = resp.json()["id"]
    assert api.post("/contacts", {"phone": "+14155550100"}).status_code == 409
    assert api.post("/contacts", {"phone": "12"}).json()["error"]["details"][0]["field"] == "phone"
    assert api.patch(f"/contacts/{cid}", {"name": "Ada Lovelace"}).json()["name"] == "Ada Lovelace"
    revoked = api.post(
        f"/contacts/{cid}/consent", {"channel": "email", "status": "revoked", "source": "staff"}
    )
    assert revoked.json()["consent"]["email"]["status"] == "revoked"
    assert api.post(f"/contacts/{cid}/consent", {"status": "granted"}).status_code == 422
    from agents.services import run_start

    run_now(
        run_start,
        organization=org,
        agent="messaging",
        intent="send-sms",
        payload={"to": "+14155550100", "body": "Hello"},
    )
    detail = api.get(f"/contacts/{cid}").json()
    assert detail["messages"][0]["target"] == "+14155550100" and detail["lists"] == []
    page = api.get("/contacts", {"search": "Lovelace"}).json()
    assert [c["id"] for c in page["items"]] == [cid]
    assert api.get("/contacts", {"tag": "vip"}).json()["items"][0]["id"] == cid
    assert api.delete(f"/contacts/{cid}").status_code == 204


def test_contacts_page_with_a_cursor(api, org):
    ContactFactory.create_batch(5, organization=org)
    first = api.get("/contacts", {"limit": 2}).json()
    second = api.get("/contacts", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/contacts", {"limit": 2, "cursor": second["next_cursor"]}).json()
    ids = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert len(set(ids)) == 5 and third["next_cursor"] is None
    assert api.get("/contacts", {"cursor": "garbage"}).status_code == 422


def test_csv_import_preview_then_commit_into_a_list_then_export(api):
    list_id = api.post("/contact-lists", {"name": "Newsletter"}).json()["id"]
    text = "name,email,phone,first_name\nAda,ada@example.com,+14155550100,Ada\nGrace,grace@example.com,,Grace\n"
    preview = api_upload(api, "/contacts/upload", text)
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert (body["rows"], body["create"], body["error_count"]) == (2, 2, 0)
    assert api.get(f"/contacts/imports/{body['import_id']}").json()["rows"] == 2
    done = api.post(f"/contacts/imports/{body['import_id']}/commit", {"list_id": list_id})
    assert done.status_code == 200 and done.json()["create"] == 2
    assert api.get(f"/contact-lists/{list_id}").json()["size"] == 2
    export = api.get("/contacts/export", {"list_id": list_id})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert sorted(r["email"] for r in rows) == ["ada@example.com", "grace@example.com"]
    assert {r["first_name"] for r in rows} == {"Ada", "Grace"}


def test_a_bad_import_commits_nothing_and_lists_the_rows(api):
    body = api_upload(api, "/contacts/upload", "phone\n+14155550100\nnot-a-phone\n").json()
    assert body["errors"] == [
        {"row": 2, "field": "phone", "message": "expected a phone number such as +14155550100"}
    ]
    resp = api.post(f"/contacts/imports/{body['import_id']}/commit", {})
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "row 2.phone"
    assert not Contact.objects.exists()


def test_contact_lists_members(api, org):
    ada = ContactFactory(organization=org)
    list_id = api.post("/contact-lists", {"name": "VIP", "description": "Best customers"}).json()[
        "id"
    ]
    assert api.post("/contact-lists", {"name": "VIP"}).status_code == 409
    assert api.post(f"/contact-lists/{list_id}/members", {"contact_ids": [str(ada.pk)]}).json() == {
        "changed": 1,
        "size": 1,
    }
    assert api.post(f"/contact-lists/{list_id}/members", {"contact_ids": []}).status_code == 422
    assert (
        api.post(
            f"/contact-lists/{list_id}/members", {"contact_ids": [str(uuid.uuid4())]}
        ).status_code
        == 404
    )
    assert api.get("/contact-lists").json()[0]["size"] == 1
    assert api.get(f"/contacts/{ada.pk}").json()["lists"] == [list_id]
    assert api.get("/contacts", {"list_id": list_id}).json()["items"][0]["id"] == str(ada.pk)
    assert (
        api.post(f"/contact-lists/{list_id}/members/remove", {"contact_ids": [str(ada.pk)]}).json()[
            "size"
        ]
        == 0
    )
    assert api.delete(f"/contact-lists/{list_id}").status_code == 204


def test_a_malformed_list_id_in_the_query_is_422_naming_it(api):
    for path in ("/contacts", "/contacts/export"):
        resp = api.get(path, {"list_id": "not-a-uuid"})
        assert resp.status_code == 422
        assert resp.json()["error"]["details"] == [
            {"field": "list_id", "message": "not a valid id"}
        ]

"""NUL characters (which PostgreSQL cannot store in text) answer 422 naming the field.

Run on SQLite by default and on PostgreSQL with DATABASE_URL set: on PostgreSQL these requests
answered 500 before they were refused at the edge.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agents.automation.models import Batch
from neonhub.core.models import Role
from tests.conftest import ApiClient, _key

pytestmark = pytest.mark.django_db

NUL = "\u0000"
RUN = {"agent": "support", "intent": "triage", "payload": {"content": "hi"}}


def _assert_refused(resp, field: str) -> None:
    assert resp.status_code == 422, resp.content
    error = resp.json()["error"]
    assert error["code"] == "INVALID_INPUT"
    assert error["details"] == [{"field": field, "message": "must not contain NUL characters"}]


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/contacts", {"name": f"Ada{NUL}", "phone": "+14155550100"}, "name"),
        ("/contacts", {"email": f"a{NUL}@example.com"}, "email"),
        ("/contacts", {"phone": "+14155550100", "tags": ["ok", f"v{NUL}ip"]}, "tags.1"),
        (
            "/contacts",
            {"phone": "+14155550100", "attributes": {"plan": f"p{NUL}"}},
            "attributes.plan",
        ),
        (
            "/contacts",
            {"phone": "+14155550100", "attributes": {f"k{NUL}": "v"}},
            "attributes (a key)",
        ),
        ("/contact-lists", {"name": f"VIP{NUL}"}, "name"),
        ("/runs", {**RUN, "payload": {"content": f"hi{NUL}"}}, "payload.content"),
        (
            "/triggers",
            {"name": f"T{NUL}", "source": "generic", "agent": "support", "intent": "triage"},
            "name",
        ),
        (
            "/schedules",
            {"name": f"S{NUL}", **RUN, "cron": "0 9 * * 2"},
            "name",
        ),
        (
            "/batches",
            {"name": f"B{NUL}", "agent": "support", "intent": "triage", "items": [{}]},
            "name",
        ),
        (
            "/batches",
            {"agent": "support", "intent": "triage", "items": [{"content": "a"}, {"content": NUL}]},
            "items.1.content",
        ),
    ],
)
def test_json_bodies_with_nul_answer_422_naming_the_field(api, path, body, field):
    _assert_refused(api.post(path, body), field)
    assert not Batch.objects.exists()


def test_connector_name_and_config_with_nul(client, org):
    admin = ApiClient(client, _key(org, Role.ADMIN))
    base = {"provider": "fake", "name": "Main", "mode": "sandbox", "credentials": {}}
    _assert_refused(admin.post("/connectors", {**base, "name": f"M{NUL}"}), "name")
    bad_config = {**base, "config": {"base_url": f"http://x{NUL}"}}
    _assert_refused(admin.post("/connectors", bad_config), "config.base_url")


def test_idempotency_key_header_with_nul(api):
    _assert_refused(
        api.post("/runs", RUN, headers={"Idempotency-Key": f"k{NUL}1"}), "Idempotency-Key"
    )


@pytest.mark.parametrize(
    "path, params, field",
    [
        ("/contacts", {"search": f"a{NUL}"}, "search"),
        ("/contacts", {"tag": f"vip{NUL}"}, "tag"),
        ("/runs", {"intent": f"triage{NUL}"}, "intent"),
    ],
)
def test_query_filters_with_nul(api, path, params, field):
    _assert_refused(api.get(path, params), field)


def test_contact_import_commit_with_a_nul_names_the_row_and_column(api):
    csv_text = f"name,phone\nAda,+14155550100\nBab{NUL}bage,+14155550101\n"
    upload = SimpleUploadedFile("c.csv", csv_text.encode(), content_type="text/csv")
    resp = api.client.post("/api/v1/contacts/upload", {"file": upload}, headers=api.headers)
    assert resp.status_code == 200, resp.content
    import_id = resp.json()["import_id"]
    resp = api.post(f"/contacts/imports/{import_id}/commit", {})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "row 2.name"


def test_batch_csv_with_a_nul_is_refused_before_any_item(api):
    csv_text = f"content\nfine\nbad{NUL}\n"
    upload = SimpleUploadedFile("b.csv", csv_text.encode(), content_type="text/csv")
    resp = api.client.post(
        "/api/v1/batches/upload",
        {"file": upload, "agent": "support", "intent": "triage"},
        headers=api.headers,
    )
    assert resp.status_code == 422 and "row 2 (content)" in resp.json()["error"]["message"]
    assert not Batch.objects.exists()


def test_page_form_with_nul_answers_422_naming_the_field(owner_client):
    resp = owner_client.post("/schedules/", {"name": f"S{NUL}", "task": "support/triage"})
    assert resp.status_code == 422 and b"name: must not contain NUL characters" in resp.content


def test_session_cookie_with_nul_answers_422(client):
    client.cookies["sessionid"] = f"abc{NUL}"
    resp = client.get("/")
    assert resp.status_code == 422 and b"Cookie" in resp.content


def test_nul_in_the_path_is_not_found(api):
    assert api.get(f"/contacts/imports/x{NUL}").status_code == 404


def test_a_literal_backslash_u0000_is_just_text(api):
    resp = api.post("/contacts", {"name": "\\u0000", "phone": "+14155550100"})
    assert resp.status_code == 201 and resp.json()["name"] == "\\u0000"

"""The alerts API: CRUD, scopes, 422 naming fields, 404 for other organizations' ids."""

from __future__ import annotations

import pytest

from neonhub.core.models import AuditEvent, Role
from neonhub.core.services import api_key_create
from tests.conftest import ApiClient
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db


def _client(client, org, role=Role.ADMIN, scopes=None):
    token = api_key_create(
        organization=org, name=f"{role} {scopes}", role=role, scopes=scopes
    ).token
    return ApiClient(client, token)


@pytest.fixture
def admin_api(client, org):
    return _client(client, org)


def _destination(api, **body):
    body = {"name": "On call", "kind": "email", "target": "oncall@example.com", **body}
    response = api.post("/alert-destinations", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_create_read_change_delete_a_rule(admin_api, org):
    destination = _destination(admin_api)
    assert destination["secret"] is None
    connector = ConnectorFactory(organization=org)
    response = admin_api.post(
        "/alerts",
        {
            "name": "SMS broken",
            "kind": "connector_reconnect",
            "connector_id": str(connector.pk),
            "alert_level": 1,
            "destination_ids": [destination["id"]],
        },
    )
    assert response.status_code == 201, response.content
    rule = response.json()
    assert rule["state"] == "ok" and rule["destination_ids"] == [destination["id"]]
    assert admin_api.get(f"/alerts/{rule['id']}").json()["name"] == "SMS broken"
    changed = admin_api.patch(
        f"/alerts/{rule['id']}", {"renotify_minutes": 60, "destination_ids": []}
    )
    assert changed.status_code == 200
    assert changed.json()["renotify_minutes"] == 60 and changed.json()["destination_ids"] == []
    assert [r["name"] for r in admin_api.get("/alerts").json()] == ["SMS broken"]
    assert admin_api.delete(f"/alerts/{rule['id']}").status_code == 204
    actions = set(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))
    assert {
        "alert_rule.create",
        "alert_rule.update",
        "alert_rule.delete",
        "alert_destination.create",
    } <= actions


def test_webhook_secret_is_shown_once(admin_api):
    created = _destination(
        admin_api, name="Pager", kind="webhook", target="https://example.com/hook"
    )
    assert created["secret"].startswith("whsec_")
    listed = admin_api.get("/alert-destinations").json()[0]
    assert "secret" not in listed and listed["secret_mask"]
    assert created["secret"] not in str(listed)
    one = admin_api.get(f"/alert-destinations/{created['id']}").json()
    assert "secret" not in one
    rotated = admin_api.post(f"/alert-destinations/{created['id']}/rotate-secret").json()["secret"]
    assert rotated.startswith("whsec_") and rotated != created["secret"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "error_rate", "alert_level": 2}, "alert_level"),
        ({"kind": "error_rate", "alert_level": 0.2, "warning_level": 0.5}, "warning_level"),
        ({"kind": "no_runs", "alert_level": 0, "agent": "nobody"}, "agent"),
        ({"kind": "no_runs", "alert_level": 0, "agent": "support", "intent": "dance"}, "intent"),
        ({"kind": "nonsense", "alert_level": 1}, "kind"),
        ({"kind": "error_rate"}, "alert_level"),
        ({"kind": "error_rate", "alert_level": 0.5, "window_minutes": 0}, "window_minutes"),
        ({"kind": "error_rate", "alert_level": 0.5, "colour": "red"}, "colour"),
    ],
)
def test_bad_rules_answer_422_naming_the_field(admin_api, body, field):
    response = admin_api.post("/alerts", {"name": "Bad", **body})
    assert response.status_code == 422, response.content
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert field in fields


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "email", "target": "not-an-address"}, "target"),
        ({"kind": "webhook", "target": "ftp://example.com/x"}, "target"),
        ({"kind": "sms", "target": "+15550000"}, "kind"),
    ],
)
def test_bad_destinations_answer_422(admin_api, body, field):
    response = admin_api.post("/alert-destinations", {"name": "Bad", **body})
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["error"]["details"]]


def test_other_organizations_ids_are_404(client, admin_api, other_org):
    theirs = _client(client, other_org)
    their_destination = _destination(theirs)
    their_rule = theirs.post(
        "/alerts", {"name": "Theirs", "kind": "batch_paused", "alert_level": 1}
    ).json()
    their_connector = ConnectorFactory(organization=other_org)
    assert admin_api.get(f"/alerts/{their_rule['id']}").status_code == 404
    assert admin_api.patch(f"/alerts/{their_rule['id']}", {"name": "Mine"}).status_code == 404
    assert admin_api.delete(f"/alert-destinations/{their_destination['id']}").status_code == 404
    assert admin_api.post(f"/alert-destinations/{their_destination['id']}/test").status_code == 404
    assert admin_api.get("/alerts/deliveries", {"rule_id": their_rule["id"]}).status_code == 404
    response = admin_api.post(
        "/alerts",
        {
            "name": "x",
            "kind": "batch_paused",
            "alert_level": 1,
            "destination_ids": [their_destination["id"]],
        },
    )
    assert (
        response.status_code == 422
        and response.json()["error"]["details"][0]["field"] == "destination_ids"
    )
    response = admin_api.post(
        "/alerts",
        {
            "name": "y",
            "kind": "connector_reconnect",
            "alert_level": 1,
            "connector_id": str(their_connector.pk),
        },
    )
    assert (
        response.status_code == 422
        and response.json()["error"]["details"][0]["field"] == "connector_id"
    )
    assert admin_api.get("/alerts").json() == []


def test_scopes_and_roles(client, org):
    reader = _client(client, org, Role.ADMIN, ["alerts:read"])
    assert reader.get("/alerts").status_code == 200
    response = reader.post("/alerts", {"name": "x", "kind": "batch_paused", "alert_level": 1})
    assert response.status_code == 403 and "alerts:manage" in response.json()["error"]["message"]
    other_scope = _client(client, org, Role.ADMIN, ["runs:read"])
    assert other_scope.get("/alerts").status_code == 403
    member = _client(client, org, Role.MEMBER)
    assert member.get("/alert-destinations").status_code == 200
    assert (
        member.post(
            "/alert-destinations", {"name": "a", "kind": "email", "target": "a@example.com"}
        ).status_code
        == 403
    )


def test_test_notification_and_deliveries_log(admin_api, mailoutbox):
    destination = _destination(admin_api)
    sent = admin_api.post(f"/alert-destinations/{destination['id']}/test")
    assert sent.status_code == 200
    assert sent.json()["status"] == "sent" and sent.json()["event"] == "test"
    assert len(mailoutbox) == 1
    log = admin_api.get("/alerts/deliveries").json()
    assert [d["id"] for d in log["items"]] == [sent.json()["id"]]
    assert log["next_cursor"] is None


def test_deliveries_log_pages_with_a_cursor(admin_api):
    destination = _destination(admin_api)
    ids = [
        admin_api.post(f"/alert-destinations/{destination['id']}/test").json()["id"]
        for _ in range(3)
    ]
    first = admin_api.get("/alerts/deliveries", {"limit": 2}).json()
    assert [d["id"] for d in first["items"]] == ids[::-1][:2]
    second = admin_api.get(
        "/alerts/deliveries", {"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [d["id"] for d in second["items"]] == [ids[0]] and second["next_cursor"] is None
    bad = admin_api.get("/alerts/deliveries", {"cursor": "garbage"})
    assert bad.status_code == 422


def test_openapi_types_the_alerts(ninja_client, admin_api):
    schema = admin_api.get("/openapi.json").json()
    assert schema["paths"]["/api/v1/alerts"]["post"]["x-neonhub-scope"] == "alerts:manage"
    assert schema["paths"]["/api/v1/alerts"]["get"]["x-neonhub-scope"] == "alerts:read"
    kinds = schema["components"]["schemas"]["RuleIn"]["properties"]["kind"]
    assert "connector_reconnect" in str(kinds)


def test_a_second_rule_of_the_same_name_is_a_conflict_naming_it(admin_api):
    body = {"name": "Batches", "kind": "batch_paused", "alert_level": 1}
    assert admin_api.post("/alerts", body).status_code == 201
    again = admin_api.post("/alerts", body)
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "An alert rule named 'Batches' already exists"
    assert again.json()["error"]["details"][0]["field"] == "name"

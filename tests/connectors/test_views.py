from __future__ import annotations

import re
from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors.models import Connector, Health
from connectors.services import connector_create, credentials_load
from neonhub.core.models import Role
from runs.models import RunStatus
from tests.factories import AgentRunFactory, MembershipFactory, OutboundMessageFactory

pytestmark = pytest.mark.django_db

TOKEN = "tok_live_4f9a2c7e1b3d5f60"
BASE = "https://fake.example.test"


def fake(org, *, name="Main", mode="live", **kwargs):
    return connector_create(
        organization=org,
        provider="fake",
        name=name,
        mode=mode,
        credentials={"api_token": TOKEN, "account": "acct_main"},
        config={"base_url": BASE},
        **kwargs,
    )


@pytest.fixture
def member_client(client, org):
    client.force_login(MembershipFactory(organization=org, role=Role.MEMBER).user)
    return client


def test_empty_list_invites_managers_to_add_one(owner_client):
    page = owner_client.get("/connectors/").content.decode()
    assert "No connectors yet" in page and 'href="/connectors/new/"' in page
    assert "<title>Connectors · NeonHub</title>" in page


def test_list_shows_health_sandbox_last_error_and_use(owner_client, org):
    live = fake(org, name="Live one")
    Connector.objects.filter(pk=live.pk).update(
        health=Health.NEEDS_RECONNECT,
        last_error="Fake: token revoked",
        last_error_at=timezone.now(),
        last_used_at=timezone.now() - timedelta(hours=2),
    )
    fake(org, name="Try-out", mode="sandbox")
    fake(org, name="Old token", token_expires_at=timezone.now() + timedelta(days=2))
    page = owner_client.get("/connectors/").content.decode()
    live_row = re.search(rf'<tr id="connector-{live.id}">(.*?)</tr>', page, re.S).group(1)
    assert (
        "Needs reconnect" in live_row
        and "Fake: token revoked" in live_row
        and "2\xa0hours ago" in live_row
    )
    assert '<span class="badge sandbox"' in page and "Fake Messaging" in page
    assert '<span class="badge status-expiring">Expiring</span>' in page
    assert TOKEN not in page


def test_test_button_answers_inline_with_the_row(member_client, org):
    sandbox = fake(org, mode="sandbox")
    resp = member_client.post(f"/connectors/{sandbox.id}/test/", headers={"HX-Request": "true"})
    fragment = resp.content.decode()
    assert resp.status_code == 200 and "<html" not in fragment
    assert (
        fragment.strip().startswith(f'<tr id="connector-{sandbox.id}">') and "✓ Passed" in fragment
    )
    assert "Healthy" in fragment


@responses.activate
def test_failing_live_test_marks_the_connector_and_says_why(member_client, org):
    connector = fake(org)
    responses.get(f"{BASE}/me", json={"error": {"code": "401", "message": "bad token"}}, status=401)
    fragment = member_client.post(
        f"/connectors/{connector.id}/test/", headers={"HX-Request": "true"}
    ).content.decode()
    assert "✗ Failed" in fragment and "bad token" in fragment and "Needs reconnect" in fragment
    connector.refresh_from_db()
    assert connector.health == Health.NEEDS_RECONNECT and connector.last_tested_at is not None
    assert TOKEN not in fragment


def test_test_without_script_comes_back_to_the_list_with_a_message(member_client, org):
    connector = fake(org, mode="sandbox")
    resp = member_client.post(f"/connectors/{connector.id}/test/", follow=True)
    assert resp.redirect_chain[-1][0] == "/connectors/"
    assert "Main: Sandbox connector" in resp.content.decode()


def test_viewers_read_but_cannot_test_add_or_edit(viewer_client, org):
    connector = fake(org, mode="sandbox")
    page = viewer_client.get("/connectors/").content.decode()
    assert (
        "Main" in page
        and "/test/" not in page
        and "/edit/" not in page
        and "Add a connector" not in page
    )
    assert viewer_client.post(f"/connectors/{connector.id}/test/").status_code == 403
    assert viewer_client.get("/connectors/new/").status_code == 403
    assert viewer_client.get(f"/connectors/{connector.id}/edit/").status_code == 403


def test_members_test_but_do_not_add_or_edit(member_client, org):
    connector = fake(org, mode="sandbox")
    page = member_client.get("/connectors/").content.decode()
    assert "/test/" in page and "/edit/" not in page
    assert member_client.get("/connectors/new/?provider=fake").status_code == 403
    assert member_client.post(f"/connectors/{connector.id}/edit/", {"name": "x"}).status_code == 403


def test_choosing_a_provider_shows_its_schema_as_a_form(owner_client):
    page = owner_client.get("/connectors/new/").content.decode()
    assert (
        '<a href="?provider=fake">Fake Messaging</a>' in page
        and '<a href="?provider=twilio_sms">' in page
    )
    form = owner_client.get("/connectors/new/?provider=fake").content.decode()
    assert '<label for="id_cred__api_token">Api token</label>' in form
    assert '<input type="password" name="cred__api_token"' in form
    assert 'name="conf__sender"' in form and '<option value="eu">eu</option>' in form
    assert "<legend>Credentials</legend>" in form


def test_unknown_provider_is_404_on_the_chooser(owner_client):
    resp = owner_client.get("/connectors/new/?provider=carrier_pigeon")
    assert resp.status_code == 404 and "no provider called" in resp.content.decode()


def test_adding_a_connector_encrypts_the_secret_and_never_shows_it(owner_client, owner, org):
    resp = owner_client.post(
        "/connectors/new/?provider=fake",
        {
            "name": "Support line",
            "mode": "live",
            "enabled": "on",
            "cred__api_token": TOKEN,
            "cred__account": "acct_support",
            "conf__sender": "Acme",
            "conf__region": "eu",
            "conf__base_url": BASE,
        },
    )
    assert resp.status_code == 302 and resp["Location"] == "/connectors/"
    connector = Connector.objects.get(name="Support line")
    assert connector.organization == org and connector.created_by == owner
    assert (
        TOKEN not in connector.credentials
        and credentials_load(connector=connector)["api_token"] == TOKEN
    )
    assert connector.config["region"] == "eu"
    for path in ("/connectors/", f"/connectors/{connector.id}/edit/"):
        page = owner_client.get(path).content.decode()
        assert TOKEN not in page
    edit = owner_client.get(f"/connectors/{connector.id}/edit/").content.decode()
    assert "Set: tok_…5f60. Leave blank to keep it." in edit


def test_schema_errors_are_shown_next_to_their_fields_with_422(owner_client):
    resp = owner_client.post(
        "/connectors/new/?provider=fake",
        {
            "name": "Broken",
            "mode": "live",
            "cred__api_token": "short",
            "cred__account": "nope",
        },
    )
    assert resp.status_code == 422
    page = resp.content.decode()
    assert "Nothing was saved" in page and page.count('class="field invalid"') >= 2
    assert not Connector.objects.filter(name="Broken").exists()


def test_a_taken_name_is_a_field_error(owner_client, org):
    fake(org, name="Main", mode="sandbox")
    resp = owner_client.post("/connectors/new/?provider=fake", {"name": "Main", "mode": "sandbox"})
    assert (
        resp.status_code == 422
        and "already has a Fake Messaging connector named" in resp.content.decode()
    )


def test_editing_keeps_a_blank_secret_and_saves_the_rest(owner_client, org):
    connector = fake(org)
    resp = owner_client.post(
        f"/connectors/{connector.id}/edit/",
        {
            "name": "Renamed",
            "mode": "live",
            "enabled": "on",
            "cred__api_token": "",
            "cred__account": "",
            "conf__sender": "NewSender",
            "conf__region": "us",
            "conf__base_url": BASE,
        },
    )
    assert resp.status_code == 302
    connector.refresh_from_db()
    assert connector.name == "Renamed" and connector.config["sender"] == "NewSender"
    assert credentials_load(connector=connector)["api_token"] == TOKEN


def test_edit_page_lists_recent_side_effects(owner_client, org):
    connector = fake(org, mode="sandbox")
    OutboundMessageFactory(
        connector=connector, action="send", target="+14155550100", status="sent", sandbox=True
    )
    page = owner_client.get(f"/connectors/{connector.id}/edit/").content.decode()
    assert "<code>fake.send</code>" in page and "+14155550100" in page


def test_connector_list_queries_do_not_grow_with_rows(owner_client, org, django_assert_num_queries):
    for i in range(5):
        fake(org, name=f"c{i}", mode="sandbox")
    with CaptureQueriesContext(connection) as five:
        assert owner_client.get("/connectors/").status_code == 200
    for i in range(5, 50):
        fake(org, name=f"c{i}", mode="sandbox")
    with django_assert_num_queries(len(five.captured_queries)):
        assert owner_client.get("/connectors/").status_code == 200


def test_run_page_loads_the_runs_outbox(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING)
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert f'hx-get="/runs/{run.id}/outbox/" hx-trigger="load"' in page
    empty = owner_client.get(f"/runs/{run.id}/outbox/").content.decode()
    assert "Sent through connectors" not in empty and 'hx-trigger="every 2s"' in empty
    OutboundMessageFactory(organization=org, run_id=run.id, status="delivered", provider_id="SM123")
    fragment = owner_client.get(f"/runs/{run.id}/outbox/").content.decode()
    assert "Sent through connectors" in fragment and "SM123" in fragment and "delivered" in fragment
    run.status = RunStatus.COMPLETED
    run.save()
    assert "every 2s" not in owner_client.get(f"/runs/{run.id}/outbox/").content.decode()


def test_outbox_of_another_organizations_run_is_404(owner_client, other_org):
    foreign = AgentRunFactory(organization=other_org)
    assert owner_client.get(f"/runs/{foreign.id}/outbox/").status_code == 404


def test_a_connector_of_a_provider_no_longer_installed_still_lists(owner_client, org):
    gone = Connector.objects.create(
        organization=org, provider="carrier_pigeon", name="Old", mode="sandbox"
    )
    page = owner_client.get("/connectors/").content.decode()
    assert "carrier_pigeon (not installed)" in page
    resp = owner_client.get(f"/connectors/{gone.id}/edit/")
    assert resp.status_code == 404 and "provider is not installed" in resp.content.decode()


def test_unknown_or_foreign_connectors_are_404(owner_client, other_org):
    import uuid

    foreign = fake(other_org, mode="sandbox")
    for connector_id in (foreign.id, uuid.uuid4()):
        assert owner_client.get(f"/connectors/{connector_id}/edit/").status_code == 404
        assert owner_client.post(f"/connectors/{connector_id}/test/").status_code == 404


def test_wrong_methods_are_405(owner_client, org):
    connector = fake(org, mode="sandbox")
    assert owner_client.post("/connectors/").status_code == 405
    assert owner_client.get(f"/connectors/{connector.id}/test/").status_code == 405


def test_a_name_taken_between_check_and_save_is_a_field_error(owner_client, org, monkeypatch):
    """Another request saves the same name after this form checked it (the unique constraint decides)."""
    from connectors.views import PageConnectorForm

    fake(org, name="Main", mode="sandbox")
    monkeypatch.setattr(PageConnectorForm, "_check_name", lambda self, cleaned: None)
    resp = owner_client.post("/connectors/new/?provider=fake", {"name": "Main", "mode": "sandbox"})
    assert resp.status_code == 422 and "already exists" in resp.content.decode()


def test_a_new_address_with_a_blank_secret_is_refused_on_the_page(owner_client, org):
    connector = fake(org)
    resp = owner_client.post(
        f"/connectors/{connector.id}/edit/",
        {
            "name": "Main",
            "mode": "live",
            "enabled": "on",
            "cred__api_token": "",
            "cred__account": "",
            "conf__sender": "NeonHub",
            "conf__region": "us",
            "conf__base_url": "https://collector.example",
        },
    )
    assert resp.status_code == 422
    assert "stored secrets do not follow a new address" in resp.content.decode()
    connector.refresh_from_db()
    assert connector.config["base_url"] == BASE

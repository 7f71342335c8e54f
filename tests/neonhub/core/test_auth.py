"""Authentication and the one role check: API keys (revoked and expired ones answer 401, even on
POST), and roles on API operations (``requires``) and pages (``page_requires``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from neonhub.core.auth import requires
from neonhub.core.models import ApiKey, Membership, Role
from neonhub.core.services import api_key_create
from runs.models import RunStatus
from runs.selectors import run_get
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def _post_runs(token: str):
    # enforce_csrf_checks: a real browser-less client, as curl or a script would be.
    client = Client(enforce_csrf_checks=True)
    return client.post(
        "/api/v1/runs",
        data={"agent": "support", "intent": "triage", "payload": {"content": "hi"}},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize("change", ["revoked_at", "expires_at"])
def test_revoked_or_expired_key_on_post_answers_401_not_a_csrf_403(org, change):
    created = api_key_create(organization=org, name="script", role="member")
    ApiKey.objects.filter(pk=created.api_key.pk).update(**{change: timezone.now() - timedelta(1)})
    resp = _post_runs(created.token)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "UNAUTHENTICATED"


def test_unknown_key_on_post_answers_401(org):
    resp = _post_runs("nope.nothing")
    assert resp.status_code == 401


def test_session_post_without_csrf_token_is_still_refused(org, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    resp = client.post(
        "/api/v1/runs",
        data={"agent": "support", "intent": "triage", "payload": {"content": "hi"}},
        content_type="application/json",
    )
    assert resp.status_code == 403


def test_a_viewer_gets_403_forbidden_json_from_a_write_operation(viewer_api, org):
    run = AgentRunFactory(organization=org, status=RunStatus.QUEUED)
    resp = viewer_api.post(f"/runs/{run.id}/cancel")
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "FORBIDDEN"
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED


def test_the_object_is_looked_up_before_the_role_is_checked(viewer_api, other_org):
    foreign = AgentRunFactory(organization=other_org)
    for run_id in (foreign.id, uuid.uuid4()):
        assert viewer_api.post(f"/runs/{run_id}/cancel").status_code == 404


def test_the_operation_keeps_its_path_id_for_ninja_and_receives_the_object():
    def cancel(request, run, body: int):
        return run, body

    operation = requires("write", find=run_get)(cancel)
    params = operation.__signature__.parameters
    assert list(params) == ["request", "run_id", "body"]
    assert params["run_id"].annotation is uuid.UUID and params["body"].annotation is int


def test_a_write_page_answers_405_to_a_get_after_the_lookup(owner_client, org, other_org):
    own = AgentRunFactory(organization=org)
    foreign = AgentRunFactory(organization=other_org)
    assert owner_client.get(f"/runs/{own.id}/cancel/").status_code == 405
    resp = owner_client.get(f"/runs/{foreign.id}/cancel/")
    assert resp.status_code == 404 and "Run not found" in resp.content.decode()


def test_a_viewer_sees_the_403_page_saying_what_the_role_may_do(viewer_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.FAILED)
    resp = viewer_client.post(f"/runs/{run.id}/retry/")
    assert resp.status_code == 403
    assert "can look at runs but not retry them." in resp.content.decode()


def test_a_form_page_shows_to_a_viewer_and_refuses_the_post(viewer_client):
    assert viewer_client.get("/schedules/").status_code == 200
    resp = viewer_client.post("/schedules/", {"name": "x"})
    assert resp.status_code == 403
    assert "can look at schedules but not change them." in resp.content.decode()
    assert viewer_client.put("/schedules/").status_code == 405


def test_managing_pages_refuse_members_on_every_method(client, org, django_user_model):
    member = django_user_model.objects.create_user("member", password="x")
    Membership.objects.create(organization=org, user=member, role=Role.MEMBER)
    client.force_login(member)
    resp = client.get("/connectors/new/")
    assert resp.status_code == 403
    assert "Only owners and admins of this organization can add connectors." in (
        resp.content.decode()
    )

"""Every API operation needs a scope, and a key without it hears 403 FORBIDDEN naming it."""

from __future__ import annotations

import re
import uuid

import pytest

from neonhub.api import SCOPE_EXTENSION, api
from neonhub.core import scopes
from neonhub.core.models import Role
from neonhub.core.services import api_key_create
from tests.conftest import ApiClient

METHODS = ("get", "post", "put", "patch", "delete")
# Operations any caller may use without a key or session: none today.  An operation listed
# here must say so in docs/API.md.
PUBLIC: set[str] = set()


def _operations() -> list[tuple[str, str, str, str | None]]:
    schema = api.get_openapi_schema()
    found = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                found.append((op["operationId"], method, path, op.get(SCOPE_EXTENSION)))
    return sorted(found)


OPERATIONS = _operations()


def _url(path: str) -> str:
    # The API client adds /api/v1; path parameters get a well-formed id nobody has.
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path.removeprefix("/api/v1"))


def test_the_walk_sees_every_router():
    prefixes = {path.split("/")[3] for _, _, path, _ in OPERATIONS}
    assert {"runs", "agents", "connectors", "triggers", "schedules", "contacts"} <= prefixes
    assert {"contact-lists", "batches", "calendar", "api-keys"} <= prefixes
    assert len(OPERATIONS) > 60


@pytest.mark.parametrize(("operation_id", "method", "path", "scope"), OPERATIONS)
def test_every_operation_declares_a_known_scope(operation_id, method, path, scope):
    if operation_id in PUBLIC:
        return
    assert scope in scopes.ALL, f"{method.upper()} {path} ({operation_id}) declares no scope"


def test_reads_need_read_scopes_and_approvals_their_own():
    by_id = {op: scope for op, _, _, scope in OPERATIONS}
    assert by_id["runs_list"] == "runs:read"
    assert by_id["runs_create"] == "runs:write"
    assert by_id["runs_approve"] == by_id["runs_reject"] == "approvals:write"
    assert by_id["connectors_create"] == "connectors:manage"
    assert by_id["connectors_test"] == "connectors:write"
    assert by_id["schedules_preview"] == "automation:read"
    assert by_id["calendar_list"] == "calendar:read"
    assert by_id["api_keys_create"] == "keys:manage"
    assert by_id["members_list"] == "members:read"
    assert by_id["invitations_create"] == "members:manage"
    assert by_id["settings_compliance_put"] == "settings:manage"


@pytest.mark.parametrize(("operation_id", "method", "path", "scope"), OPERATIONS)
def test_a_key_without_the_scope_is_refused_naming_it(
    client, org, operation_id, method, path, scope
):
    other = "calendar:read" if scope != "calendar:read" else "runs:read"
    token = api_key_create(organization=org, name="narrow", role=Role.OWNER, scopes=[other]).token
    response = getattr(ApiClient(client, token), method)(_url(path))
    assert response.status_code == 403, (operation_id, response.content)
    error = response.json()["error"]
    assert error["code"] == "FORBIDDEN"
    assert scope in error["message"]
    assert error["details"] == {"missing_scope": scope}


@pytest.mark.parametrize(("operation_id", "method", "path", "scope"), OPERATIONS)
def test_a_key_with_the_scope_gets_past_the_scope_check(
    client, org, operation_id, method, path, scope
):
    token = api_key_create(organization=org, name="exact", role=Role.OWNER, scopes=[scope]).token
    response = getattr(ApiClient(client, token), method)(_url(path))
    # Unknown ids, empty bodies: 404 or 422 are fine; a scope refusal is not.
    if response.status_code == 403:
        assert "scope" not in response.json()["error"]["message"], operation_id


def test_a_key_without_recorded_scopes_is_limited_by_its_role_only(api, viewer_api):
    assert api.get("/runs").status_code == 200
    assert viewer_api.get("/runs").status_code == 200
    refused = viewer_api.post("/contact-lists", {"name": "VIPs"})
    assert refused.status_code == 403
    assert "scope" not in refused.json()["error"]["message"]


def test_a_browser_session_is_governed_by_role_only(client, org):
    from tests.factories import MembershipFactory

    user = MembershipFactory(organization=org, role=Role.VIEWER).user
    client.force_login(user)
    assert client.get("/api/v1/runs").status_code == 200
    assert client.get("/api/v1/calendar").status_code in (200, 422)


def test_role_limits_which_scopes_a_key_can_hold():
    assert scopes.scopes_of_role(Role.VIEWER) == {
        s.name for s in scopes.SCOPES if s.level == "read"
    }
    assert "approvals:write" not in scopes.scopes_of_role(Role.MEMBER)
    assert scopes.scopes_of_role(Role.OWNER) == scopes.ALL
    assert scopes.effective_scopes(role=Role.MEMBER, scopes=[]) == scopes.ALL
    assert scopes.effective_scopes(role=Role.MEMBER, scopes=["runs:read", "keys:manage"]) == {
        "runs:read"
    }

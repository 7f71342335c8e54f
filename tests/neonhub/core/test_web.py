from __future__ import annotations

import uuid

import pytest

from neonhub.core.models import Role
from tests.factories import AgentRunFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_metrics_exposes_prometheus_text(client):
    resp = client.get("/metrics")
    assert resp.status_code == 200 and b"python_info" in resp.content


def test_pages_need_login(client):
    resp = client.get("/")
    assert resp.status_code == 302 and "/login/" in resp["Location"]


def test_login_page_and_login(client, owner):
    assert client.get("/login/").status_code == 200
    resp = client.post("/login/", {"username": owner.username, "password": "pw-123456"})
    assert resp.status_code == 302
    assert client.get("/").status_code == 200


def test_user_without_organization_sees_why(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    resp = client.get("/")
    assert resp.status_code == 403 and b"No organization yet" in resp.content


def test_switching_organizations_changes_what_is_shown(client, owner, org):
    second = OrganizationFactory(name="Second Org")
    MembershipFactory(organization=second, user=owner, role=Role.VIEWER)
    mine = AgentRunFactory(organization=org, intent="triage")
    theirs = AgentRunFactory(organization=second, intent="macro-suggest")
    client.force_login(owner)
    page = client.get("/").content.decode()
    assert str(mine.id)[:8] in page and str(theirs.id)[:8] not in page
    resp = client.post("/org/switch/", {"organization": str(second.id), "next": "/"})
    assert resp.status_code == 302
    page = client.get("/").content.decode()
    assert str(theirs.id)[:8] in page and str(mine.id)[:8] not in page
    # An organization the user is not a member of, or an outside redirect, is ignored.
    stranger = OrganizationFactory()
    client.post("/org/switch/", {"organization": str(stranger.id), "next": "https://evil.example/"})
    assert str(theirs.id)[:8] in client.get("/").content.decode()


def test_api_session_follows_the_switch(client, owner, org):
    second = OrganizationFactory()
    MembershipFactory(organization=second, user=owner, role=Role.VIEWER)
    theirs = AgentRunFactory(organization=second)
    client.force_login(owner)
    assert client.get(f"/api/v1/runs/{theirs.id}").status_code == 404
    client.post("/org/switch/", {"organization": str(second.id)})
    assert client.get(f"/api/v1/runs/{theirs.id}").status_code == 200


def test_body_size_limit_for_uploads_is_larger(rf, settings):
    from neonhub.core.middleware import BodySizeLimitMiddleware

    request = rf.post("/x/upload", data=b"x", content_type="text/csv")
    assert BodySizeLimitMiddleware.limit_for(request) > settings.NEONHUB_MAX_BODY_BYTES
    request = rf.post("/x", data=b"x", content_type="application/json")
    request.META["CONTENT_LENGTH"] = "not a number"
    resp = BodySizeLimitMiddleware(lambda r: "passed")(request)
    assert resp == "passed"


def test_secrets_are_generated_once(tmp_path):
    from neonhub.secrets import load_or_create

    first = load_or_create(tmp_path)
    assert load_or_create(tmp_path) == first
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    import base64

    assert len(base64.urlsafe_b64decode(first["encryption_keys"])) == 32


def test_check_deploy_passes_with_production_settings(tmp_path):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "neonhub.settings",
        "NEONHUB_SECRET_KEY": "x" * 60 + "-production-like-secret-key-value",
        "NEONHUB_ENCRYPTION_KEYS": "dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY=",
        "NEONHUB_PUBLIC_URL": "https://hub.example.com",
        "NEONHUB_ALLOWED_HOSTS": "hub.example.com",
        "NEONHUB_SSL_REDIRECT": "true",
        "NEONHUB_HSTS_SECONDS": "31536000",
        "NEONHUB_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "path,message", [("/runs/{}/", "Run not found"), ("/batches/{}/", "Batch not found")]
)
def test_a_page_whose_look_up_finds_nothing_is_the_404_page_with_the_reason(
    owner_client, path, message
):
    resp = owner_client.get(path.format(uuid.uuid4()))
    assert resp.status_code == 404 and message in resp.content.decode()


@pytest.mark.parametrize(
    "page", ["/", "/overview/", "/connectors/", "/settings/", "/settings/team/", "/account/"]
)
def test_the_organization_switcher_is_in_the_header_of_every_page(client, owner, org, page):
    second = OrganizationFactory(name="Second Org")
    MembershipFactory(organization=second, user=owner, role=Role.MEMBER)
    client.force_login(owner)
    body = client.get(page).content.decode()
    assert 'id="org-switch"' in body and "Second Org" in body
    resp = client.post("/org/switch/", {"organization": str(second.id), "next": page})
    assert resp["Location"] == page
    assert client.get(page).context["organization"] == second

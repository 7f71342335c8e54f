from __future__ import annotations

import pytest
from ninja.testing import TestClient

from neonhub.core.models import Role
from neonhub.core.services import api_key_create
from tests.factories import MembershipFactory, OrganizationFactory


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(slug="globex", name="Globex")


def _key(organization, role=Role.MEMBER):
    return api_key_create(organization=organization, name=f"{role} key", role=role).token


@pytest.fixture
def api_key(org):
    return _key(org)


@pytest.fixture
def viewer_key(org):
    return _key(org, Role.VIEWER)


@pytest.fixture
def other_key(other_org):
    return _key(other_org)


class ApiClient:
    """Django's test client speaking JSON with a bearer key, through the full middleware stack."""

    def __init__(self, client, token):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method, path, data=None, headers=None, **kwargs):
        fn = getattr(self.client, method)
        extra = {**self.headers, **(headers or {})}
        if data is not None and method in ("post", "patch", "put"):
            import json

            return fn(
                f"/api/v1{path}",
                data=json.dumps(data),
                content_type="application/json",
                headers=extra,
                **kwargs,
            )
        return fn(f"/api/v1{path}", data=data, headers=extra, **kwargs)

    def get(self, path, params=None, **kw):
        return self._call("get", path, params, **kw)

    def post(self, path, data=None, **kw):
        return self._call("post", path, data if data is not None else {}, **kw)

    def patch(self, path, data=None, **kw):
        return self._call("patch", path, data or {}, **kw)

    def put(self, path, data=None, **kw):
        return self._call("put", path, data or {}, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


@pytest.fixture
def api(client, api_key):
    return ApiClient(client, api_key)


@pytest.fixture
def viewer_api(client, viewer_key):
    return ApiClient(client, viewer_key)


@pytest.fixture
def other_api(client, other_key):
    return ApiClient(client, other_key)


@pytest.fixture
def owner(org):
    return MembershipFactory(organization=org, role=Role.OWNER).user


@pytest.fixture
def run_now(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the enqueue) so sync django-q2 executes the run inline."""

    def _run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return _run


@pytest.fixture
def ninja_client():
    from neonhub.api import api as ninja_api

    return TestClient(ninja_api)


# --- browser-session clients of the pages ---


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def viewer(org):
    return MembershipFactory(organization=org, role=Role.VIEWER).user


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def staff_client(client, django_user_model):
    """A superuser's browser session, for the admin."""
    user = django_user_model.objects.create_superuser(
        "staff@example.com", "staff@example.com", "pw-123456"
    )
    client.force_login(user)
    return client

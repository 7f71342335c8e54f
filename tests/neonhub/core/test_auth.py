from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from neonhub.core.models import ApiKey
from neonhub.core.services import api_key_create

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

"""A real qcluster leaves a run awaiting approval alone, and carries it out once approved."""

from __future__ import annotations

import time

import pytest
from django_q.conf import Conf

from connectors.registry import get_provider_class
from connectors.services import connector_create, placeholders
from neonhub.core.models import Role
from neonhub.core.services import api_key_create
from runs.models import AgentRun, RunStatus
from tests.conftest import ApiClient
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


def test_a_held_publish_waits_for_the_worker_until_approved(broker, worker, client, org):
    cls = get_provider_class("facebook_page")
    connector_create(
        organization=org,
        provider="facebook_page",
        name="Acme page",
        mode="sandbox",
        credentials=placeholders(cls.Credentials),
        config=placeholders(cls.Config),
    )
    org.settings = {"approvals": {"social_platforms": ["facebook_page"]}}
    org.save()
    admin = ApiClient(client, api_key_create(organization=org, name="ci", role=Role.ADMIN).token)
    worker()
    resp = admin.post(
        "/runs",
        {
            "agent": "social",
            "intent": "publish",
            "payload": {"text": "Hi", "platforms": ["facebook_page"]},
        },
    )
    assert resp.status_code == 202 and resp.json()["status"] == "awaiting_approval"
    run_id = resp.json()["id"]
    time.sleep(3)  # a worker that took it would have started it by now
    assert AgentRun.objects.get(pk=run_id).status == RunStatus.AWAITING_APPROVAL
    assert admin.post(f"/runs/{run_id}/approve").status_code == 202
    wait_for(lambda: AgentRun.objects.get(pk=run_id).is_terminal, timeout=60)
    run = AgentRun.objects.get(pk=run_id)
    assert run.status == RunStatus.COMPLETED, run.error_context
    assert run.output["results"]["facebook_page"]["status"] == "published"

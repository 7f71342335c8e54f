from __future__ import annotations

import pytest

from runs.models import RunStatus
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def test_run_list_filters_and_empty_state(client, owner, org):
    client.force_login(owner)
    assert b"No runs yet" in client.get("/").content
    done = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    failed = AgentRunFactory(organization=org, status=RunStatus.FAILED)
    page = client.get("/?status=failed").content.decode()
    assert str(failed.id)[:8] in page and str(done.id)[:8] not in page


def test_run_detail_shows_steps_and_error(client, owner, org, run_now):
    from agents import services

    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="testing",
        intent="reject",
        payload={"text": "x"},
    )
    client.force_login(owner)
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert (
        "CONNECTOR_REJECTED" in page
        and "call provider" in page
        and "Provider refused the post" in page
    )


def test_run_detail_htmx_fragment(client, owner, org):
    run = AgentRunFactory(organization=org)
    client.force_login(owner)
    resp = client.get(f"/runs/{run.id}/", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert b"<html" not in resp.content and b'id="run-body"' in resp.content


def test_bad_cursor_falls_back_to_first_page(client, owner, org):
    AgentRunFactory(organization=org)
    client.force_login(owner)
    assert client.get("/?cursor=%%%").status_code == 200

from __future__ import annotations

import pytest

from runs.models import AgentRun, RunStatus

pytestmark = pytest.mark.django_db


def test_digest_form_has_date_inputs_and_starts_a_run(
    owner_client, google_ads, django_capture_on_commit_callbacks
):
    page = owner_client.get("/runs/new/?task=ads/digest").content.decode()
    assert 'type="date"' in page and "Google Ads account" in page and "Last days" in page
    with django_capture_on_commit_callbacks(execute=True):
        resp = owner_client.post(
            "/runs/new/",
            {"task": "ads/digest", "input-start": "2026-11-30", "input-end": "2026-12-06"},
        )
    run = AgentRun.objects.get()
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert run.input["start"] == "2026-11-30" and run.input["end"] == "2026-12-06"
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error


def test_budget_form_chooses_among_the_accounts_budgets(
    owner_client, google_ads, django_capture_on_commit_callbacks
):
    page = owner_client.get("/runs/new/?task=ads/budget-change").content.decode()
    assert "Shared search: 50.00 a day, 2 campaigns" in page
    resp = owner_client.post(
        "/runs/new/",
        {"task": "ads/budget-change", "input-budgetId": "900", "input-amountPerDay": "65.555"},
    )
    assert resp.status_code == 422 and "at most 2 decimals" in resp.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            "/runs/new/",
            {"task": "ads/budget-change", "input-budgetId": "900", "input-amountPerDay": "65.5"},
        )
    run = AgentRun.objects.get()
    assert run.status == RunStatus.AWAITING_APPROVAL and run.input["amountPerDay"] == 65.5


def test_budget_form_without_a_connector_lets_the_id_be_typed(owner_client):
    page = owner_client.get("/runs/new/?task=ads/budget-change").content.decode()
    assert "The budgets could not be listed (no Google Ads connector yet)" in page

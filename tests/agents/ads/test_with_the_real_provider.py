"""The Ads agent against the real Google Ads provider in sandbox mode (not the test stand-in):
the provider's answers and the agent's reading of them meet, for the digest, a budget change
behind approval, and keyword research."""

from __future__ import annotations

import pytest

from agents import services
from connectors.models import OutboundMessage
from runs.models import RunStatus, RunStep

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def google_ads_registered():
    """Overrides the package's stand-in: the registry's own google_ads provider answers."""


def test_the_digest_reads_the_sandbox_accounts_campaigns(run_intent, google_ads):
    run = run_intent("ads", "digest", {"start": "2026-11-30", "end": "2026-12-06"})
    assert run.status == RunStatus.COMPLETED, run.error
    out = run.output
    assert out["currency"] == "EUR" and out["period"]["days"] == 7
    names = {c["name"] for c in out["campaigns"]}
    assert {"Sandbox · Brand search", "Sandbox · Generic search"} <= names
    brand = next(c for c in out["campaigns"] if c["name"] == "Sandbox · Brand search")
    assert brand["spend"] > 0 and brand["clicks"] > 0
    assert 0 < brand["pacing"]["share"] <= 1  # a day's cost stays within its budget
    assert out["totals"]["spend"] == pytest.approx(sum(c["spend"] for c in out["campaigns"]))
    assert "Sandbox · Brand search" in out["summary"]


def test_a_budget_change_waits_for_approval_then_updates_once(run_now, org, google_ads, owner):
    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="ads",
        intent="budget-change",
        payload={"budgetId": "800000001", "amountPerDay": "30.00"},
    )
    run.refresh_from_db()
    assert run.status == RunStatus.AWAITING_APPROVAL
    assert "Sandbox · Brand search" in str(run.approval.preview)
    assert not OutboundMessage.objects.filter(action="campaign_budget_update").exists()

    run_now(services.run_approve, run=run, user=owner)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output["old_amount"] == 25.0 and run.output["new_amount"] == 30.0
    assert OutboundMessage.objects.filter(action="campaign_budget_update").count() == 1


def test_keyword_research_carries_google_ads_figures(run_intent, google_ads):
    run = run_intent("seo", "keyword-research", {"seeds": ["garden centre"], "limit": 10})
    assert run.status == RunStatus.COMPLETED, run.error
    keywords = [k for c in run.output["clusters"] for k in c["keywords"]]
    assert keywords and {k["source"] for k in keywords} == {"google_ads"}
    assert run.output["summary"]["source"] == "google_ads"
    assert any(isinstance(k["volume"], int) and k["volume"] > 0 for k in keywords)
    assert RunStep.objects.filter(run=run, action="keyword_historical_metrics").exists()

from __future__ import annotations

import pytest

from agents.results import present
from runs.models import RunStatus, RunStep

pytestmark = pytest.mark.django_db
SEEDS = {"seeds": ["email marketing"], "limit": 15}


def by_keyword(run) -> dict:
    return {k["keyword"]: k for c in run.output["clusters"] for k in c["keywords"]}


def test_keyword_research_takes_real_figures_from_google_ads(run_intent, google_ads):
    run = run_intent("seo", "keyword-research", SEEDS)
    assert run.status == RunStatus.COMPLETED, run.error
    found = by_keyword(run)
    seed = found["email marketing"]
    assert (seed["volume"], seed["competition"], seed["competitionIndex"]) == (12_100, "HIGH", 88)
    assert (seed["lowTopOfPageBid"], seed["highTopOfPageBid"]) == (1.23, 6.54)
    assert seed["source"] == "google_ads" and seed["monthlySearchVolumes"][0]["searches"] == 12_100
    # Asked, but Google has no figures for it: still no invented number.
    assert found["email marketing pricing"]["volume"] is None
    assert found["how to email marketing"]["lowTopOfPageBid"] is None
    summary = run.output["summary"]
    assert summary["source"] == "google_ads" and summary["connector"] == "Ads account"
    assert "3 of 15 keywords" in summary["note"]
    # Ideas that the seeds did not produce, the most searched first.
    assert [s["keyword"] for s in run.output["suggestions"]] == [
        "bulk email service",
        "email newsletter software",
    ]
    calls = RunStep.objects.filter(run=run, provider="google_ads")
    assert sorted(calls.values_list("action", flat=True)) == [
        "keyword_historical_metrics",
        "keyword_ideas",
    ]


def test_keyword_research_without_a_connector_keeps_volumes_empty(run_intent):
    run = run_intent("seo", "keyword-research", SEEDS)
    assert run.output["summary"]["source"] == "none" and run.output["suggestions"] == []
    assert all(k["volume"] is None and k["source"] == "none" for k in by_keyword(run).values())


def test_keyword_result_page_says_the_figures_in_words(run_intent, google_ads, owner_client):
    run = run_intent("seo", "keyword-research", SEEDS)
    view = present("seo", "keyword-research", run.output, run.input)
    assert not view.context["r"]["no_source"]
    page = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert "12,100" in page and "High (88)" in page and "1.23–6.54" in page
    assert "email marketing" in page and "searched most" in page
    assert "bulk email service" in page

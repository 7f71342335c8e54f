from __future__ import annotations

from pathlib import Path

import pytest

from agents.library.seo import keyword_from_url
from agents.seo import audit, keywords
from agents.seo import fetch as seo_fetch
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun

pytestmark = pytest.mark.django_db
PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "seo"


def page(name: str) -> str:
    return (PAGES / name).read_text()


def checks(report: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for issue in report["issues"]:
        found.setdefault(issue["check"], []).append(issue["priority"])
    return found


def test_audit_of_a_well_kept_page_finds_little_to_fix():
    url = "https://shop.example.com/blog/email-marketing-basics"
    report = audit.audit_html(page("good_article.html"), url=url, keyword="email marketing")
    assert report["title"] == {
        "text": "Email Marketing Basics: A Guide for Small Teams",
        "length": 47,
        "count": 1,
    }
    assert 70 <= report["metaDescription"]["length"] <= 160
    assert report["headings"]["h1"] == ["Email marketing basics for small teams"]
    assert report["headings"]["counts"]["h2"] == 3 and report["headings"]["skippedLevels"] == []
    assert report["content"] == {"wordCount": report["content"]["wordCount"], "language": "en"}
    assert report["content"]["wordCount"] > 300
    assert report["images"] == {
        "total": 2,
        "withAlt": 1,
        "decorative": 1,
        "missingAlt": 0,
        "missingAltSources": [],
        "altCoverage": 100.0,
    }
    assert report["links"] == {"internal": 3, "external": 1, "nofollow": 1, "emptyAnchor": 0}
    assert report["canonical"]["selfReferencing"] and report["canonical"]["absolute"]
    assert report["robots"]["noindex"] is False
    assert report["openGraph"]["missing"] == [] and report["twitter"]["missing"] == []
    assert report["structuredData"]["types"] == ["Article"]
    keyword = report["keyword"]
    assert (
        keyword["inTitle"]
        and keyword["inH1"]
        and keyword["inMetaDescription"]
        and keyword["inFirst100Words"]
    )
    assert keyword["inUrl"] is True
    assert 0.5 <= keyword["density"] <= 3.0
    assert report["readability"]["fleschReadingEase"] > 60
    assert report["issues"] == []
    assert report["score"] == 100


def test_audit_reports_missing_basics_with_high_priority_first():
    report = audit.audit_html(
        page("missing_basics.html"), url="https://shop.example.com/", keyword="running shoes"
    )
    found = checks(report)
    assert found["title"] == ["high"] and found["metaDescription"] == ["high"]
    assert "high" in found["headings"]  # no h1
    assert report["images"]["missingAlt"] == 3 and report["images"]["altCoverage"] == 0.0
    assert report["links"]["emptyAnchor"] == 2  # an image link without alt has no text either
    # 19 syllables by the pronouncing dictionary (textstat); the old vowel-group count was 17,
    # which read as 103.3, off Flesch's 0-100 scale.
    assert (report["readability"]["fleschReadingEase"], report["readability"]["syllables"]) == (
        92.1,
        19,
    )
    assert {
        "viewport",
        "language",
        "canonical",
        "content",
        "openGraph",
        "twitter",
        "structuredData",
    } <= set(found)
    recs = audit.recommendations(report["issues"])
    priorities = [r["priority"] for r in recs]
    assert priorities == sorted(priorities, key=audit.PRIORITY_ORDER.get)
    assert report["score"] < 30


def test_audit_flags_noindex_stuffing_duplicate_h1_and_canonicals_and_broken_json_ld():
    report = audit.audit_html(
        page("noindex_stuffed.html"),
        url="https://shop.example.com/running-shoes",
        keyword="cheap running shoes",
    )
    found = checks(report)
    assert report["robots"] == {
        "meta": "noindex, nofollow",
        "header": None,
        "noindex": True,
        "nofollow": True,
    }
    assert found["robots"] == ["high"]
    assert report["canonical"]["count"] == 2 and found["canonical"] == ["high"]
    assert report["headings"]["skippedLevels"] == ["h1 → h4"]
    assert report["title"]["length"] > 60 and found["title"] == ["medium"]
    assert report["structuredData"]["invalidJsonLd"] == 1 and found["structuredData"] == ["medium"]
    assert report["keyword"]["density"] > 3.0
    assert any("stuffing" in i["fix"] for i in report["issues"] if i["priority"] == "high")
    assert report["metaDescription"]["length"] == 20


def test_audit_reads_x_robots_tag_header_and_handles_fragments_without_a_keyword():
    report = audit.audit_html("<p>Hello there</p>", headers={"X-Robots-Tag": "noindex"})
    assert report["robots"]["noindex"] is True and report["keyword"] is None
    assert report["content"]["wordCount"] == 2
    assert report["links"]["internal"] == 0


@pytest.mark.parametrize(
    "url,keyword",
    [
        ("https://example.com/blog/email-marketing_tips", "email marketing tips"),
        ("https://www.example.com/", "example.com"),
        ("https://example.com/guides/seo-basics.html", "seo basics"),
        ("https://example.com/a/caf%C3%A9-menu/", "café menu"),
    ],
)
def test_keyword_from_url_follows_the_originals_rule(url, keyword):
    assert keyword_from_url(url) == keyword


def test_seo_audit_intent_on_raw_html(run_intent):
    run = run_intent(
        "seo",
        "seo-audit",
        {
            "html": page("missing_basics.html"),
            "keyword": "running shoes",
            "backlinkCount": 12,
            "domainAuthority": 40,
        },
    )
    assert run.status == "completed"
    out = run.output
    assert out["keyword"] == "running shoes" and out["score"] == out["audit"]["score"]
    assert out["difficulty"] is None and out["tier"] is None
    assert (
        out["components"]["contentQuality"] == out["score"]
        and out["components"]["backlinkProfile"] == 12
    )
    assert out["context"]["domainAuthority"] == 40
    assert out["recommendations"][0]["priority"] == "high"
    assert run.metrics["issues"] == len(out["recommendations"])
    assert [s.name for s in run.steps.all()] == ["analyse page"]


def test_seo_audit_fetches_a_url_through_the_seam_with_a_recorded_step(run_intent, httpserver):
    httpserver.expect_request("/blog/email-marketing-basics").respond_with_data(
        page("good_article.html"),
        content_type="text/html; charset=utf-8",
        headers={"X-Robots-Tag": "all"},
    )
    url = httpserver.url_for("/blog/email-marketing-basics")
    run = run_intent("seo", "seo-audit", {"url": url})
    assert run.status == "completed", run.error_context
    assert run.output["keyword"] == "email marketing basics"
    assert run.output["audit"]["url"] == url
    assert (
        run.output["audit"]["canonical"]["selfReferencing"] is False
    )  # the canonical names the real host
    fetch_step = run.steps.get(name="fetch page")
    assert fetch_step.kind == "call" and fetch_step.http_status == 200
    assert fetch_step.detail["bytes"] > 1000


def test_seo_audit_follows_redirects_and_refuses_non_html(run_intent, httpserver):
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new").respond_with_data(
        "<title>x</title>", content_type="text/html"
    )
    httpserver.expect_request("/file.pdf").respond_with_data(
        b"%PDF", content_type="application/pdf"
    )
    run = run_intent("seo", "seo-audit", {"url": httpserver.url_for("/old"), "keyword": "x"})
    assert run.status == "completed" and run.output["audit"]["url"].endswith("/new")
    run = run_intent("seo", "seo-audit", {"url": httpserver.url_for("/file.pdf")})
    assert run.status == "failed" and run.error_code == "INVALID_INPUT"
    assert run.error_context["details"][0]["field"] == "payload.url"


def test_seo_audit_refuses_pages_over_the_size_limit(run_intent, httpserver, monkeypatch):
    monkeypatch.setattr(seo_fetch, "MAX_BYTES", 1000)
    httpserver.expect_request("/big").respond_with_data(
        "<p>" + "x" * 5000, content_type="text/html"
    )
    run = run_intent("seo", "seo-audit", {"url": httpserver.url_for("/big")})
    assert run.status == "failed" and "audit limit" in run.error_message


def test_seo_audit_refuses_a_streamed_page_that_grows_past_the_limit(
    run_intent, httpserver, monkeypatch
):
    from werkzeug import Response

    monkeypatch.setattr(seo_fetch, "MAX_BYTES", 100_000)
    chunks = (b"<p>" + b"y" * 65536 for _ in range(4))
    httpserver.expect_request("/stream").respond_with_response(
        Response(chunks, content_type="text/html")
    )
    run = run_intent("seo", "seo-audit", {"url": httpserver.url_for("/stream")})
    assert run.status == "failed" and run.error_code == "INVALID_INPUT"


def test_seo_audit_maps_page_errors_to_connector_errors(run_intent, httpserver):
    httpserver.expect_request("/gone").respond_with_data("nope", status=404)
    run = run_intent("seo", "seo-audit", {"url": httpserver.url_for("/gone")})
    assert run.status == "failed" and run.error_code == "CONNECTOR_REJECTED"
    assert run.steps.get(name="fetch page").http_status == 404


def test_seo_audit_refuses_private_addresses_unless_allowed(run_intent, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    with pytest.raises(InvalidInput) as refused:
        run_intent("seo", "seo-audit", {"url": "http://127.0.0.1:9/admin"})
    assert refused.value.details == [
        {
            "field": "payload.url",
            "message": "URL points to a private or local address; use a public one.",
        }
    ]
    assert not AgentRun.objects.exists()


def test_seo_audit_refuses_redirects_to_private_addresses(
    run_intent, httpserver, settings, monkeypatch
):
    from connectors import http

    calls = []
    real = http.check_public_url

    def check(url, *, field="url"):
        calls.append(url)
        if "169.254" in url:
            settings.NEONHUB_ALLOW_PRIVATE_URLS = False
        return real(url, field=field)

    monkeypatch.setattr(seo_fetch, "check_public_url", check)
    httpserver.expect_request("/hop").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest"}
    )
    run = run_intent("seo", "seo-audit", {"url": httpserver.url_for("/hop")})
    assert run.status == "failed" and run.error_code == "INVALID_INPUT"
    assert calls[-1] == "http://169.254.169.254/latest"


def test_seo_audit_with_only_a_keyword_gives_targeting_advice(run_intent):
    run = run_intent("seo", "seo-audit", {"keyword": "running shoes pricing"})
    assert run.status == "completed"
    assert run.output["audit"] is None and run.output["score"] is None
    assert "transactional" in run.output["recommendations"][0]["message"]


@pytest.mark.parametrize(
    "payload,field",
    [
        ({}, "payload"),
        ({"keyword": "x", "domainAuthority": 101}, "payload.domainAuthority"),
        ({"keyword": "x", "backlinkCount": -1}, "payload.backlinkCount"),
        ({"keyword": "x", "surprise": 1}, "payload.surprise"),
    ],
)
def test_seo_audit_bad_input_names_the_field(api, payload, field):
    response = api.post("/runs", {"agent": "seo", "intent": "seo-audit", "payload": payload})
    assert response.status_code == 422
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert any(f == field or f.startswith(field) for f in fields), fields


def test_keyword_research_expands_classifies_and_clusters_without_invented_numbers(run_intent):
    run = run_intent(
        "seo",
        "keyword-research",
        {
            "seeds": ["email marketing", "newsletter"],
            "seed": "newsletter",
            "limit": 5,
            "personaId": 7,
        },
    )
    assert run.status == "completed"
    out = run.output
    summary = out["summary"]
    assert summary["totalKeywords"] == 15  # limit clamped up to 15
    assert summary["seedsAnalyzed"] == ["email marketing", "newsletter"]
    assert (
        summary["personaId"] == 7
        and summary["averageOpportunity"] is None
        and summary["source"] == "none"
    )
    assert {c["label"] for c in out["clusters"]} == {"marketing", "newsletter"}
    every = [k for c in out["clusters"] for k in c["keywords"]]
    assert all(
        k["volume"] is None and k["difficulty"] is None and k["source"] == "none" for k in every
    )
    by_keyword = {k["keyword"]: k for k in every}
    assert by_keyword["email marketing tools"]["intent"] == "commercial"
    assert by_keyword["how to email marketing"]["intent"] == "informational"
    assert by_keyword["email marketing pricing"]["intent"] == "transactional"
    assert run.metrics["clusters"] == 2 and run.metrics["totalKeywords"] == 15


def test_keyword_research_caps_at_one_hundred_and_needs_a_seed(api, run_intent):
    run = run_intent("seo", "keyword-research", {"topic": "crm", "limit": 100})
    assert run.output["summary"]["totalKeywords"] == len(
        keywords.MODIFIERS
    )  # one seed yields every modifier
    response = api.post(
        "/runs", {"agent": "seo", "intent": "keyword-research", "payload": {"seeds": []}}
    )
    assert response.status_code == 422
    response = api.post(
        "/runs",
        {"agent": "seo", "intent": "keyword-research", "payload": {"seed": "x", "limit": 101}},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "keyword,intent,confidence",
    [
        ("buy running shoes", "transactional", 0.9),
        ("best running shoes", "commercial", 0.9),
        ("running shoes login", "navigational", 0.9),
        ("how to clean running shoes", "informational", 0.9),
        ("best running shoes price", "transactional", 0.7),
        ("running shoes", "informational", 0.5),
        ("acme shoes", "navigational", 0.85),
    ],
)
def test_intent_classification(keyword, intent, confidence):
    assert keywords.classify_intent(keyword, brand_terms=("Acme",)) == (intent, confidence)

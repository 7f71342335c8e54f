"""The run page's readable result, the input as fields, and the .md / .html downloads."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from agents import services
from neonhub.core.models import Role
from runs import hooks
from runs.models import RunStatus
from tests.factories import AgentRunFactory, MembershipFactory

pytestmark = pytest.mark.django_db

XSS_BODY = (
    "# Launch <script>alert('x')</script>\n\n"
    "Read [this](javascript:alert(1)) and <img src=x onerror=alert(2)>.\n\n"
    '<a href="https://evil.example" onclick="steal()">raw link</a>\n\n## Plan\n\nShip it.\n'
)


# A script, an image, an event handler or a javascript: link as real markup, not as text.
LIVE_MARKUP = re.compile(r"<(script|img|iframe)|<[^>]*\son\w+\s*=|href=[\"']?javascript:", re.I)


def _article(org, **output):
    body = output.pop("body", "# Calm releases\n\nIntro.\n\n## Why it matters\n\nBecause.\n")
    return AgentRunFactory(
        organization=org,
        agent="content",
        intent="generate-draft",
        status=RunStatus.COMPLETED,
        input={"topic": "Calm releases", "primaryKeyword": "release planning"},
        output={"title": "Calm releases: a guide", "body": body, "model": "builtin", **output},
    )


def _between(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


def test_a_generated_article_reads_as_an_article(owner_client, org, run_now):
    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="content",
        intent="generate-draft",
        payload={"topic": "Calm release planning", "primaryKeyword": "release planning"},
    )
    run.refresh_from_db()
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    article = _between(page, '<article class="card prose"', "</article>")
    headings = [line[3:] for line in run.output["body"].splitlines() if line.startswith("## ")]
    assert len(headings) >= 2
    assert all(f"<h2>{escape(h)}</h2>" in article for h in headings), headings
    assert '<span class="badge generator-template" id="result-generator"' in page
    assert "Template text, no AI model" in page
    assert "Quality score" in page and "Keyword insights" in page and "Meta description" in page
    assert (
        f'href="/runs/{run.id}/result.md"' in page and f'href="/runs/{run.id}/result.html"' in page
    )
    assert f"?task=social/publish&amp;use_output_of={run.id}" in page
    assert f"?task=email/send&amp;use_output_of={run.id}" in page
    # The raw JSON and the input stay, with the ids scripts and tests rely on.
    assert 'id="run-output"' in page and 'id="run-input"' in page
    assert (
        '<dt>Primary keyword</dt><dd><span class="keep-lines">release planning</span></dd>' in page
    )


def test_article_markdown_cannot_put_a_script_on_the_page(owner_client, org):
    run = _article(org, body=XSS_BODY)
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    article = _between(page, '<article class="card prose"', "</article>")
    assert "<h2>Plan</h2>" in article
    assert not LIVE_MARKUP.search(article), LIVE_MARKUP.search(article)
    assert "&lt;script&gt;" in article  # shown as text
    # Everywhere else on the page the text is escaped, never live markup.
    assert "<script>alert" not in page and "<img src=x onerror" not in page


def test_a_viewer_sees_the_result_but_no_use_in_links(client, org):
    run = _article(org)
    client.force_login(MembershipFactory(organization=org, role=Role.VIEWER).user)
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert '<article class="card prose"' in page and 'id="download-md"' in page
    assert "use_output_of" not in page


def test_a_completed_run_swapped_in_by_the_live_poll_shows_its_result(owner_client, org):
    run = _article(org)
    partial = owner_client.get(f"/runs/{run.id}/", headers={"HX-Request": "true"})
    body = partial.content.decode().strip()
    assert body.startswith('<div id="run-body"') and 'id="output-readable"' in body


def test_an_output_the_page_cannot_read_is_shown_raw(owner_client, org):
    run = _article(org)
    run.output = {"title": 5, "body": ["not", "markdown"]}
    run.save(update_fields=["output"])
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="output-readable"' not in page and '<h2 id="output-title">Output</h2>' in page
    assert "&quot;not&quot;" in page  # the raw JSON


def test_without_a_presenter_installed_the_page_shows_raw_json(owner_client, org, monkeypatch):
    monkeypatch.setattr(hooks, "_result_view", None)
    run = _article(org)
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="output-readable"' not in page and 'id="run-output"' in page


def test_an_seo_audit_shows_its_score_and_checklist(owner_client, org, run_now):
    html = (
        "<html><head><title>Hi</title></head><body><h1>Release</h1>"
        "<p>Release planning text.</p><img src=x></body></html>"
    )
    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="seo",
        intent="seo-audit",
        payload={"html": html, "keyword": "release planning"},
    )
    run.refresh_from_db()
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    score = re.search(r'id="result-score"><span class="value">(\d+)</span>', page)
    assert score and int(score.group(1)) == run.output["score"]
    assert '<h3 id="result-high-title">High priority' in page
    assert "<strong>Meta description</strong>: Add a meta description" in page
    assert '<h3 id="result-passed-title">Passed' in page


def test_a_social_post_over_the_limit_is_shown_as_an_error(owner_client, org):
    run = AgentRunFactory(
        organization=org,
        agent="social",
        intent="generate-post",
        status=RunStatus.COMPLETED,
        input={"content": "x", "platform": "twitter"},
        output={"content": "y" * 300, "hashtags": [], "model": "builtin"},
    )
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert 'class="card post-preview platform-twitter over-limit"' in page
    assert "300 / 280 characters: too long for X (Twitter)" in page


def test_download_the_article_as_markdown(owner_client, org):
    run = _article(org)
    response = owner_client.get(f"/runs/{run.id}/result.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="calm-releases-a-guide-{str(run.id)[:8]}.md"'
    )
    assert response.content.decode() == run.output["body"]


def test_download_the_article_as_sanitised_html(owner_client, org):
    run = _article(org, body=XSS_BODY, title="<b>Launch</b> & go")
    response = owner_client.get(f"/runs/{run.id}/result.html")
    doc = response.content.decode()
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="blaunchb-go-')
    assert (
        doc.startswith("<!doctype html>")
        and "<title>&lt;b&gt;Launch&lt;/b&gt; &amp; go</title>" in doc
    )
    assert "<h2>Plan</h2>" in doc
    assert not LIVE_MARKUP.search(doc), LIVE_MARKUP.search(doc)


def test_download_plain_text_keeps_its_lines_in_html(owner_client, org):
    run = AgentRunFactory(
        organization=org,
        agent="content",
        intent="repurpose",
        status=RunStatus.COMPLETED,
        output={"format": "linkedin", "content": "Line <one>\n• two"},
    )
    doc = owner_client.get(f"/runs/{run.id}/result.html").content.decode()
    assert "<p>Line &lt;one&gt;<br>• two</p>" in doc
    assert owner_client.get(f"/runs/{run.id}/result.md").content.decode() == "Line <one>\n• two"


def test_another_organizations_run_cannot_be_downloaded(owner_client, other_org):
    run = _article(other_org)
    assert owner_client.get(f"/runs/{run.id}/result.md").status_code == 404
    assert owner_client.get(f"/runs/{run.id}/result.html").status_code == 404


def test_runs_without_text_answer_404_and_unfinished_runs_409(owner_client, org):
    triage = AgentRunFactory(
        organization=org, status=RunStatus.COMPLETED, output={"category": "billing"}
    )
    assert owner_client.get(f"/runs/{triage.id}/result.md").status_code == 404
    running = _article(org)
    running.status, running.output = RunStatus.RUNNING, None
    running.save(update_fields=["status", "output"])
    response = owner_client.get(f"/runs/{running.id}/result.md")
    assert response.status_code == 409 and b"not finished" in response.content
    assert owner_client.get(f"/runs/{_article(org).id}/result.pdf").status_code == 404


def test_downloads_need_a_login(client, org):
    run = _article(org)
    response = client.get(f"/runs/{run.id}/result.md")
    assert response.status_code == 302 and "/login/" in response["Location"]

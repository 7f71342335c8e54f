"""SEOAgent: keyword research and on-page audits of real pages.

The original computed volumes and difficulty from a hash of the keyword.  Here a figure is
reported only when it has a real source: the audit measures the page it is given, and
search volume, competition and bids come from Google Ads Keyword Planner when the
organization has a Google Ads connector (``"source": "google_ads"``); otherwise they stay
``None`` (``"source": "none"``).  Difficulty is never estimated.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.utils import timezone
from pydantic import Field, model_validator

from agents.ads import keywords as ads_keywords
from agents.base import Agent, IntentInput, intent
from agents.checks import Checks, public_url
from agents.context import RunContext
from agents.seo import audit, keywords
from agents.seo.fetch import page_fetch
from neonhub.core.models import Organization

MAX_HTML_CHARS = 2 * 1024 * 1024


class KeywordResearchIn(IntentInput):
    seeds: list[str] = Field(default_factory=list, max_length=20)
    seed: str | None = Field(default=None, max_length=200)
    topic: str | None = Field(default=None, max_length=200)
    personaId: str | int | None = None
    limit: int = Field(default=40, le=100, description="Clamped to 15..100")
    competitorDomains: list[str] = Field(default_factory=list, max_length=20)
    createdById: str | None = None

    @model_validator(mode="after")
    def _needs_seed(self) -> KeywordResearchIn:
        if not self.all_seeds():
            raise ValueError("give seeds, seed or topic")
        return self

    def all_seeds(self) -> list[str]:
        raw = [*self.seeds, self.seed or "", self.topic or ""]
        return list(dict.fromkeys(" ".join(s.split()) for s in raw if s and s.strip()))


class SeoAuditIn(IntentInput):
    keyword: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=2000)
    html: str | None = Field(
        default=None, max_length=MAX_HTML_CHARS, description="Raw HTML to audit instead of a URL"
    )
    competitorDomains: list[str] = Field(default_factory=list, max_length=20)
    backlinkCount: int | None = Field(default=None, ge=0)
    domainAuthority: int | None = Field(default=None, ge=0, le=100)
    createdById: str | None = None

    @model_validator(mode="after")
    def _needs_target(self) -> SeoAuditIn:
        if not (self.keyword or self.url or self.html):
            raise ValueError("give a keyword, a url or html")
        return self


def _planner(ctx: RunContext, seeds: list[str], found: list[dict]) -> dict:
    """Real search volumes from the organization's Google Ads connector, when it has one.

    Each Keyword Planner call goes through the run's connector handle, so it is a recorded
    step; without a connector the figures stay ``None`` with ``"source": "none"``.
    """
    handle = ctx.connector(ads_keywords.PROVIDER, required=False)
    if handle is None:
        return {
            "source": "none",
            "suggestions": [],
            "connector": None,
            "note": "Search volume, difficulty and competition need a keyword data source; "
            "none is connected (add a Google Ads connector).",
        }
    texts = [k["keyword"] for k in found]
    metrics = handle.call("keyword_historical_metrics", {"keywords": texts}).output
    matched = ads_keywords.enrich(found, list(metrics.get("keywords") or []))
    ideas = handle.call("keyword_ideas", {"keywords": seeds[: ads_keywords.IDEAS_SEEDS]}).output
    sandbox = " (a sandbox connector: sample figures, not Google's)" if handle.sandbox else ""
    return {
        "source": "google_ads",
        "suggestions": ads_keywords.suggestions(list(ideas.get("keywords") or []), found),
        "connector": handle.connector.name,
        "note": f"Search volume, competition and top-of-page bids from Google Ads Keyword "
        f"Planner{sandbox} for {matched} of {len(found)} keywords; bids are in the Google Ads "
        "account's currency. Difficulty is not estimated.",
    }


def keyword_from_url(url: str) -> str:
    """The original's rule: the last path segment with - and _ as spaces, else the host."""
    parts = urlsplit(url)
    segment = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1]) if parts.path.strip("/") else ""
    segment = segment.rsplit(".", 1)[0] if "." in segment else segment
    words = " ".join(segment.replace("-", " ").replace("_", " ").split())
    return words or (parts.hostname or "").removeprefix("www.")


class SEOAgent(Agent):
    slug = "seo"
    name = "SEOAgent"
    version = "3.0.0"
    description = "Keyword research (expansion, intent, clusters) and on-page audits of real pages."

    @intent(
        "keyword-research", KeywordResearchIn, "Expand seed keywords, classify intent and cluster"
    )
    def keyword_research(self, ctx: RunContext, data: KeywordResearchIn) -> dict:
        seeds = data.all_seeds()
        limit = min(100, max(15, data.limit))
        with ctx.step("expand and classify") as rec:
            found = keywords.research(seeds, limit=limit, brand_terms=(ctx.organization.name,))
            rec.detail = {"seeds": len(seeds), "keywords": len(found["keywords"])}
        planner = _planner(ctx, seeds, found["keywords"])
        clusters = found["clusters"]
        ctx.metrics.update(clusters=len(clusters), totalKeywords=len(found["keywords"]))
        return {
            "jobId": str(ctx.run_id),
            "clusters": clusters,
            "suggestions": planner["suggestions"],
            "summary": {
                "totalKeywords": len(found["keywords"]),
                "totalClusters": len(clusters),
                "averageOpportunity": None,
                "personaId": data.personaId,
                "computedAt": timezone.now().isoformat(),
                "seedsAnalyzed": seeds,
                "competitorDomains": data.competitorDomains,
                "source": planner["source"],
                "note": planner["note"],
                **({"connector": planner["connector"]} if planner["connector"] else {}),
            },
        }

    def preflight_seo_audit(self, data: SeoAuditIn, *, organization: Organization) -> None:
        if data.url and not data.html:  # the run fetches it: a private address is refused now
            checks = Checks("The audit was not started")
            public_url(checks, data.url, field="payload.url", label="URL")
            checks.raise_any()

    @intent("seo-audit", SeoAuditIn, "Audit a page (URL or HTML) for on-page SEO")
    def seo_audit(self, ctx: RunContext, data: SeoAuditIn) -> dict:
        keyword = data.keyword or (keyword_from_url(data.url) if data.url else None)
        report = None
        if data.url or data.html:
            html, headers, url = data.html or "", {}, data.url
            if data.url and not data.html:
                page = page_fetch(data.url, recorder_step=ctx.step)
                html, headers, url = page.html, page.headers, page.url
            with ctx.step("analyse page"):
                report = audit.audit_html(html, url=url, keyword=keyword, headers=headers)
        return self._audit_output(ctx, data, keyword, report)

    @staticmethod
    def _audit_output(
        ctx: RunContext, data: SeoAuditIn, keyword: str | None, report: dict | None
    ) -> dict:
        issues = report["issues"] if report else _keyword_only_issues(keyword)
        content_quality = report["score"] if report else None
        ctx.metrics.update(
            difficulty=None,
            tier=None,
            score=content_quality,
            issues=len(issues),
            wordCount=report["content"]["wordCount"] if report else None,
        )
        return {
            "jobId": str(ctx.run_id),
            "keyword": keyword,
            "score": content_quality,
            # Difficulty needs SERP competition data; it is not estimated from nothing.
            "difficulty": None,
            "tier": None,
            "components": {
                "competition": None,
                "serpVolatility": None,
                "contentQuality": content_quality,
                "backlinkProfile": data.backlinkCount,
                "domainAuthority": data.domainAuthority,
                "domainAuthorityGap": None,
                "source": "page" if report else "none",
            },
            "recommendations": audit.recommendations(issues),
            "audit": {k: v for k, v in report.items() if k != "issues"} if report else None,
            "context": {
                "competitorDomains": data.competitorDomains,
                "referencedBacklinks": data.backlinkCount,
                "domainAuthority": data.domainAuthority,
                "calculatedAt": timezone.now().isoformat(),
            },
        }


def _keyword_only_issues(keyword: str | None) -> list[dict]:
    """With a keyword and no page: what a page targeting it needs."""
    word = keyword or ""
    intent, _ = keywords.classify_intent(word)
    shape = {
        "transactional": "a product or pricing page",
        "commercial": "a comparison or review page",
        "navigational": "the page people are looking for (home, login or product page)",
        "informational": "a guide or article answering the question",
    }[intent]
    return [
        {
            "check": "keyword",
            "priority": "high",
            "fix": f'Target "{word}" with {shape} ({intent} intent).',
        },
        {"check": "title", "priority": "high", "fix": f'Put "{word}" in a 30-60 character title.'},
        {
            "check": "headings",
            "priority": "medium",
            "fix": f'Use "{word}" in the page\'s single <h1>.',
        },
        {
            "check": "metaDescription",
            "priority": "medium",
            "fix": f'Write a 70-160 character meta description that mentions "{word}".',
        },
        {
            "check": "content",
            "priority": "low",
            "fix": "Audit the page itself: pass its url or html.",
        },
    ]

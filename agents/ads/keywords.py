"""Keyword Planner figures for the SEO agent's keyword research, from the Google Ads connector.

``keyword_historical_metrics`` gives each researched keyword its average monthly searches,
competition, competition index and top-of-page bid range; ``keyword_ideas`` adds suggestions
the seeds did not produce.  Bids come in micros of the Google Ads account's currency.
"""

from __future__ import annotations

from typing import Any

from agents.ads.digest import money

PROVIDER = "google_ads"
IDEAS_KEPT = 20
# Seeds sent for ideas in one request: the research's own seeds are at most 20 (plus a seed
# and a topic); one small request, as Keyword Planner requests are rate-limited per account.
IDEAS_SEEDS = 20  # suggestions shown beside the researched keywords, the most searched first


def _key(text: Any) -> str:
    return " ".join(str(text or "").lower().split())


def _bid(value: Any) -> float | None:
    return float(money(value)) if isinstance(value, int) and not isinstance(value, bool) else None


def figures(item: dict) -> dict:
    """One Keyword Planner answer as the research's fields."""
    volume = item.get("avg_monthly_searches")
    index = item.get("competition_index")
    return {
        "volume": volume if isinstance(volume, int) else None,
        "competition": item.get("competition") if item.get("competition") else None,
        "competitionIndex": index if isinstance(index, int) else None,
        "lowTopOfPageBid": _bid(item.get("low_top_of_page_bid_micros")),
        "highTopOfPageBid": _bid(item.get("high_top_of_page_bid_micros")),
        "monthlySearchVolumes": [
            v for v in item.get("monthly_search_volumes") or [] if isinstance(v, dict)
        ],
        "source": "google_ads",
    }


def enrich(keywords: list[dict], metrics: list[dict]) -> int:
    """Put the planner's figures on the researched keywords (in place); answers how many matched.

    Google answers keywords normalised (lower case, single spaces), so they are matched that way.
    """
    by_text = {_key(m.get("text")): m for m in metrics if isinstance(m, dict)}
    matched = 0
    for item in keywords:
        found = by_text.get(_key(item["keyword"]))
        if found is not None:
            item.update(figures(found))
            matched += 1
        else:
            item["source"] = "google_ads"  # asked, and Google has no figures for it
    return matched


def suggestions(ideas: list[dict], keywords: list[dict]) -> list[dict]:
    """Ideas that are not among the researched keywords, the most searched first."""
    known = {_key(k["keyword"]) for k in keywords}
    fresh = [
        {"keyword": _key(i.get("text")), **figures(i)}
        for i in ideas
        if isinstance(i, dict) and _key(i.get("text")) and _key(i.get("text")) not in known
    ]
    fresh.sort(key=lambda i: (-(i["volume"] or -1), i["keyword"]))
    unique = list({i["keyword"]: i for i in fresh}.values())
    return unique[:IDEAS_KEPT]
